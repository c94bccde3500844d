package testnet

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/light"
)

// Light is a light client of chainID through rpc for the test, trusting the latest header, with its
// store in a test directory, a 24h trusting period and warnings logged to the test; tune, if set,
// changes the options first. It is closed when the test ends.
func Light(tb testing.TB, chainID, rpc string, tune func(*light.Options)) *light.Client {
	tb.Helper()
	o := light.Options{ChainID: chainID, Primary: rpc, TrustingPeriod: 24 * time.Hour, TrustLatest: true, StoreDir: tb.TempDir(),
		Logger: zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.WarnLevel)}
	if tune != nil {
		tune(&o)
	}
	lc, err := light.New(context.Background(), o)
	if err != nil {
		tb.Fatalf("light client of %s: %v", chainID, err)
	}
	tb.Cleanup(func() { _ = lc.Close() })
	return lc
}

// LightOf is Light of chain c through its own RPC address.
func LightOf(tb testing.TB, c *devnet.Chain) *light.Client {
	tb.Helper()
	return Light(tb, c.ChainID, c.RPCAddr, nil)
}
