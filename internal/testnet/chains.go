package testnet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
)

// BlockTime is the block interval of test chains: fast enough for tests, slow enough for two shared cores.
const BlockTime = 200 * time.Millisecond

// StartTimeout bounds starting a devnet (every chain past height 2).
const StartTimeout = 2 * time.Minute

// Start starts a devnet with o; a zero BlockTime is BlockTime. It is the one place that starts devnets.
func Start(ctx context.Context, o devnet.Options) (*devnet.Devnet, error) {
	if o.BlockTime == 0 {
		o.BlockTime = BlockTime
	}
	return devnet.Start(ctx, o)
}

// Chains starts city chains ids for the test (home in a test directory, BlockTime blocks) and stops them
// when it ends.
func Chains(tb testing.TB, ids ...string) *devnet.Devnet {
	tb.Helper()
	return ChainsWith(tb, devnet.Options{ChainIDs: ids})
}

// ChainsWith is Chains with o (an empty Home is a test directory, a zero BlockTime is BlockTime).
func ChainsWith(tb testing.TB, o devnet.Options) *devnet.Devnet {
	tb.Helper()
	if o.Home == "" {
		o.Home = tb.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	net, err := Start(ctx, o)
	if err != nil {
		tb.Fatalf("start devnet %v: %v", o.ChainIDs, err)
	}
	tb.Cleanup(func() { _ = net.Stop() })
	return net
}

// Shared is a devnet started once for a whole test binary by Main: *Net is set before the tests run.
type Shared struct {
	Net     **devnet.Devnet
	Options devnet.Options // Home is set by Main
	// Ready, if set, is called with the started devnet before the tests run.
	Ready func(*devnet.Devnet)
}

// Main is a test binary's TestMain: it starts the shared devnets, runs the tests, stops the devnets and
// removes what the harness built (Build); it exits with the tests' code (1 if a devnet fails to start or
// stop).
func Main(m *testing.M, shared ...Shared) {
	os.Exit(run(m, shared))
}

func run(m *testing.M, shared []Shared) (code int) {
	defer removeBuilds()
	home, err := os.MkdirTemp("", "testnet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(home)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	for i, s := range shared {
		o := s.Options
		o.Home = filepath.Join(home, fmt.Sprint(i))
		net, err := Start(ctx, o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "start devnet:", err)
			return 1
		}
		defer func() {
			if err := net.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "stop devnet:", err)
				code = 1
			}
		}()
		if s.Net != nil {
			*s.Net = net
		}
		if s.Ready != nil {
			s.Ready(net)
		}
	}
	return m.Run()
}

// Client is a client of c signing with the named devnet key.
func Client(tb testing.TB, c *devnet.Chain, key string) *cosmos.Client {
	tb.Helper()
	return ClientWith(tb, c, key, devnet.ClientOptions{})
}

// ClientWith is Client with o (another RPC address, no gRPC, a gas cap).
func ClientWith(tb testing.TB, c *devnet.Chain, key string, o devnet.ClientOptions) *cosmos.Client {
	tb.Helper()
	cl, err := c.Client(key, o)
	if err != nil {
		tb.Fatalf("client of %s as %s: %v", c.ChainID, key, err)
	}
	return cl
}
