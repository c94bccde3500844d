package relayer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
)

// ErrNotLinked says why a channel found on a chain is not an open channel pair with the other chain:
// its counterparty does not point back, its client tracks another chain (or an impostor with the
// other chain's id), a state is not OPEN. Fetch skips such a channel with the reason.
var ErrNotLinked = errors.New("not an open channel pair")

// ErrCannotList is returned for a chain that cannot list its channels.
var ErrCannotList = errors.New("chain cannot list its channels")

// ChannelPair is an open channel between two chains, each end with its client, connection, channel
// and port, every id proven on its chain against a verified header.
type ChannelPair struct {
	A, B    PairEnd
	Version string
	Order   channeltypes.Order
}

// PairEnd is one end of a ChannelPair.
type PairEnd struct {
	ChainID, ClientID, ConnectionID, ChannelID, PortID string
}

// SkippedChannel is a channel of A Fetch did not take, and why.
type SkippedChannel struct {
	PortID, ChannelID string
	Err               error
}

// Fetch lists the OPEN channels between a's and b's chains (a and b need only Chain and Light; their
// ids are ignored). The list of a's channels is a node's answer (unproven: a node can hide a channel,
// never invent one); each channel taken is proven on both chains at a verified header of each:
//
//   - on A: the channel (OPEN, one hop), its connection (OPEN), its 07-tendermint client, whose chain id
//     is B's and whose latest consensus state is a header of B our light client verified (app hash,
//     next validators hash, time): a client of an impostor chain calling itself B holds no such state;
//   - on B: the counterparty channel (OPEN, pointing back at A's port and channel, over the connection
//     A's connection names, same order and version), its connection (OPEN, pointing back at A's
//     connection and client, over the client A's connection names), and that client, checked against
//     our light client of A the same way.
//
// Channels of A that go elsewhere are skipped quietly (not in skipped); those that claim B but fail a
// check are returned in skipped with the reason.
func Fetch(ctx context.Context, check ProofChecker, a, b *End) (pairs []ChannelPair, skipped []SkippedChannel, err error) {
	lister, ok := a.Chain.(chains.ChannelLister)
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", a.ChainID(), ErrCannotList)
	}
	listed, err := lister.Channels(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list channels of %s: %w", a.ChainID(), err)
	}
	sort.Slice(listed, func(i, j int) bool {
		x, y := listed[i], listed[j]
		if x.PortId != y.PortId {
			return x.PortId < y.PortId
		}
		if sx, sy := seqOf(x.ChannelId), seqOf(y.ChannelId); sx != sy {
			return sx < sy
		}
		return x.ChannelId < y.ChannelId
	})
	lbA, err := a.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("verify latest header of %s: %w", a.ChainID(), err)
	}
	lbB, err := b.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("verify latest header of %s: %w", b.ChainID(), err)
	}
	f := fetcher{check: check, a: a, b: b, lbA: lbA, lbB: lbB}
	for _, ic := range listed {
		if ic.State != channeltypes.OPEN {
			continue
		}
		pair, err := f.pair(ctx, ic.PortId, ic.ChannelId)
		switch {
		case err == nil:
			pairs = append(pairs, *pair)
		case errors.Is(err, errElsewhere):
		case errors.Is(err, ErrNotLinked), errors.Is(err, ErrNotTendermint):
			skipped = append(skipped, SkippedChannel{PortID: ic.PortId, ChannelID: ic.ChannelId, Err: err})
		default:
			return pairs, skipped, err
		}
	}
	return pairs, skipped, nil
}

func seqOf(id string) uint64 {
	n, err := channeltypes.ParseChannelSequence(id)
	if err != nil {
		return 0
	}
	return n
}

// errElsewhere: a channel of A whose client tracks another chain than B (not B's business).
var errElsewhere = errors.New("channel to another chain")

type fetcher struct {
	check    ProofChecker
	a, b     *End
	lbA, lbB *cmttypes.LightBlock
}

func notLinked(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotLinked, fmt.Sprintf(format, args...))
}

