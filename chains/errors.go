package chains

import (
	"errors"
	"fmt"
)

var (
	// ErrTxFailed is returned when a transaction was refused by the chain (before or after it was
	// included in a block). A refusal is a *TxError, which wraps it.
	ErrTxFailed = errors.New("transaction failed")
	// ErrTxTimeout is returned when a broadcast transaction was not committed in time. The tx may still
	// be committed later: callers must check before re-sending.
	ErrTxTimeout = errors.New("transaction not committed in time")
	// ErrTxTooLarge is returned, before anything is broadcast, for a tx that needs more gas or more
	// bytes than the chain accepts: callers split the messages over several txs.
	ErrTxTooLarge = errors.New("tx too large")
	// ErrSequenceMismatch is the Reason of a *TxError refused for a wrong account sequence (nonce).
	ErrSequenceMismatch = errors.New("account sequence mismatch")
	// ErrNotFound is returned by queries for state that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoSuchStore is returned by a store query naming a store the chain does not have (a module it
	// does not run: the did store on an IBC chain that is not a city chain).
	ErrNoSuchStore = errors.New("no such store")
	// ErrSimulation marks a tx whose gas simulation failed (nothing was broadcast): matched with
	// errors.Is beside a *TxError when the chain refused it in simulation.
	ErrSimulation = errors.New("simulation failed")
)

// SimulationError wraps the error of a failed gas simulation: its text is the error's own, it
// unwraps to it and is ErrSimulation.
type SimulationError struct{ Err error }

func (e *SimulationError) Error() string        { return e.Err.Error() }
func (e *SimulationError) Unwrap() error        { return e.Err }
func (e *SimulationError) Is(target error) bool { return target == ErrSimulation }

// TxError is a transaction refused by the chain, with the chain kind's code for the refusal.
type TxError struct {
	ChainID string
	TxHash  string
	// Codespace and Code are the chain's code of the refusal (for a Cosmos SDK chain, the ABCI
	// codespace and code).
	Codespace string
	Code      uint32
	Log       string
	// Checked is true when the chain refused it before including it (nothing was committed).
	Checked bool
	// Reason is the refusal's neutral class when the chain kind knows it (ErrSequenceMismatch), or nil.
	Reason error
}

func (e *TxError) Error() string {
	phase := "deliver"
	if e.Checked {
		phase = "check"
	}
	return fmt.Sprintf("%s tx %s: %s code %s/%d: %s", e.ChainID, e.TxHash, phase, e.Codespace, e.Code, e.Log)
}

// Unwrap makes errors.Is(err, ErrTxFailed) true, and errors.Is(err, e.Reason) when Reason is set.
func (e *TxError) Unwrap() []error {
	if e.Reason != nil {
		return []error{ErrTxFailed, e.Reason}
	}
	return []error{ErrTxFailed}
}
