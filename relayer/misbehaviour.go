package relayer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/light"
)

var (
	// ErrNotMisbehaviour is returned when a fork's conflicting header is not evidence against the
	// chain: not signed by validators the client trusts (a witness lied, the chain did not fork). The
	// chain would refuse it; nothing is submitted.
	ErrNotMisbehaviour = errors.New("conflicting header is not misbehaviour")
	// ErrClientFrozen is returned when the client to freeze is frozen already.
	ErrClientFrozen = errors.New("client already frozen")
)

// SubmitMisbehaviour freezes dst's client of the forked chain: it submits the fork's two headers as
// 07-tendermint misbehaviour (a MsgUpdateClient signed by the relayer key on dst's chain), if they are
// misbehaviour for that client (ErrNotMisbehaviour otherwise, and nothing is sent).
func SubmitMisbehaviour(ctx context.Context, dst *End, fork *light.Fork) (*TxInfo, error) {
	mb, err := misbehaviour(ctx, dst, fork, time.Now())
	if err != nil {
		return nil, err
	}
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := clienttypes.NewMsgUpdateClient(dst.ClientID, mb, signer)
	if err != nil {
		return nil, fmt.Errorf("build misbehaviour of %s for %s on %s: %w", fork.ChainID, dst.ClientID, dst.ChainID(), err)
	}
	res, err := dst.Chain.Send(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("submit misbehaviour of %s at %d to %s on %s: %w", fork.ChainID, fork.Height, dst.ClientID, dst.ChainID(), err)
	}
	return txInfo(res, 0, 1, 0), nil
}

// misbehaviour builds the fork's misbehaviour for dst's client and checks it as the client will:
// both headers verified from a consensus state the client holds below the fork (its latest, if
// below), with the validators that state trusts. The client's state is read without a proof: the
// chain checks the misbehaviour against its own state, so a node that lies about it only makes the
// submission fail.
func misbehaviour(ctx context.Context, dst *End, fork *light.Fork, now time.Time) (*ibctm.Misbehaviour, error) {
	cs, err := clientState(ctx, dst.Chain, dst.ClientID)
	if err != nil {
		return nil, err
	}
	if cs.ChainId != fork.ChainID {
		return nil, fmt.Errorf("client %s on %s tracks %s, not %s: %w", dst.ClientID, dst.ChainID(), cs.ChainId, fork.ChainID, ErrWrongClient)
	}
	if !cs.FrozenHeight.IsZero() {
		return nil, fmt.Errorf("client %s of %s on %s: %w", dst.ClientID, fork.ChainID, dst.ChainID(), ErrClientFrozen)
	}
	trusted, err := trustedBelow(ctx, dst, cs, fork.Height)
	if err != nil {
		return nil, err
	}
	typeURL, value, err := dst.Chain.ConsensusState(ctx, dst.ClientID, trusted)
	if err != nil {
		return nil, fmt.Errorf("consensus state of %s at %s on %s: %w", dst.ClientID, trusted, dst.ChainID(), err)
	}
	cons, err := decodeConsensusState(dst, trusted, typeURL, value)
	if err != nil {
		return nil, err
	}
	if now.Sub(cons.Timestamp) >= cs.TrustingPeriod {
		return nil, fmt.Errorf("client %s on %s: its consensus state at %s, below the fork of %s at %d, is past its trusting period",
			dst.ClientID, dst.ChainID(), trusted, fork.ChainID, fork.Height)
	}
	next, err := fork.ValidatorsAt(ctx, int64(trusted.RevisionHeight)+1, cons.NextValidatorsHash)
	if err != nil {
		return nil, fmt.Errorf("trusted validators of %s at %d: %w", fork.ChainID, trusted.RevisionHeight+1, err)
	}
	h1, err := tmHeader(fork.ChainID, fork.Verified, trusted, next)
	if err != nil {
		return nil, err
	}
	h2, err := tmHeader(fork.ChainID, fork.Conflicting, trusted, next)
	if err != nil {
		return nil, err
	}
	notEvidence := func(err error) error {
		return fmt.Errorf("%s at %d (witness %s) for client %s on %s: %w: %w", fork.ChainID, fork.Height, fork.Witness, dst.ClientID, dst.ChainID(), ErrNotMisbehaviour, err)
	}
	if bytes.Equal(fork.Verified.Hash(), fork.Conflicting.Hash()) || fork.Verified.Height != fork.Conflicting.Height {
		return nil, notEvidence(errors.New("the headers do not conflict at one height"))
	}
	mb := ibctm.NewMisbehaviour(dst.ClientID, h1, h2)
	// Each header signed by +2/3 of its validator set, whose hash it carries.
	if err := mb.ValidateBasic(); err != nil {
		return nil, notEvidence(err)
	}
	// And by at least the client's trust level of the validators it trusts.
	for i, lb := range []*cmttypes.LightBlock{fork.Verified, fork.Conflicting} {
		if err := next.VerifyCommitLightTrusting(fork.ChainID, lb.Commit, cs.TrustLevel.ToTendermint()); err != nil {
			return nil, notEvidence(fmt.Errorf("header %d not signed by the validators the client trusts: %w", i+1, err))
		}
	}
	return mb, nil
}