// proven reads a value of e's IBC store at lb and decodes it into v; absent is (false, nil).
func (f *fetcher) proven(ctx context.Context, e *End, lb *cmttypes.LightBlock, key []byte, v proto.Message) (bool, error) {
	p, err := e.provenAt(ctx, f.check, lb, ibcexported.StoreKey, key)
	if err != nil {
		return false, err
	}
	if p.Value == nil {
		return false, nil
	}
	if err := proto.Unmarshal(p.Value, v); err != nil {
		return false, notLinked("%s on %s does not decode: %v", key, e.ChainID(), err)
	}
	return true, nil
}

func (f *fetcher) pair(ctx context.Context, port, channel string) (*ChannelPair, error) {
	a, b := f.a, f.b
	// A's side.
	var chA channeltypes.Channel
	if ok, err := f.proven(ctx, a, f.lbA, host.ChannelKey(port, channel), &chA); err != nil || !ok {
		if err == nil {
			err = notLinked("channel %s/%s is not in %s's proven state", port, channel, a.ChainID())
		}
		return nil, err
	}
	if chA.State != channeltypes.OPEN || len(chA.ConnectionHops) != 1 {
		return nil, notLinked("channel %s/%s on %s is %s over %d hops", port, channel, a.ChainID(), chA.State, len(chA.ConnectionHops))
	}
	connA := chA.ConnectionHops[0]
	var cA connectiontypes.ConnectionEnd
	if ok, err := f.proven(ctx, a, f.lbA, host.ConnectionKey(connA), &cA); err != nil || !ok {
		if err == nil {
			err = notLinked("connection %s of %s/%s missing on %s", connA, port, channel, a.ChainID())
		}
		return nil, err
	}
	csA, err := f.client(ctx, a, f.lbA, cA.ClientId)
	if err != nil {
		return nil, err
	}
	if csA.ChainId != b.ChainID() {
		return nil, fmt.Errorf("%w: %s", errElsewhere, csA.ChainId)
	}
	if cA.State != connectiontypes.OPEN {
		return nil, notLinked("connection %s on %s is %s", connA, a.ChainID(), cA.State)
	}
	if err := f.matchesLight(ctx, a, f.lbA, cA.ClientId, csA, b); err != nil {
		return nil, err
	}
	// B's side: everything must point back.
	cpPort, cpChan := chA.Counterparty.PortId, chA.Counterparty.ChannelId
	var chB channeltypes.Channel
	if ok, err := f.proven(ctx, b, f.lbB, host.ChannelKey(cpPort, cpChan), &chB); err != nil || !ok {
		if err == nil {
			err = notLinked("its counterparty %s/%s does not exist on %s", cpPort, cpChan, b.ChainID())
		}
		return nil, err
	}
	switch {
	case chB.State != channeltypes.OPEN:
		return nil, notLinked("its counterparty %s/%s on %s is %s", cpPort, cpChan, b.ChainID(), chB.State)
	case chB.Counterparty.PortId != port || chB.Counterparty.ChannelId != channel:
		return nil, notLinked("its counterparty %s/%s on %s points at %s/%s, not back at it", cpPort, cpChan, b.ChainID(),
			chB.Counterparty.PortId, chB.Counterparty.ChannelId)
	case len(chB.ConnectionHops) != 1 || chB.ConnectionHops[0] != cA.Counterparty.ConnectionId:
		return nil, notLinked("its counterparty %s/%s on %s is over %v, not %s", cpPort, cpChan, b.ChainID(), chB.ConnectionHops, cA.Counterparty.ConnectionId)
	case chB.Ordering != chA.Ordering || chB.Version != chA.Version:
		return nil, notLinked("its counterparty %s/%s on %s is %s %q, not %s %q", cpPort, cpChan, b.ChainID(), chB.Ordering, chB.Version, chA.Ordering, chA.Version)
	}
	connB := cA.Counterparty.ConnectionId
	var cB connectiontypes.ConnectionEnd
	if ok, err := f.proven(ctx, b, f.lbB, host.ConnectionKey(connB), &cB); err != nil || !ok {
		if err == nil {
			err = notLinked("connection %s missing on %s", connB, b.ChainID())
		}
		return nil, err
	}
	switch {
	case cB.State != connectiontypes.OPEN:
		return nil, notLinked("connection %s on %s is %s", connB, b.ChainID(), cB.State)
	case cB.Counterparty.ConnectionId != connA || cB.Counterparty.ClientId != cA.ClientId || cB.ClientId != cA.Counterparty.ClientId:
		return nil, notLinked("connection %s on %s (client %s) points at %s/%s on %s, not at %s/%s", connB, b.ChainID(), cB.ClientId,
			cB.Counterparty.ConnectionId, cB.Counterparty.ClientId, a.ChainID(), connA, cA.ClientId)
	}
	csB, err := f.client(ctx, b, f.lbB, cB.ClientId)
	if err != nil {
		return nil, err
	}
	if csB.ChainId != a.ChainID() {
		return nil, notLinked("client %s on %s tracks %s, not %s", cB.ClientId, b.ChainID(), csB.ChainId, a.ChainID())
	}
	if err := f.matchesLight(ctx, b, f.lbB, cB.ClientId, csB, a); err != nil {
		return nil, err
	}
	return &ChannelPair{
		A:       PairEnd{ChainID: a.ChainID(), ClientID: cA.ClientId, ConnectionID: connA, ChannelID: channel, PortID: port},
		B:       PairEnd{ChainID: b.ChainID(), ClientID: cB.ClientId, ConnectionID: connB, ChannelID: cpChan, PortID: cpPort},
		Version: chA.Version, Order: chA.Ordering,
	}, nil
}

