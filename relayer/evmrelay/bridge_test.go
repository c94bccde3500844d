package evmrelay

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cityrelay/cityrelay/chains"
)

func TestFailureReason(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"chain's refusal", fmt.Errorf("submit: %w", &chains.TxError{ChainID: "bucheon-1", Codespace: "did", Code: 21}), "refused"},
		{"event contradicted by storage", fmt.Errorf("gimpo-evm: %w", ErrEventMismatch), "refused"},
		{"no Issued event", ErrNoIssue, "refused"},
		// Alone in its tx: it will not fit on another try either (the operator raises max_gas and
		// re-queues it from the dead letters).
		{"too large for one tx", fmt.Errorf("bucheon-1: 2 messages need 95000000 gas, max_gas is 90000000: %w", chains.ErrTxTooLarge), "refused"},
		{"node down", errors.New("dial tcp 127.0.0.1:8545: connection refused"), "transient"},
	} {
		if got := failureReason(c.err); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
