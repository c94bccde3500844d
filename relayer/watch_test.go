package relayer_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// lyingBlocks serves a block's txs with one more, made up: a MsgUpdateClient carrying the header
// extra, as a node that lies about a block would.
type lyingBlocks struct {
	relayer.Chain
	extra *codectypes.Any
}

func (l lyingBlocks) BlockClientUpdates(ctx context.Context, h int64, clientID string) ([][]byte, []chains.ClientUpdateMsg, error) {
	txs, ups, err := l.Chain.(chains.BlockUpdateReader).BlockClientUpdates(ctx, h, clientID)
	if err != nil {
		return nil, nil, err
	}
	txs = append(txs, []byte("a tx no block holds"))
	return txs, append(ups, chains.ClientUpdateMsg{TxIndex: len(txs) - 1, TxHash: "FF", Signer: "city1someone", ClientMessage: l.extra}), nil
}

// judgeNever fails the test if anything is judged.
type judgeNever struct{ t *testing.T }

func (j judgeNever) CheckConflict(context.Context, *cmttypes.LightBlock, string) error {
	j.t.Error("a header judged from an unproven block")
	return nil
}

// Others' MsgUpdateClient to bucheon-1's client of seoul-1, read from bucheon-1's blocks and judged by
// our light client of seoul-1: a genuine header agrees (and our own updates are not judged); a block
// whose txs a node made up is judged not at all; a conflicting header whose signature is garbage is
// no evidence and halts nothing; a validly signed conflicting header at a new height (accepted by the
// chain) halts the light client, which hands the fork over with that header.
func TestOthersClientUpdatesJudged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	c := relayer.Client{Dst: p.B, Src: p.A}
	lc, ok := p.A.Light.(*light.Client)
	if !ok {
		t.Fatalf("seoul-1's light client is a %T", p.A.Light)
	}
	forks := make(chan *light.Fork, 2)
	lc.SetOnDivergence(func(f *light.Fork) { forks <- f })
	other := testnet.Client(t, bucheon, devnet.Relayer2Key)
	otherAddr, err := other.Address(ctx)
	if err != nil {
		t.Fatal(err)
	}
	headers := func() (*ibctm.Header, *ibctm.Header) {
		t.Helper()
		typeURL, value, err := other.ClientState(ctx, p.B.ClientID)
		var cs ibctm.ClientState
		if err != nil || typeURL != "/"+proto.MessageName(&cs) || proto.Unmarshal(value, &cs) != nil {
			t.Fatalf("client %s: %s %v", p.B.ClientID, typeURL, err)
		}
		now, err := lc.VerifyLatest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h := max(int64(cs.LatestHeight.RevisionHeight), now.Height) + 3
		if err := seoul.WaitHeight(ctx, h+1); err != nil {
			t.Fatal(err)
		}
		mb, err := seoul.Misbehaviour(ctx, p.B.ClientID, cs.LatestHeight, h)
		if err != nil {
			t.Fatal(err)
		}
		return mb.Header1, mb.Header2
	}
	anyOf := func(h *ibctm.Header) *codectypes.Any {
		a, err := codectypes.NewAnyWithValue(h)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	update := func(h *ibctm.Header) int64 {
		t.Helper()
		res, err := other.Send(ctx, &clienttypes.MsgUpdateClient{ClientId: p.B.ClientID, ClientMessage: anyOf(h), Signer: otherAddr})
		if err != nil {
			t.Fatalf("update by another signer: %v", err)
		}
		return res.Height
	}

	genuine, _ := headers()
	at := update(genuine)
	checks, err := c.CheckUpdates(ctx, at, lc, bucheon.Relayer.Address)
	if err != nil || len(checks) != 1 || checks[0].Outcome != relayer.UpdateAgrees || checks[0].Signer != otherAddr ||
		checks[0].HeaderHeight != int64(genuine.GetHeight().GetRevisionHeight()) {
		t.Fatalf("a genuine update by another signer: %+v %v, want one that agrees", checks, err)
	}
	if err := bucheon.WaitHeight(ctx, at+2); err != nil { // a header that commits to the update's state
		t.Fatal(err)
	}
	if h, err := c.CheckLatestConsensus(ctx); err != nil || h != int64(genuine.GetHeight().GetRevisionHeight()) {
		t.Fatalf("the client's latest consensus state after a genuine update: %d %v, want it agreeing at %d", h, err, genuine.GetHeight().GetRevisionHeight())
	}
	if mine, err := c.CheckUpdates(ctx, at, lc, otherAddr); err != nil || len(mine) != 0 {
		t.Fatalf("our own update judged: %+v %v", mine, err)
	}

	// A conflicting header at a new height (at the genuine one's the chain would freeze the client itself).
	_, forged := headers()

	// A node that makes a tx up (with a validly signed forged header in it): the block's txs do not
	// hash to the verified header's data hash; nothing is judged.
	liar := relayer.Client{Dst: &relayer.End{Chain: lyingBlocks{Chain: p.B.Chain, extra: anyOf(forged)}, Light: p.B.Light, ClientID: p.B.ClientID}, Src: p.A}
	if checks, err := liar.CheckUpdates(ctx, at, judgeNever{t}, ""); !errors.Is(err, relayer.ErrUnprovenBlock) || len(checks) != 0 {
		t.Fatalf("made-up txs: %+v %v, want ErrUnprovenBlock", checks, err)
	}

	// A conflicting header with a garbage signature (what an update_client event could carry): no
	// evidence, no halt.
	garbled := proto.Clone(forged).(*ibctm.Header)
	garbled.SignedHeader.Commit.Signatures[0].Signature[0] ^= 0xff
	sh, err := cmttypes.SignedHeaderFromProto(garbled.SignedHeader)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := cmttypes.ValidatorSetFromProto(garbled.ValidatorSet)
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.CheckConflict(ctx, &cmttypes.LightBlock{SignedHeader: sh, ValidatorSet: vals}, "a test's event"); !errors.Is(err, light.ErrNotEvidence) || lc.Halted() != nil {
		t.Fatalf("a garbage-signed conflicting header: %v (halted: %v), want ErrNotEvidence and no halt", err, lc.Halted())
	}

	// The forged header at a new height, by another signer: the chain takes it; we catch it.
	at = update(forged)
	// What a watch starting now finds first: the client's latest consensus state is not our header's.
	if err := bucheon.WaitHeight(ctx, at+2); err != nil {
		t.Fatal(err)
	}
	if h, err := c.CheckLatestConsensus(ctx); !errors.Is(err, relayer.ErrConsensusConflict) || h != int64(forged.GetHeight().GetRevisionHeight()) || lc.Halted() != nil {
		t.Fatalf("the client's latest consensus state after a forged update: %d %v, want ErrConsensusConflict at %d (and no halt from it alone)", h, err, forged.GetHeight().GetRevisionHeight())
	}
	checks, err = c.CheckUpdates(ctx, at, lc, bucheon.Relayer.Address)
	if err != nil || len(checks) != 1 || checks[0].Outcome != relayer.UpdateConflict || !errors.Is(checks[0].Err, light.ErrHalted) {
		t.Fatalf("a forged update by another signer: %+v %v, want a conflict that halts", checks, err)
	}
	if lc.Halted() == nil {
		t.Fatal("seoul-1's light client not halted")
	}
	select {
	case f := <-forks:
		fh, err := cmttypes.SignedHeaderFromProto(forged.SignedHeader)
		if err != nil {
			t.Fatal(err)
		}
		if f.ChainID != "seoul-1" || f.Height != fh.Height || !bytes.Equal(f.Conflicting.Hash(), fh.Hash()) || bytes.Equal(f.Verified.Hash(), fh.Hash()) {
			t.Fatalf("fork %s at %d: want the forged header at %d against the verified one", f.ChainID, f.Height, fh.Height)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no fork handed over")
	}
	if ds := lc.Divergences(); len(ds) == 0 || !strings.HasPrefix(ds[0].Witness, light.OutsideSourcePrefix+"MsgUpdateClient of "+p.B.ClientID) ||
		!strings.Contains(ds[0].Witness, otherAddr) || ds[0].Evidence == "" {
		t.Fatalf("divergences listed (the console's): %+v, want the update's tx and signer with evidence", ds)
	}
	// Halted: later updates are not judged.
	if checks, err := c.CheckUpdates(ctx, at, lc, bucheon.Relayer.Address); err != nil || len(checks) != 1 || checks[0].Outcome != relayer.UpdateHalted {
		t.Fatalf("after the halt: %+v %v, want halted", checks, err)
	}
}