// trustedBelow is the height of a consensus state dst's client holds below h: its latest, if below,
// else the highest below h of its revision.
func trustedBelow(ctx context.Context, dst *End, cs *ibctm.ClientState, h int64) (clienttypes.Height, error) {
	if int64(cs.LatestHeight.RevisionHeight) < h {
		return cs.LatestHeight, nil
	}
	heights, err := dst.Chain.ConsensusHeights(ctx, dst.ClientID)
	if err != nil {
		return clienttypes.Height{}, fmt.Errorf("consensus heights of %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	var best clienttypes.Height
	for _, ch := range heights {
		if ch.RevisionNumber == cs.LatestHeight.RevisionNumber && int64(ch.RevisionHeight) < h && ch.GT(best) {
			best = ch
		}
	}
	if best.IsZero() {
		return best, fmt.Errorf("client %s on %s holds no consensus state below %d", dst.ClientID, dst.ChainID(), h)
	}
	return best, nil
}

// MisbehaviourReport is one client's outcome in FreezeClients.
type MisbehaviourReport struct {
	Path string
	// Chain and ClientID are the client frozen (or not): on Chain, tracking the forked chain.
	Chain    string
	ClientID string
	Height   int64
	// Tx is the submission (nil if nothing was sent); Err why not (ErrNotMisbehaviour: not evidence,
	// ErrClientFrozen: frozen already, ErrWrongClient: the client tracks another chain; anything else
	// may pass on a later attempt: Retryable).
	Tx  *TxInfo
	Err error
}

// Retryable says whether the submission failed for a reason a later attempt may not meet (the
// node of the client's chain unreachable, say): not ErrNotMisbehaviour, ErrClientFrozen or
// ErrWrongClient, which another attempt would meet again.
func (r MisbehaviourReport) Retryable() bool {
	return r.Err != nil && !errors.Is(r.Err, ErrNotMisbehaviour) && !errors.Is(r.Err, ErrClientFrozen) && !errors.Is(r.Err, ErrWrongClient)
}

// FreezeTarget is a client of a forked chain on a path: Dst's client, across from an end on that chain.
type FreezeTarget struct {
	Path string
	Dst  *End
}

// FreezeTargets are the clients of forked the paths have (the end across from an end on that
// chain), once per client.
func FreezeTargets(paths []*Path, forked string) []FreezeTarget {
	var out []FreezeTarget
	done := map[[2]string]bool{}
	for _, p := range paths {
		for _, pair := range [][2]*End{{p.A, p.B}, {p.B, p.A}} {
			dst, src := pair[0], pair[1]
			key := [2]string{dst.ChainID(), dst.ClientID}
			if src.ChainID() != forked || dst.ClientID == "" || done[key] {
				continue
			}
			done[key] = true
			out = append(out, FreezeTarget{Path: p.Name, Dst: dst})
		}
	}
	return out
}

// Freeze submits the fork as misbehaviour to t's client (SubmitMisbehaviour) and reports the outcome.
func (t FreezeTarget) Freeze(ctx context.Context, fork *light.Fork) MisbehaviourReport {
	tx, err := SubmitMisbehaviour(ctx, t.Dst, fork)
	return MisbehaviourReport{Path: t.Path, Chain: t.Dst.ChainID(), ClientID: t.Dst.ClientID, Height: fork.Height, Tx: tx, Err: err}
}

// FreezeClients submits the fork as misbehaviour to every client of the forked chain the paths have
// (FreezeTargets), once per client, and reports each outcome.
func FreezeClients(ctx context.Context, paths []*Path, fork *light.Fork) []MisbehaviourReport {
	var out []MisbehaviourReport
	for _, t := range FreezeTargets(paths, fork.ChainID) {
		out = append(out, t.Freeze(ctx, fork))
	}
	return out
}
