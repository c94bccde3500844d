package cosmos

import (
	"errors"
	"fmt"
)

var (
	// ErrTxFailed is returned when a transaction was refused in CheckTx or failed in DeliverTx.
	ErrTxFailed = errors.New("transaction failed")
	// ErrTxTimeout is returned when a broadcast transaction was not committed in time. The tx may still
	// be committed later: callers must check before re-sending.
	ErrTxTimeout = errors.New("transaction not committed in time")
	// ErrNoEndpoint is returned when every RPC endpoint of a chain failed.
	ErrNoEndpoint = errors.New("no rpc endpoint answered")
	// ErrNotFound is returned by queries for state that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrTxTooLarge is returned, before anything is broadcast, for a tx that needs more gas than the
	// client's MaxGas or more bytes than the node accepts: callers split the messages over several txs.
	ErrTxTooLarge = errors.New("tx too large")
	// ErrNotIndexed is returned when a node's tx index has not reached a block in time.
	ErrNotIndexed = errors.New("block not indexed yet")
)

// TxError is a transaction refused by the chain, with its ABCI codespace and code.
type TxError struct {
	ChainID   string
	TxHash    string
	Codespace string
	Code      uint32
	Log       string
	// Checked is true when CheckTx refused it (nothing was committed).
	Checked bool
}

func (e *TxError) Error() string {
	phase := "deliver"
	if e.Checked {
		phase = "check"
	}
	return fmt.Sprintf("%s tx %s: %s code %s/%d: %s", e.ChainID, e.TxHash, phase, e.Codespace, e.Code, e.Log)
}

// Unwrap makes errors.Is(err, ErrTxFailed) true.
func (e *TxError) Unwrap() error { return ErrTxFailed }

// IsSequenceMismatch reports whether the chain refused the tx for a wrong account sequence.
func (e *TxError) IsSequenceMismatch() bool { return e.Codespace == "sdk" && e.Code == 32 }

// QueryError is an abci_query the chain answered with an error code.
type QueryError struct {
	ChainID   string
	Path      string
	Codespace string
	Code      uint32
	Log       string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("%s query %s: code %s/%d: %s", e.ChainID, e.Path, e.Codespace, e.Code, e.Log)
}
