package testnet

import (
	"testing"

	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/light/qbft"
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

// EVMCity is EVM with a city's registry deployed on it (city's chain id, credential type credential).
func EVMCity(tb testing.TB, cfg evmdevnet.Config, city, credential string) (*evmdevnet.Chain, *evmdevnet.City) {
	tb.Helper()
	chain := EVM(tb, cfg)
	c, err := chain.DeployCity(city, credential)
	if err != nil {
		tb.Fatalf("deploy city %s: %v", city, err)
	}
	return chain, c
}

// TrustAt is chain's block at height as a trusted header: a trust root taken out of band.
func TrustAt(tb testing.TB, chain *evmdevnet.Chain, height uint64) qbft.TrustedHeader {
	tb.Helper()
	raw, err := chain.RawHeader(height)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := qbft.ParseHeader(raw)
	if err != nil {
		tb.Fatal(err)
	}
	trust, err := qbft.NewTrustedHeader(h)
	if err != nil {
		tb.Fatal(err)
	}
	return trust
}