// client proves e's client clientID at lb and decodes it (a client that is not 07-tendermint is
// ErrNotTendermint).
func (f *fetcher) client(ctx context.Context, e *End, lb *cmttypes.LightBlock, clientID string) (*ibctm.ClientState, error) {
	var any clientAny
	ok, err := f.proven(ctx, e, lb, host.FullClientStateKey(clientID), &any)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notLinked("client %s missing on %s", clientID, e.ChainID())
	}
	cs, err := decodeClientState(any.TypeUrl, any.Value)
	if err != nil {
		return nil, fmt.Errorf("client %s on %s: %w", clientID, e.ChainID(), err)
	}
	return cs, nil
}

// matchesLight checks that e's client clientID (state cs, proven at lb) is a client of tracked's
// chain: not frozen, and its latest consensus state (proven at lb) is the header our light client of
// tracked verified at that height.
func (f *fetcher) matchesLight(ctx context.Context, e *End, lb *cmttypes.LightBlock, clientID string, cs *ibctm.ClientState, tracked *End) error {
	if !cs.FrozenHeight.IsZero() {
		return notLinked("client %s on %s is frozen at %s", clientID, e.ChainID(), cs.FrozenHeight)
	}
	h := cs.LatestHeight
	if want := tracked.height(int64(h.RevisionHeight)); h.RevisionNumber != want.RevisionNumber {
		return notLinked("client %s on %s is at revision %d, %s is at %d", clientID, e.ChainID(), h.RevisionNumber, tracked.ChainID(), want.RevisionNumber)
	}
	var any clientAny
	ok, err := f.proven(ctx, e, lb, host.FullConsensusStateKey(clientID, h), &any)
	if err != nil {
		return err
	}
	if !ok {
		return notLinked("client %s on %s has no consensus state at its latest height %s", clientID, e.ChainID(), h)
	}
	cons, err := decodeConsensusState(&End{Chain: e.Chain, ClientID: clientID}, h, any.TypeUrl, any.Value)
	if err != nil {
		return err
	}
	vh, err := verifyNamedHeight(ctx, tracked.Light, int64(h.RevisionHeight))
	if err != nil {
		return notLinked("client %s on %s: our light client of %s cannot verify its latest height %d: %v", clientID, e.ChainID(),
			tracked.ChainID(), h.RevisionHeight, err)
	}
	if !bytes.Equal(cons.Root.GetHash(), vh.AppHash) || !bytes.Equal(cons.NextValidatorsHash, vh.NextValidatorsHash) || !cons.Timestamp.Equal(vh.Time) {
		return notLinked("client %s on %s holds a state of %s at %d that is not the header our light client verified there (an impostor chain with its id?)",
			clientID, e.ChainID(), tracked.ChainID(), h.RevisionHeight)
	}
	return nil
}
