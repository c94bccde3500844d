// Package assemble is the relayer's composition root: it opens the chains of the config, with their
// keyrings and light clients, and hands the rest of the relayer their roles (Chain, EvmCity, the ends
// of each path). It is the one package under relayer/ that knows the concrete chain kinds
// (chains/cosmos, chains/evm); everything else takes the interfaces it consumes.
package assemble

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/evm"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/light/qbft"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/keys"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// ErrUnknown is returned for a chain or path the config does not have.
var ErrUnknown = errors.New("not in the config")

// Chain is a configured Cosmos chain as the rest of the relayer sees it: the roles of package chains
// that the relayer, the daemon, the console and the commands use.
type Chain interface {
	relayer.Chain
	chains.Balancer
	chains.StatusReader
	chains.StoreQuerier
}

// EvmCity is a configured EVM city as the rest of the relayer sees it: its verifying light client's
// headers, registry proofs and logs (evmrelay.Source, verify.EvmHeaders), its trusted header and
// its witnesses (for the console and the metrics).
type EvmCity interface {
	Latest(ctx context.Context) (*chains.EvmHeader, error)
	VerifiedHeader(ctx context.Context, height uint64) (*chains.EvmHeader, error)
	RegistryProof(ctx context.Context, vh *chains.EvmHeader, slots []common.Hash) (*chains.RegistryProof, error)
	Logs(ctx context.Context, from, to uint64, topics [][]common.Hash) ([]types.Log, error)
	WitnessLogs(ctx context.Context, from, to uint64, topics [][]common.Hash) ([]types.Log, int, error)
	RegistryBlooms(ctx context.Context, top *chains.EvmHeader, from uint64) (map[uint64]types.Bloom, error)
	Trusted() qbft.TrustedHeader
	Witnesses() []light.WitnessStatus
}

// Where the concrete kinds meet their roles.
var (
	_ Chain               = (*cosmos.Client)(nil)
	_ EvmCity             = (*evm.Client)(nil)
	_ chains.HeaderSource = (*light.Client)(nil)
)

// Options say how to open the runtime.
type Options struct {
	Home string
	// TrustLatest lets a light client with an empty store and no trust root start from the chain's
	// latest header (the operator's explicit --trust-latest).
	TrustLatest bool
	// Passphrase unlocks file keyrings; empty means prompt on Input.
	Passphrase string
	Input      io.Reader
	Log        zerolog.Logger
}

// Runtime holds the opened chains.
type Runtime struct {
	mu     sync.Mutex // guards the maps: the daemon's HTTP handlers open chains concurrently
	cfg    *config.Config
	o      Options
	chains map[string]*cosmos.Client
	lights map[string]*light.Client
	evms   map[string]*evm.Client
	algos  map[string]string // chain id → the relayer key's algorithm, when not secp256k1 (keyalgo.go)
}

// Open prepares the runtime; chains are opened on first use.
func Open(cfg *config.Config, o Options) *Runtime {
	return &Runtime{cfg: cfg, o: o, chains: map[string]*cosmos.Client{}, lights: map[string]*light.Client{},
		evms: map[string]*evm.Client{}}
}

// Close closes the light client stores.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, l := range r.lights {
		errs = append(errs, l.Close())
	}
	for _, e := range r.evms {
		e.Close()
	}
	return errors.Join(errs...)
}

// Chain returns the client of a configured chain.
func (r *Runtime) Chain(id string) (Chain, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.chain(id)
	if err != nil {
		return nil, err // not a nil *cosmos.Client in a non-nil Chain
	}
	return r.withAlgoCheck(id, c), nil
}

