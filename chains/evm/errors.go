package evm

import (
	"errors"
	"fmt"

	"github.com/cityrelay/cityrelay/chains"
)

var (
	// ErrNoTrustRoot is returned by Dial when the store is empty and no trusted header was given.
	ErrNoTrustRoot = errors.New("no trusted header: give a trust root (height, time, hash, validators)")
	// ErrChainIDMismatch is returned when a node serves another chain than the configured one.
	ErrChainIDMismatch = errors.New("node serves another chain")
	// ErrWitnessMismatch is what a ForkError wraps: a witness serves, at a verified height, another
	// block that verifies from the trusted state too (a fork, or an attack with the validators' keys).
	ErrWitnessMismatch = chains.ErrWitnessMismatch
	// ErrWitnessFaulty is a witness serving another block at a verified height that does not verify
	// from the trusted state (not sealed by a quorum, or by too few of the verified validators): the
	// witness lies, not a fork. It confirms nothing; nothing halts.
	ErrWitnessFaulty = errors.New("witness serves a block that does not verify")
	// ErrNoWitness is returned when witnesses are configured and none of them confirmed a header.
	ErrNoWitness = errors.New("no witness confirmed the header")
	// ErrHashMismatch is returned when a node serves a block whose hash differs from one already
	// trusted (the trusted header itself, or the parent hash of a verified child), and when a trust
	// root's validators or time are not those of the block with its hash.
	ErrHashMismatch = errors.New("block hash differs from the trusted one")
	// ErrNotVerified is returned for a question about heights or headers this client has not verified
	// (logs past the newest verified header, a VerifiedHeader it did not produce).
	ErrNotVerified = errors.New("not verified")
	// ErrInvalidResponse is returned when a node's answer is malformed or not what was asked (another
	// block number, missing storage results, logs of another contract).
	ErrInvalidResponse = errors.New("invalid node response")
)

// ForkError is a witness serving, at a height the client verified, another header sealed by a quorum
// of its validators (chains.EvmForkError). It wraps ErrWitnessMismatch.
type ForkError = chains.EvmForkError

// VerificationError is a header the client could not verify, with the chain and height.
type VerificationError struct {
	ChainID uint64
	Height  uint64
	Err     error
}

func (e *VerificationError) Error() string {
	return fmt.Sprintf("evm chain %d: verify block %d: %v", e.ChainID, e.Height, e.Err)
}

// Unwrap returns the cause (qbft's errors, ErrWitnessMismatch, ErrHashMismatch, ...).
func (e *VerificationError) Unwrap() error { return e.Err }
