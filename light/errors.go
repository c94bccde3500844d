package light

import (
	"errors"
	"fmt"
)

var (
	// ErrDivergence is returned when a witness serves a header that differs from the verified one.
	ErrDivergence = errors.New("witness diverges from the verified header")
	// ErrProofInvalid is returned when a proof does not match the verified app hash.
	ErrProofInvalid = errors.New("proof does not match the verified app hash")
	// ErrNoTrustRoot is returned when the store is empty and no trust height/hash nor --trust-latest was given.
	ErrNoTrustRoot = errors.New("no trusted header: set trust_height and trust_hash, or pass --trust-latest")
	// ErrStale is returned when the newest verified header is too old to answer from, or a witness
	// serves headers further ahead than that: the primary may be freezing its answers.
	ErrStale = errors.New("verified header is stale")
	// ErrHalted is returned by every verification of a light client that saw a witness diverge: until
	// an operator has checked the evidence and removed the halt file from the store directory, nothing
	// from the chain is trusted (the error also wraps ErrDivergence).
	ErrHalted = errors.New("light client halted after a divergence")
	// ErrChainIDMismatch is returned when the RPC serves another chain.
	ErrChainIDMismatch = errors.New("rpc serves another chain")
)

// VerificationError is a header the light client refused.
type VerificationError struct {
	ChainID string
	Height  int64
	Err     error
}

func (e *VerificationError) Error() string {
	if e.Height == 0 {
		return fmt.Sprintf("verify %s latest header: %v", e.ChainID, e.Err)
	}
	return fmt.Sprintf("verify %s header %d: %v", e.ChainID, e.Height, e.Err)
}

// Unwrap returns the cause (cometbft's light errors, ErrDivergence, ...).
func (e *VerificationError) Unwrap() error { return e.Err }

// ErrStoreInUse is returned by New when another process holds the light client's store (one process
// owns a store: the daemon, while it runs).
var ErrStoreInUse = errors.New("light client store in use")
