package cosmos

import (
	"errors"
	"fmt"
	"strings"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/cityrelay/cityrelay/chains"
)

// The errors of the chains roles, under the names this package has always used: errors.Is matches
// either name.
var (
	// ErrTxFailed is returned when a transaction was refused in CheckTx or failed in DeliverTx.
	ErrTxFailed = chains.ErrTxFailed
	// ErrTxTimeout is returned when a broadcast transaction was not committed in time. The tx may still
	// be committed later: callers must check before re-sending.
	ErrTxTimeout = chains.ErrTxTimeout
	// ErrNotFound is returned by queries for state that does not exist.
	ErrNotFound = chains.ErrNotFound
	// ErrTxTooLarge is returned, before anything is broadcast, for a tx that needs more gas than the
	// client's MaxGas or more bytes than the node accepts: callers split the messages over several txs.
	ErrTxTooLarge = chains.ErrTxTooLarge
)

var (
	// ErrNoEndpoint is returned when every RPC endpoint of a chain failed.
	ErrNoEndpoint = errors.New("no rpc endpoint answered")
	// ErrNotIndexed is returned when a node's tx index has not reached a block in time.
	ErrNotIndexed = errors.New("block not indexed yet")
)

// TxError is a transaction refused by the chain, with its ABCI codespace and code (chains.TxError).
type TxError = chains.TxError

// txError is a refusal with its ABCI codespace and code, its neutral Reason set when it has one.
func txError(chainID, hash, codespace string, code uint32, log string, checked bool) *TxError {
	e := &TxError{ChainID: chainID, TxHash: hash, Codespace: codespace, Code: code, Log: log, Checked: checked}
	if isSequenceMismatch(e) {
		e.Reason = chains.ErrSequenceMismatch
	}
	return e
}

// isSequenceMismatch reports whether the chain refused the tx for a wrong account sequence.
func isSequenceMismatch(e *TxError) bool {
	return e.Codespace == sdkerrors.ErrWrongSequence.Codespace() && e.Code == sdkerrors.ErrWrongSequence.ABCICode()
}

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

// Is makes a query naming a store the chain does not run (the store's "no such store: <name>",
// code store/4 or, wrapped by the SDK, sdk/6) chains.ErrNoSuchStore.
func (e *QueryError) Is(target error) bool {
	return target == chains.ErrNoSuchStore && (e.Codespace == "store" || e.Codespace == sdkerrors.ErrUnknownRequest.Codespace()) &&
		strings.Contains(e.Log, "no such store: ")
}
