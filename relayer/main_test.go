package relayer_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// net is a 2-chain devnet shared by the package's tests.
var net *devnet.Devnet

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	home, err := os.MkdirTemp("", "relayer-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	net, err = devnet.Start(ctx, devnet.Options{Home: home, ChainIDs: []string{"seoul-1", "bucheon-1"}, BlockTime: 200 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start devnet:", err)
		return 1
	}
	code := m.Run()
	if err := net.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop devnet:", err)
		return 1
	}
	return code
}

// chainClient returns a client of c signing with the named devnet key.
func chainClient(t testing.TB, c *devnet.Chain, keyName string) *cosmos.Client {
	t.Helper()
	cl, err := c.Client(keyName, devnet.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// lightClient returns a light client of c with its store in dir, trusting c's latest header.
func lightClient(t testing.TB, c *devnet.Chain, dir string) *light.Client {
	t.Helper()
	return lightClientVia(t, c.ChainID, c.RPCAddr, dir)
}

// lightClientVia is lightClient reaching the chain through rpc (a proxy).
func lightClientVia(t testing.TB, chainID, rpc, dir string) *light.Client {
	t.Helper()
	lc, err := light.New(context.Background(), light.Options{ChainID: chainID, Primary: rpc, TrustingPeriod: 24 * time.Hour,
		TrustLatest: true, StoreDir: dir, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatalf("light client of %s: %v", chainID, err)
	}
	t.Cleanup(func() { _ = lc.Close() })
	return lc
}

func end(t testing.TB, c *devnet.Chain, port, lightDir string) *relayer.End {
	return &relayer.End{Chain: chainClient(t, c, devnet.RelayerKey), Light: lightClient(t, c, lightDir), PortID: port}
}
