package testnet

import (
	"testing"

	"github.com/cityrelay/cityrelay/chains/evmdevnet"
)

// StartEVM starts an EVM (QBFT) devnet with cfg. It is the one place that starts EVM devnets.
func StartEVM(cfg evmdevnet.Config) (*evmdevnet.Chain, error) { return evmdevnet.Start(cfg) }

// EVM starts an EVM devnet for the test and closes it when the test ends (a failed close fails the test).
func EVM(tb testing.TB, cfg evmdevnet.Config) *evmdevnet.Chain {
	tb.Helper()
	c, err := StartEVM(cfg)
	if err != nil {
		tb.Fatalf("start evm devnet: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Errorf("close evm devnet: %v", err)
		}
	})
	return c
}
