package relayer

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/light"
)

// Watching others' client updates. Anyone may submit a MsgUpdateClient to a client we relay over; a
// header that conflicts with what our light client of the client's chain verifies at that height, and
// that is validly signed by the validators the client trusts, is a fork of that chain (or an attack on
// its clients): misbehaviour. What is trusted: not the update_client event (a node's hint of where to
// look), not the block's txs until their Merkle root equals the DataHash of the header of Dst our light
// client verified, and not the header in the message until the light client of Src finds it signed by
// the validators it trusts (light.Client.CheckConflict). A conflict halts that light client, which hands
// both headers over as a fork (OnDivergence: the daemon's fork watch submits them as misbehaviour to
// every client of the chain and counts it); the chain checks the misbehaviour once more.

var (
	// ErrUnprovenBlock is returned when the txs a node serves for a block do not hash to the
	// DataHash of the verified header: nothing in them is judged.
	ErrUnprovenBlock = errors.New("block txs do not match the verified header")
	// ErrNoUpdateReader is returned for a chain that cannot serve its blocks' client updates.
	ErrNoUpdateReader = errors.New("chain cannot read client updates from its blocks")
)

// ConflictChecker judges a header of a chain that came from outside against its light client
// (light.Client.CheckConflict).
type ConflictChecker interface {
	CheckConflict(ctx context.Context, x *cmttypes.LightBlock, source string) error
}

// Outcomes of a watched client update.
const (
	UpdateAgrees      = "agrees"       // the header is the one our light client verifies
	UpdateConflict    = "conflict"     // a validly signed conflicting header: the light client halted on a fork
	UpdateNotEvidence = "not_evidence" // a conflicting header that does not verify (refused by the chain anyway)
	UpdatePending     = "pending"      // our light client could not verify that height yet: judge again later
	UpdateOther       = "other"        // not a 07-tendermint header (misbehaviour someone submitted, another type)
	UpdateHalted      = "halted"       // our light client of Src is halted already (a fork seen before): nothing judged
	UpdateOverLimit   = "over_limit"   // beyond MaxJudgedPerBlock others' updates to one client in one block: not judged
)

// MaxJudgedPerBlock bounds the others' updates to one client judged in one block: each costs signature
// checks (and, for a validly signed one, RPC calls), and a block can hold as many as its gas allows.
const MaxJudgedPerBlock = 16

// UpdateCheck is one MsgUpdateClient to a client we relay over, judged.
type UpdateCheck struct {
	Chain, ClientID string // the client, on Dst
	Height          int64  // Dst's block that holds the tx
	TxHash, Signer  string
	HeaderHeight    int64 // the header's height (of Src)
	Outcome         string
	Err             error
}

// CheckUpdates judges every MsgUpdateClient to c's client in block h of Dst signed by another key
// than own (our relayer's address on Dst; "" judges ours too): the block's txs are proven against
// Dst's verified header at h, and each header is handed to judge, Src's light client. An error
// (the block unreadable or unproven) judges nothing; the block can be read again.
func (c Client) CheckUpdates(ctx context.Context, h int64, judge ConflictChecker, own string) ([]UpdateCheck, error) {
	dst, src := c.Dst, c.Src
	reader, ok := dst.Chain.(chains.BlockUpdateReader)
	if !ok {
		return nil, fmt.Errorf("%s: %w", dst.ChainID(), ErrNoUpdateReader)
	}
	// The block is proven whenever read, even when all its updates turn out ours: a node that swapped
	// another's tx for ours would otherwise go unnoticed.
	verified, err := verifyNamedHeight(ctx, dst.Light, h)
	if err != nil {
		return nil, fmt.Errorf("verify %s header %d: %w", dst.ChainID(), h, err)
	}
	txs, updates, err := reader.BlockClientUpdates(ctx, h, dst.ClientID)
	if err != nil {
		return nil, err
	}
	all := make(cmttypes.Txs, len(txs))
	for i, tx := range txs {
		all[i] = tx
	}
	if !bytes.Equal(all.Hash(), verified.DataHash) {
		return nil, fmt.Errorf("%s block %d: %w (%d txs hash to %X, the header's data hash is %X)", dst.ChainID(), h, ErrUnprovenBlock, len(txs), all.Hash(), verified.DataHash)
	}
	others := updates[:0:0]
	for _, u := range updates {
		if own == "" || u.Signer != own {
			others = append(others, u)
		}
	}
	var out []UpdateCheck
	judged := 0
	for _, u := range others {
		if u.TxIndex < 0 || u.TxIndex >= len(txs) {
			continue
		}
		r := UpdateCheck{Chain: dst.ChainID(), ClientID: dst.ClientID, Height: h, TxHash: u.TxHash, Signer: u.Signer}
		if judged >= MaxJudgedPerBlock {
			r.Outcome, r.Err = UpdateOverLimit, fmt.Errorf("more than %d others' updates to %s in block %d: not judged", MaxJudgedPerBlock, dst.ClientID, h)
			out = append(out, r)
			continue
		}
		judged++
		lb, err := updateHeader(u)
		if err != nil {
			r.Outcome, r.Err = UpdateOther, err
			out = append(out, r)
			continue
		}
		r.HeaderHeight = lb.Height
		source := fmt.Sprintf("MsgUpdateClient of %s on %s at %d, tx %s by %s", dst.ClientID, dst.ChainID(), h, u.TxHash, u.Signer)
		switch err := judge.CheckConflict(ctx, lb, source); {
		case err == nil:
			r.Outcome = UpdateAgrees
		case errors.Is(err, light.ErrOutsideConflict):
			r.Outcome, r.Err = UpdateConflict, err
		case errors.Is(err, light.ErrHalted):
			r.Outcome, r.Err = UpdateHalted, err
		case errors.Is(err, light.ErrNotEvidence):
			r.Outcome, r.Err = UpdateNotEvidence, err
		default:
			r.Outcome, r.Err = UpdatePending, err
		}
		if r.Outcome == UpdateNotEvidence && lb.ChainID != src.ChainID() {
			r.Outcome = UpdateOther // a header of another chain: the client refuses it, not our concern
		}
		out = append(out, r)
	}
	return out, nil
}

