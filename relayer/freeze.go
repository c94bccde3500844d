package relayer

import (
	"context"
	"errors"

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

// FreezeTarget is a client of a forked chain on a path: the client on the end across from an end on
// that chain.
type FreezeTarget struct {
	Path   string
	Client Client
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
			out = append(out, FreezeTarget{Path: p.Name, Client: Client{Dst: dst, Src: src}})
		}
	}
	return out
}

// Freeze submits the fork as misbehaviour to t's client (Client.SubmitMisbehaviour) and reports the
// outcome.
func (t FreezeTarget) Freeze(ctx context.Context, fork *light.Fork) MisbehaviourReport {
	tx, err := t.Client.SubmitMisbehaviour(ctx, fork)
	dst := t.Client.Dst
	return MisbehaviourReport{Path: t.Path, Chain: dst.ChainID(), ClientID: dst.ClientID, Height: fork.Height, Tx: tx, Err: err}
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
