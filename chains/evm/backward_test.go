package evm

import (
	"context"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

// TestVerifyBackwardOnGethLinkedChain: on a chain whose blocks link by keccak256 of the full header
// (go-ethereum's hashing: evmdevnet), a block below the trusted one is verified by its verified child's
// parent hash, as on a Besu chain (linked by the QBFT hash). It failed with ErrHashMismatch when only
// the QBFT hash was compared.
func TestVerifyBackwardOnGethLinkedChain(t *testing.T) {
	chain, city := testnet.EVMCity(t, evmdevnet.Config{ChainID: 7101, Validators: 4, Seed: "backward"}, "backward-evm", "residency")
	for i := 0; i < 4; i++ {
		if _, err := chain.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	top := chain.Height()
	trust := testnet.TrustAt(t, chain, top)
	c, err := Dial(context.Background(), Config{ChainID: chain.ChainID(), RPC: chain.RPCURL(), Registry: city.Registry,
		RegistryCodeHash: contracts.RuntimeCodeHashFor(chain.ChainID()), TrustingPeriod: 24 * time.Hour, StoreDir: t.TempDir()}, trust)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	below := top - 3
	vh, err := c.VerifiedHeader(context.Background(), below)
	if err != nil {
		t.Fatalf("block %d below the trusted %d: %v", below, top, err)
	}
	want, err := chain.RawHeader(below)
	if err != nil {
		t.Fatal(err)
	}
	if vh.Height != below || string(vh.RLP) != string(want) {
		t.Fatalf("block %d: got height %d and another header", below, vh.Height)
	}
}