func (r *Runtime) chain(id string) (*cosmos.Client, error) {
	if c, ok := r.chains[id]; ok {
		return c, nil
	}
	cc, ok := r.cfg.Chains[id]
	if !ok {
		return nil, fmt.Errorf("chain %s: %w", id, ErrUnknown)
	}
	kr, err := keys.Open(keys.Options{Home: r.o.Home, ChainID: id, Backend: cc.KeyringBackend, Devnet: cc.Devnet,
		Passphrase: r.o.Passphrase, Input: r.o.Input})
	if err != nil {
		return nil, err
	}
	r.noteKeyAlgo(id, kr, cc.KeyName)
	enc, err := cosmos.NewEncoding(cc.AccountPrefix, didtypes.RegisterInterfaces, qbftclient.RegisterInterfaces)
	if err != nil {
		return nil, err
	}
	price, err := sdk.ParseDecCoin(cc.GasPrice)
	if err != nil {
		return nil, fmt.Errorf("chain %s: gas price: %w", id, err)
	}
	var maxPrice sdk.DecCoin
	if cc.MaxGasPrice != "" {
		if maxPrice, err = sdk.ParseDecCoin(cc.MaxGasPrice); err != nil {
			return nil, fmt.Errorf("chain %s: max gas price: %w", id, err)
		}
	}
	c, err := cosmos.New(cosmos.Config{ChainID: id, RPCAddrs: cc.RPC, GRPCAddr: cc.GRPC, AccountPrefix: cc.AccountPrefix, GasPrice: price,
		GasAdjustment: cc.GasAdjustment, MaxGas: cc.MaxGas, Keyring: kr, KeyName: cc.KeyName, Codec: enc.Codec, TxConfig: enc.TxConfig,
		GasPriceQuery: cc.GasPriceSource, GasPriceMultiplier: cc.GasPriceMultiplier, MaxGasPrice: maxPrice, FeeGranter: cc.FeeGranter,
		Memo: cc.Memo, Log: r.o.Log})
	if err != nil {
		return nil, err
	}
	r.chains[id] = c
	return c, nil
}

// Light returns the light client of a configured chain, resuming from its store under
// <home>/light/<chain-id>.
func (r *Runtime) Light(ctx context.Context, id string) (*light.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.light(ctx, id)
}

func (r *Runtime) light(ctx context.Context, id string) (*light.Client, error) {
	if l, ok := r.lights[id]; ok {
		return l, nil
	}
	cc, ok := r.cfg.Chains[id]
	if !ok {
		return nil, fmt.Errorf("chain %s: %w", id, ErrUnknown)
	}
	var hash []byte
	if cc.TrustHash != "" {
		var err error
		if hash, err = hex.DecodeString(cc.TrustHash); err != nil {
			return nil, fmt.Errorf("chain %s: trust hash: %w", id, err)
		}
	}
	l, err := light.New(ctx, light.Options{ChainID: id, Primary: cc.RPC[0], Witnesses: cc.Witnesses,
		TrustingPeriod: cc.TrustingPeriod.Duration, TrustHeight: cc.TrustHeight, TrustHash: hash, TrustLatest: r.o.TrustLatest,
		StoreDir: filepath.Join(r.o.Home, "light", id), Logger: r.o.Log})
	if err != nil {
		return nil, err
	}
	r.lights[id] = l
	return l, nil
}

// Path returns the relayer path of a configured path, with the ids recorded in the config.
func (r *Runtime) Path(ctx context.Context, name string) (*relayer.Path, error) {
	pc, ok := r.cfg.Paths[name]
	if !ok {
		return nil, fmt.Errorf("path %s: %w", name, ErrUnknown)
	}
	end := func(e config.PathEnd) (*relayer.End, error) {
		c, err := r.Chain(e.Chain)
		if err != nil {
			return nil, err
		}
		l, err := r.Light(ctx, e.Chain)
		if err != nil {
			return nil, err
		}
		excluded, err := e.Excluded()
		if err != nil {
			return nil, fmt.Errorf("path %s: %s excluded_sequences: %w", name, e.Chain, err)
		}
		minFees, err := e.RecvMinFees(r.cfg.Chains[e.Chain])
		if err != nil {
			return nil, fmt.Errorf("path %s: %s min_fees: %w", name, e.Chain, err)
		}
		return &relayer.End{Chain: c, Light: l, ClientID: e.ClientID, ConnectionID: e.ConnectionID, ChannelID: e.ChannelID, PortID: e.PortID,
			Excluded: excluded, MinFees: minFees}, nil
	}
	a, err := end(pc.Src)
	if err != nil {
		return nil, err
	}
	b, err := end(pc.Dst)
	if err != nil {
		return nil, err
	}
	order := channeltypes.UNORDERED
	if pc.Order == "ordered" {
		order = channeltypes.ORDERED
	}
	return &relayer.Path{Name: name, A: a, B: b, Version: pc.Version, Order: order,
		TrustingPeriodA: r.cfg.Chains[pc.Src.Chain].TrustingPeriod.Duration, TrustingPeriodB: r.cfg.Chains[pc.Dst.Chain].TrustingPeriod.Duration}, nil
}