// updateHeader is the light block of a MsgUpdateClient's 07-tendermint header.
func updateHeader(u chains.ClientUpdateMsg) (*cmttypes.LightBlock, error) {
	if u.ClientMessage.TypeUrl != "/"+proto.MessageName(&ibctm.Header{}) {
		return nil, fmt.Errorf("client message of type %s: not a 07-tendermint header", u.ClientMessage.TypeUrl)
	}
	var h ibctm.Header
	if err := proto.Unmarshal(u.ClientMessage.Value, &h); err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	if h.SignedHeader == nil || h.ValidatorSet == nil {
		return nil, errors.New("header without signed header or validators")
	}
	sh, err := cmttypes.SignedHeaderFromProto(h.SignedHeader)
	if err != nil {
		return nil, fmt.Errorf("signed header: %w", err)
	}
	vals, err := cmttypes.ValidatorSetFromProto(h.ValidatorSet)
	if err != nil {
		return nil, fmt.Errorf("validators: %w", err)
	}
	return &cmttypes.LightBlock{SignedHeader: sh, ValidatorSet: vals}, nil
}

// WatchedClients are the clients the paths relay over, each once, keyed by Dst's chain: for each
// chain, the clients on it (of the chain across the path).
func WatchedClients(paths []*Path) map[string][]Client {
	out := map[string][]Client{}
	done := map[[2]string]bool{}
	for _, p := range paths {
		for _, pair := range [][2]*End{{p.A, p.B}, {p.B, p.A}} {
			dst, src := pair[0], pair[1]
			key := [2]string{dst.ChainID(), dst.ClientID}
			if dst.ClientID == "" || done[key] {
				continue
			}
			done[key] = true
			out[dst.ChainID()] = append(out[dst.ChainID()], Client{Dst: dst, Src: src})
		}
	}
	return out
}

// ErrConsensusConflict is returned by CheckLatestConsensus when the client's latest consensus state
// differs from the header our light client verifies at its height.
var ErrConsensusConflict = errors.New("the client's latest consensus state differs from our verified header")

// CheckLatestConsensus compares the client's latest consensus state, read with a proof at a verified
// header of Dst, with Src's header our light client verifies at that height (app hash, next
// validators hash, time). Someone updated the client with a header we do not know when they differ:
// it returns that height and ErrConsensusConflict (the update's tx is then found and judged,
// CheckUpdates: only its signed header can prove a fork). It catches, at start, a conflicting update
// made while no watch ran. A frozen client is ErrClientFrozen.
func (c Client) CheckLatestConsensus(ctx context.Context) (int64, error) {
	dst, src := c.Dst, c.Src
	cs, at, err := c.committed(ctx)
	if err != nil {
		return 0, err
	}
	h := int64(cs.LatestHeight.RevisionHeight)
	if !cs.FrozenHeight.IsZero() {
		return h, fmt.Errorf("client %s of %s on %s: %w", dst.ClientID, src.ChainID(), dst.ChainID(), ErrClientFrozen)
	}
	cons, err := c.consensusState(ctx, at, cs.LatestHeight)
	if err != nil {
		return h, err
	}
	lb, err := verifyNamedHeight(ctx, src.Light, h)
	if err != nil {
		return h, fmt.Errorf("verify %s header %d: %w", src.ChainID(), h, err)
	}
	if !bytes.Equal(cons.Root.GetHash(), lb.AppHash) || !bytes.Equal(cons.NextValidatorsHash, lb.NextValidatorsHash) || !cons.Timestamp.Equal(lb.Time) {
		return h, fmt.Errorf("client %s on %s at %s: app hash %X, ours %X: %w", dst.ClientID, dst.ChainID(), cs.LatestHeight, cons.Root.GetHash(), []byte(lb.AppHash), ErrConsensusConflict)
	}
	return h, nil
}
