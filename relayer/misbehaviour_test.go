package relayer_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	lighthttp "github.com/cometbft/cometbft/light/provider/http"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// TestForkFreezesCounterpartyClients: Seoul's light client has, beside an honest witness, a witness
// serving at height h (above Bucheon's client of Seoul) a header conflicting with the committed one.
// When that witness merely lies (its header's signature is garbage), the header does not verify from
// the trusted state: the witness is faulty, the light client verifies h through the honest witness,
// does not halt and hands nothing over; nothing is sent to Bucheon and its client stays Active. When
// the conflicting header is signed by Seoul's validator key (Seoul forked), the light client halts,
// the two headers are submitted to Bucheon as misbehaviour, and Bucheon's client of Seoul is Frozen.
func TestForkFreezesCounterpartyClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	bucheon := net.Chain("bucheon-1")
	querier := testnet.Client(t, bucheon, devnet.RelayerKey)
	status := func() string {
		t.Helper()
		var st clienttypes.QueryClientStatusResponse
		if err := querier.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ClientStatus", &clienttypes.QueryClientStatusRequest{ClientId: p.B.ClientID}, &st, 0); err != nil {
			t.Fatal(err)
		}
		return st.Status
	}
	sequence := func() uint64 {
		t.Helper()
		var res authtypes.QueryAccountResponse
		if err := querier.QueryGRPC(ctx, "/cosmos.auth.v1beta1.Query/Account", &authtypes.QueryAccountRequest{Address: bucheon.Relayer.Address}, &res, 0); err != nil {
			t.Fatal(err)
		}
		var acc authtypes.BaseAccount
		if err := proto.Unmarshal(res.Account.Value, &acc); err != nil {
			t.Fatal(err)
		}
		return acc.Sequence
	}

	// A lying witness: no halt, no fork handed over, no submission.
	seqBefore := sequence()
	if fork := forkSeen(t, ctx, p, true); fork != nil {
		t.Fatalf("a garbage-signed conflicting header handed over as a fork at %d", fork.Height)
	}
	if st := status(); st != string(ibcexported.Active) {
		t.Fatalf("client %s after a lying witness: status %s, want Active", p.B.ClientID, st)
	}
	if seq := sequence(); seq != seqBefore {
		t.Fatalf("the relayer's account on bucheon-1 sent %d txs for a lying witness", seq-seqBefore)
	}

	// A fork: halt, misbehaviour submitted, the client frozen.
	fork := forkSeen(t, ctx, p, false)
	reports := relayer.FreezeClients(ctx, []*relayer.Path{p}, fork)
	if len(reports) != 1 || reports[0].Err != nil || reports[0].Tx == nil || reports[0].Chain != "bucheon-1" || reports[0].ClientID != p.B.ClientID ||
		reports[0].Height != fork.Height {
		t.Fatalf("a validly signed conflicting header: want misbehaviour submitted to %s on bucheon-1: %+v", p.B.ClientID, reports)
	}
	t.Logf("fork at %d: misbehaviour in tx %s at bucheon-1 height %d", fork.Height, reports[0].Tx.Hash, reports[0].Tx.Height)
	if st := status(); st != string(ibcexported.Frozen) {
		t.Fatalf("client %s after the fork's misbehaviour: status %s, want Frozen", p.B.ClientID, st)
	}
	// Submitted again (another witness, another restart): nothing is sent.
	if again := relayer.FreezeClients(ctx, []*relayer.Path{p}, fork); len(again) != 1 || again[0].Tx != nil || !errors.Is(again[0].Err, relayer.ErrClientFrozen) {
		t.Fatalf("a frozen client: want ErrClientFrozen, got %+v", again)
	}
}