// Record copies a path's ids back into the config (the caller saves it).
func (r *Runtime) Record(p *relayer.Path) {
	pc := r.cfg.Paths[p.Name]
	pc.Src.ClientID, pc.Src.ConnectionID, pc.Src.ChannelID = p.A.ClientID, p.A.ConnectionID, p.A.ChannelID
	pc.Dst.ClientID, pc.Dst.ConnectionID, pc.Dst.ChannelID = p.B.ClientID, p.B.ConnectionID, p.B.ChannelID
}

// OpenedEvmCity returns the QBFT light client of an EVM city if it is open already (it never opens
// one: for readers such as the console, which must not open stores or dial nodes per request).
func (r *Runtime) OpenedEvmCity(id string) (EvmCity, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.evms[id]
	if !ok {
		return nil, false
	}
	return c, true
}

// EvmCity returns the QBFT light client of a configured EVM city, resuming from its store under
// <home>/light/<city>; a new store starts from the configured trust_height and trust_hash.
func (r *Runtime) EvmCity(ctx context.Context, id string) (EvmCity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.evms[id]; ok {
		return c, nil
	}
	ec, ok := r.cfg.EvmCities[id]
	if !ok {
		return nil, fmt.Errorf("evm city %s: %w", id, ErrUnknown)
	}
	codeHash := contracts.RuntimeCodeHashFor(ec.EvmChainID) // the registry holds its chain id: its code hash is the chain's
	if ec.RegistryCodeHash != "" {
		codeHash = common.HexToHash(ec.RegistryCodeHash)
	}
	var trust qbft.TrustedHeader
	if ec.TrustHash != "" {
		var err error
		if trust, err = evm.TrustRoot(ctx, ec.RPC, ec.TrustHeight, common.HexToHash(ec.TrustHash)); err != nil {
			return nil, fmt.Errorf("evm city %s: trust root: %w", id, err)
		}
	}
	c, err := evm.Dial(ctx, evm.Config{ChainID: ec.EvmChainID, RPC: ec.RPC, Witnesses: ec.Witnesses, Registry: common.HexToAddress(ec.Registry),
		RegistryCodeHash: codeHash, TrustingPeriod: ec.TrustingPeriod.Duration, StoreDir: filepath.Join(r.o.Home, "light", id)}, trust)
	if err != nil {
		return nil, fmt.Errorf("evm city %s: %w", id, err)
	}
	r.evms[id] = c
	return c, nil
}

// Origins are verify.Options.Origins over the config: an origin that is a configured chain is proven
// with its client and light client, a configured EVM city with its QBFT light client, each opened on
// first use (ctx is the one they open with); one that does not open is verify.Unavailable, with why.
// An origin in neither is not configured.
func (r *Runtime) Origins(ctx context.Context) verify.Origins {
	return func(id string) (verify.Origin, bool) {
		if _, ok := r.cfg.Chains[id]; ok {
			c, err := r.Chain(id)
			if err != nil {
				return verify.Unavailable(id, err), true
			}
			lc, err := r.Light(ctx, id)
			if err != nil {
				return verify.Unavailable(id, err), true
			}
			return verify.CosmosOrigin{Chain: c, Headers: lc}, true
		}
		if _, ok := r.cfg.EvmCities[id]; ok {
			ec, err := r.EvmCity(ctx, id)
			if err != nil {
				return verify.Unavailable(id, err), true
			}
			return verify.EvmOrigin{City: id, Headers: ec}, true
		}
		return nil, false
	}
}

// Nodes are verify.Options.Nodes over the config: a configured chain's node serves the proofs of a
// route through a hub (the hub's and the origin's state; untrusted, every value is checked against
// an app hash proven before it). A chain not configured has no node here.
func (r *Runtime) Nodes() verify.Nodes {
	return func(id string) (chains.Prover, error) {
		if _, ok := r.cfg.Chains[id]; !ok {
			return nil, fmt.Errorf("%s is not a configured chain (cityrelay chains add)", id)
		}
		return r.Chain(id)
	}
}
