package testnet

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// CLI runs the cityrelay command line (in-process) with stdin and returns its output.
type CLI func(stdin string, args ...string) (string, error)

// HomeOptions shape an operator home.
type HomeOptions struct {
	// Dir is the home directory; "" is a test directory.
	Dir string
	// Mnemonic is the relayer key restored on chain c; nil is the devnet's relayer key (c.Relayer).
	Mnemonic func(c *devnet.Chain) string
	// RPC is the RPC address configured for chain c; nil is c.RPCAddr.
	RPC func(c *devnet.Chain) string
	// ChainArgs are further `chains add` flags (e.g. --max-gas).
	ChainArgs []string
	// Restored, if set, is called with the output of each `keys restore`.
	Restored func(c *devnet.Chain, out string)
}

// Home is a relayer home set up from the CLI as an operator does for a devnet.
type Home struct {
	Dir  string
	Flag []string // --home Dir
	tb   testing.TB
	cli  CLI
}

// OperatorHome sets a home up as an operator does: `config init`, then for each chain `chains add` (its
// RPC and gRPC, the devnet's gas price, the test keyring, --devnet, a 48h trusting period) and
// `keys restore` of the relayer key.
func OperatorHome(tb testing.TB, cli CLI, chains []*devnet.Chain, o HomeOptions) *Home {
	tb.Helper()
	if o.Dir == "" {
		o.Dir = tb.TempDir()
	}
	h := &Home{Dir: o.Dir, Flag: []string{"--home", o.Dir}, tb: tb, cli: cli}
	h.Must("", "config", "init")
	for _, c := range chains {
		rpc, mnemonic := c.RPCAddr, c.Relayer.Mnemonic
		if o.RPC != nil {
			rpc = o.RPC(c)
		}
		if o.Mnemonic != nil {
			mnemonic = o.Mnemonic(c)
		}
		h.Must("", append([]string{"chains", "add", c.ChainID, "--rpc", rpc, "--grpc", c.GRPCAddr, "--gas-price", devnet.MinGasPrice,
			"--keyring-backend", "test", "--devnet", "--trusting-period", "48h"}, o.ChainArgs...)...)
		out := h.Must(mnemonic+"\n", "keys", "restore", c.ChainID, "relayer")
		if o.Restored != nil {
			o.Restored(c, out)
		}
	}
	return h
}

// Run runs the CLI on the home (args after --home).
func (h *Home) Run(stdin string, args ...string) (string, error) {
	return h.cli(stdin, append(append([]string{}, h.Flag...), args...)...)
}

// Must is Run failing the test on an error.
func (h *Home) Must(stdin string, args ...string) string {
	h.tb.Helper()
	out, err := h.Run(stdin, args...)
	if err != nil {
		h.tb.Fatalf("cityrelay %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Config is the home's config.
func (h *Home) Config() *config.Config {
	h.tb.Helper()
	cfg, err := config.Load(filepath.Join(h.Dir, "config.toml"))
	if err != nil {
		h.tb.Fatal(err)
	}
	return cfg
}

// LinkCities links the did path name (already in the config) as an operator does: `tx link
// --trust-latest` creates the clients and the connection and stops at the city registries, each city's
// registry admin (the devnet's) recognises the other city's client (RegisterPath), and `tx link` runs
// again to open the channel.
func (h *Home) LinkCities(net *devnet.Devnet, name string) {
	h.tb.Helper()
	if _, err := h.Run("", "tx", "link", name, "--trust-latest"); !errors.Is(err, relayer.ErrCityNotRegistered) {
		h.tb.Fatalf("link %s before registration: want it to stop at the city registries, got %v", name, err)
	}
	RegisterPath(h.tb, net, h.Config().Paths[name], name)
	if _, err := h.Run("", "tx", "link", name); err != nil {
		h.tb.Fatalf("link %s: %v", name, err)
	}
}

// RegisterPath does what each city's registry admin does after link stops on a did path: recognise the
// client that tracks the other city (the path's saved ids). It waits for the header that commits to the
// entries.
func RegisterPath(tb testing.TB, net *devnet.Devnet, pc *config.Path, name string) {
	tb.Helper()
	if pc == nil {
		tb.Fatalf("no path %s in the config", name)
	}
	ctx := context.Background()
	for _, e := range [][2]config.PathEnd{{pc.Src, pc.Dst}, {pc.Dst, pc.Src}} {
		on, city := net.Chain(e[0].Chain), e[1].Chain
		if e[0].ClientID == "" {
			tb.Fatalf("path %s: no client on %s yet", name, on.ChainID)
		}
		h, err := on.RegisterCity(ctx, city, e[0].ClientID)
		if err != nil {
			tb.Fatal(err)
		}
		if err := on.WaitHeight(ctx, h+1); err != nil {
			tb.Fatal(err)
		}
	}
}