// forkSeen runs a light client of Seoul whose witnesses are Seoul's node (under another address) and
// a ForkingProxy serving a conflicting header at a height h above p.B's client of Seoul and the light
// client's root (its signature garbled with scramble). Without scramble, verifying h halts the light
// client; it returns the fork OnDivergence received, after checking its headers. With scramble, h
// verifies through the honest witness, the forking one is faulty, nothing halts and it returns nil
// once no fork came.
func forkSeen(t testing.TB, ctx context.Context, p *relayer.Path, scramble bool) *light.Fork {
	t.Helper()
	seoul := net.Chain("seoul-1")
	typeURL, value, err := p.B.Chain.ClientState(ctx, p.B.ClientID)
	var cs ibctm.ClientState
	if err != nil || typeURL != "/"+proto.MessageName(&cs) || proto.Unmarshal(value, &cs) != nil {
		t.Fatalf("client %s on bucheon-1: %s %v", p.B.ClientID, typeURL, err)
	}
	honest, err := lighthttp.New(seoul.ChainID, seoul.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	now, err := honest.LightBlock(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := max(int64(cs.LatestHeight.RevisionHeight), now.Height) + 10
	proxy, err := seoul.ForkingProxy(h, scramble)
	if err != nil {
		t.Fatal(err)
	}
	witness := httptest.NewServer(proxy)
	t.Cleanup(witness.Close)
	u, err := url.Parse(seoul.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	forks := make(chan *light.Fork, 2)
	lc := testnet.Light(t, seoul.ChainID, seoul.RPCAddr, func(o *light.Options) {
		o.Witnesses = []string{"http://localhost:" + u.Port(), witness.URL}
		o.OnDivergence = func(f *light.Fork) { forks <- f }
	})
	if root, err := lc.TrustedHeight(); err != nil || root >= h {
		t.Fatalf("light client root %d (%v): want below the forged height %d", root, err, h)
	}
	if err := seoul.WaitHeight(ctx, h+1); err != nil {
		t.Fatal(err)
	}
	if scramble {
		lb, err := lc.VerifyHeight(ctx, h)
		if err != nil || lc.Halted() != nil {
			t.Fatalf("header %d with an honest and a lying witness: %v (halted: %v), want it verified", h, err, lc.Halted())
		}
		if ws := lc.Witnesses(); len(ws) != 2 || ws[0].State != light.WitnessAgrees || ws[1].State != light.WitnessFaulty || ws[1].Height != h {
			t.Fatalf("witnesses after a lying witness at %d: %+v", h, ws)
		}
		if committed, err := honest.LightBlock(ctx, h); err != nil || !bytes.Equal(lb.Hash(), committed.Hash()) {
			t.Fatalf("header %d verified with a lying witness is not the committed one (%v)", h, err)
		}
		select {
		case f := <-forks:
			t.Fatalf("a fork handed over for a lying witness at %d", f.Height)
		case <-time.After(500 * time.Millisecond):
		}
		return nil
	}
	if _, err := lc.VerifyHeight(ctx, h); !errors.Is(err, light.ErrHalted) || !errors.Is(err, light.ErrDivergence) {
		t.Fatalf("header %d with a forking witness: want ErrHalted and ErrDivergence, got %v", h, err)
	}
	var fork *light.Fork
	select {
	case fork = <-forks:
	case <-time.After(10 * time.Second):
		t.Fatal("the halted light client did not hand over the fork")
	}
	committed, err := honest.LightBlock(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if fork.ChainID != seoul.ChainID || fork.Height != h || fork.Verified == nil || fork.Conflicting == nil ||
		!bytes.Equal(fork.Verified.Hash(), committed.Hash()) || fork.Conflicting.Height != h || bytes.Equal(fork.Conflicting.Hash(), committed.Hash()) ||
		fork.Witness != light.RedactURL(witness.URL) {
		t.Fatalf("fork: %s at %d from %s, want the committed header of %d and the witness %s's conflicting one", fork.ChainID, fork.Height, fork.Witness, h, witness.URL)
	}
	select {
	case again := <-forks:
		t.Fatalf("a second fork handed over: %d", again.Height)
	case <-time.After(200 * time.Millisecond):
	}
	return fork
}
