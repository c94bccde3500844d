// Package devnet starts city chains on loopback for the demo, the tests and the benchmarks.
//
// Each chain is a real CometBFT node running the city chain app in this process, with its own home
// directory, genesis, validator key and databases, serving CometBFT RPC and gRPC on free loopback
// ports. Whoever uses a devnet chain talks to it only through those addresses, as it would to a
// remote chain. Genesis funds a relayer account and an admin account (the trusted-issuer registry
// admin and the controller of a sample issuer DID and a sample citizen DID); their keys are test
// keys, written to the chain's home (keyring-test and devnet.json). A devnet is never for production.
package devnet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	sdkmath "cosmossdk.io/math"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/privval"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/ethereum/go-ethereum/crypto"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// Names of the devnet's keys in each chain's test keyring.
const (
	RelayerKey = "relayer"
	// Relayer2Key is a second funded relayer key, for running two relayer instances.
	Relayer2Key = "relayer-2"
	AdminKey    = "admin"
	// DefaultBlockTime is the block interval when Options.BlockTime is zero.
	DefaultBlockTime = time.Second
	// fundAmount is what genesis gives each devnet account.
	fundAmount = 1_000_000_000_000_000
)

// ErrStopped is returned when a chain stopped in this process is started again.
var ErrStopped = errors.New("chain was stopped in this process")

// SampleCredentialTypes are the credential types the sample issuer DID is trusted for.
var SampleCredentialTypes = []string{"residency-card", "business-licence", "certificate"}

// Options configure a devnet.
type Options struct {
	// Home is the directory under which each chain gets <Home>/<chain-id>. Required.
	Home string
	// ChainIDs are the chains to start, e.g. seoul-1, bucheon-1, wego-1.
	ChainIDs []string
	// BlockTime is the CometBFT commit timeout (the block interval); DefaultBlockTime when zero.
	BlockTime time.Duration
	// NotCities are chain ids (among ChainIDs) started without the did module: plain IBC chains (bank,
	// staking, IBC, ICS-20), which are not city chains.
	NotCities []string
}

// Key is a funded test account.
type Key struct {
	Name     string `json:"name"`
	Address  string `json:"address"`
	Mnemonic string `json:"mnemonic"`
}

// DIDKey is a sample DID with the private key of its verification method.
type DIDKey struct {
	DID        string           `json:"did"`
	Method     string           `json:"method"`
	Type       didtypes.KeyType `json:"type"`
	PrivateKey string           `json:"private_key"` // hex: ed25519 seed+public (64 bytes) or secp256k1 scalar (32 bytes)
	PublicKey  string           `json:"public_key"`  // hex
}

// Sign signs msg with the DID's key as the did module expects.
func (k DIDKey) Sign(msg []byte) ([]byte, error) {
	priv, err := hex.DecodeString(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("sign with %s: private key: %w", k.DID, err)
	}
	switch k.Type {
	case didtypes.KEY_TYPE_ED25519:
		return ed25519.Sign(ed25519.PrivateKey(priv), msg), nil
	case didtypes.KEY_TYPE_SECP256K1:
		sk, err := crypto.ToECDSA(priv)
		if err != nil {
			return nil, fmt.Errorf("sign with %s: %w", k.DID, err)
		}
		return didtypes.SignSecp256k1(sk, msg), nil
	default:
		return nil, fmt.Errorf("sign with %s: unknown key type %v", k.DID, k.Type)
	}
}

// Chain is one running devnet chain.
type Chain struct {
	ChainID  string `json:"chain_id"`
	Home     string `json:"home"`
	RPCAddr  string `json:"rpc_addr"`  // http://127.0.0.1:port
	GRPCAddr string `json:"grpc_addr"` // 127.0.0.1:port
	Relayer  Key    `json:"relayer"`
	Relayer2 Key    `json:"relayer_2"`
	Admin    Key    `json:"admin"`
	Issuer   DIDKey `json:"issuer"`
	Citizen  DIDKey `json:"citizen"`

	opts    nodeOptions
	mu      sync.Mutex
	node    *runningNode
	stopped bool
}

// KeyringDir is the directory of the chain's test keyring (backend "test").
func (c *Chain) KeyringDir() string { return filepath.Join(c.Home, "keyring") }

// Devnet is a set of running city chains.
type Devnet struct {
	Chains []*Chain
}

// Start creates and starts the chains and returns once each has committed a block and answers RPC.
// On error every chain already started is stopped.
func Start(ctx context.Context, o Options) (*Devnet, error) {
	if o.Home == "" {
		return nil, errors.New("devnet: home is required")
	}
	if len(o.ChainIDs) == 0 {
		return nil, errors.New("devnet: no chain ids")
	}
	if o.BlockTime == 0 {
		o.BlockTime = DefaultBlockTime
	}
	d := &Devnet{}
	for _, id := range o.ChainIDs {
		ports, err := FreePorts(3)
		if err != nil {
			_ = d.Stop()
			return nil, fmt.Errorf("devnet %s: %w", id, err)
		}
		c, err := InitHome(InitOptions{Home: filepath.Join(o.Home, id), ChainID: id, BlockTime: o.BlockTime,
			RPCPort: ports[0], P2PPort: ports[1], GRPCPort: ports[2], WithoutDID: slices.Contains(o.NotCities, id)})
		if err != nil {
			_ = d.Stop()
			return nil, err
		}
		d.Chains = append(d.Chains, c)
		if err := c.Start(ctx); err != nil {
			_ = d.Stop()
			return nil, err
		}
	}
	for _, c := range d.Chains {
		if err := c.WaitHeight(ctx, 2); err != nil {
			_ = d.Stop()
			return nil, err
		}
	}
	return d, nil
}

// Chain returns the chain with the given id, or nil.
func (d *Devnet) Chain(id string) *Chain {
	for _, c := range d.Chains {
		if c.ChainID == id {
			return c
		}
	}
	return nil
}

// Stop stops every chain. It is safe to call more than once.
func (d *Devnet) Stop() error {
	var errs []error
	for _, c := range d.Chains {
		if err := c.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Start starts the chain's node on its ports. A chain stopped in this process cannot be started
// again: CometBFT v0.38 does not release all of its database locks on stop.
func (c *Chain) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.node != nil {
		return nil
	}
	if c.stopped {
		return fmt.Errorf("start %s: %w", c.ChainID, ErrStopped)
	}
	n, err := startNode(ctx, c.opts)
	if err != nil {
		return err
	}
	c.node = n
	return nil
}

// Stop stops the chain's node. Its home stays (a `citychaind start --home` can resume it).
func (c *Chain) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.node == nil {
		return nil
	}
	err := c.node.stop()
	c.node, c.stopped = nil, true
	if err != nil {
		return fmt.Errorf("stop %s: %w", c.ChainID, err)
	}
	return nil
}

// WaitHeight waits until the chain's RPC reports a latest height of at least h.
func (c *Chain) WaitHeight(ctx context.Context, h int64) error {
	cl, err := rpchttp.New(c.RPCAddr, "/websocket")
	if err != nil {
		return fmt.Errorf("%s: rpc client: %w", c.ChainID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		st, err := cl.Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= h {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: wait for height %d: %w (last rpc error: %v)", c.ChainID, h, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// InitOptions describe a new single-validator chain home.
type InitOptions struct {
	Home      string
	ChainID   string
	BlockTime time.Duration
	RPCPort   int
	P2PPort   int
	GRPCPort  int
	// WithoutDID runs the chain without the did module (not a city chain; its genesis still holds
	// the sample DIDs, which it ignores).
	WithoutDID bool
	// AdminUpgrades makes the admin key the chain's genesis upgrade authority (upgrade.go).
	AdminUpgrades bool
}

// InitHome writes a new chain's home: CometBFT and app config (loopback listeners, the block time,
// minimum gas prices), the validator key, a test keyring with the relayer and admin keys, sample
// DIDs and genesis. The home can then be run by Chain.Start or by `citychaind start`.
func InitHome(o InitOptions) (*Chain, error) {
	home, chainID := o.Home, o.ChainID
	if _, _, err := didtypes.ParseDID(didtypes.FormatDID(chainID, "x")); err != nil {
		return nil, fmt.Errorf("init %s: chain id: %w", chainID, err)
	}
	if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); err == nil {
		return nil, fmt.Errorf("init %s: %s already holds a chain", chainID, home)
	}
	if o.BlockTime == 0 {
		o.BlockTime = DefaultBlockTime
	}
	c := &Chain{
		ChainID:  chainID,
		Home:     home,
		RPCAddr:  fmt.Sprintf("http://127.0.0.1:%d", o.RPCPort),
		GRPCAddr: fmt.Sprintf("127.0.0.1:%d", o.GRPCPort),
		opts: nodeOptions{Home: home, ChainID: chainID, BlockTime: o.BlockTime, RPCPort: o.RPCPort, P2PPort: o.P2PPort, GRPCPort: o.GRPCPort,
			WithoutDID: o.WithoutDID},
	}
	cfg := cometConfig(c.opts)
	cmtcfg.EnsureRoot(home)
	cmtcfg.WriteConfigFile(filepath.Join(home, "config", "config.toml"), cfg)
	appCfg := srvconfig.DefaultConfig()
	appCfg.MinGasPrices = MinGasPrice
	appCfg.Pruning = "nothing"
	appCfg.GRPC.Address = c.GRPCAddr
	appCfg.API.Enable = false
	appCfg.Telemetry.Enabled = false
	srvconfig.WriteConfigFile(filepath.Join(home, "config", "app.toml"), appCfg)
	pv := privval.LoadOrGenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	pub, err := pv.GetPubKey()
	if err != nil {
		return nil, fmt.Errorf("devnet %s: validator key: %w", chainID, err)
	}

	enc := citychain.MakeEncodingConfig()
	kr, err := keyring.New("citychain", keyring.BackendTest, c.KeyringDir(), nil, enc.Codec)
	if err != nil {
		return nil, fmt.Errorf("devnet %s: keyring: %w", chainID, err)
	}
	newKey := func(name string) (Key, sdk.AccAddress, error) {
		rec, mnemonic, err := kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
		if err != nil {
			return Key{}, nil, fmt.Errorf("devnet %s: key %s: %w", chainID, name, err)
		}
		addr, err := rec.GetAddress()
		if err != nil {
			return Key{}, nil, fmt.Errorf("devnet %s: key %s: %w", chainID, name, err)
		}
		return Key{Name: name, Address: addr.String(), Mnemonic: mnemonic}, addr, nil
	}
	var relayerAddr, relayer2Addr, adminAddr sdk.AccAddress
	if c.Relayer, relayerAddr, err = newKey(RelayerKey); err != nil {
		return nil, err
	}
	if c.Relayer2, relayer2Addr, err = newKey(Relayer2Key); err != nil {
		return nil, err
	}
	if c.Admin, adminAddr, err = newKey(AdminKey); err != nil {
		return nil, err
	}

	didGen := didtypes.DefaultGenesis()
	didGen.Params.RegistryAdmin = c.Admin.Address
	issuerDoc, issuer, err := sampleDID(chainID, "civil-office", didtypes.KEY_TYPE_ED25519, c.Admin.Address)
	if err != nil {
		return nil, err
	}
	citizenDoc, citizen, err := sampleDID(chainID, "citizen-1", didtypes.KEY_TYPE_SECP256K1, c.Admin.Address)
	if err != nil {
		return nil, err
	}
	c.Issuer, c.Citizen = issuer, citizen
	didGen.Dids = append(didGen.Dids, issuerDoc, citizenDoc)
	for _, t := range SampleCredentialTypes {
		didGen.TrustedIssuers = append(didGen.TrustedIssuers, didtypes.TrustedIssuer{CredentialType: t, IssuerDid: issuer.DID})
	}

	funds := sdk.NewCoins(sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(fundAmount)))
	doc, err := citychain.BuildGenesis(citychain.GenesisOptions{
		ChainID:      chainID,
		ValidatorKey: pub,
		Operator:     adminAddr,
		Accounts: []citychain.GenesisAccount{
			{Address: relayerAddr, Coins: funds},
			{Address: relayer2Addr, Coins: funds},
			{Address: adminAddr, Coins: funds},
		},
		DID:              didGen,
		UpgradeAuthority: upgradeAuthority(o, c.Admin.Address),
	})
	if err != nil {
		return nil, err
	}
	if err := doc.SaveAs(cfg.GenesisFile()); err != nil {
		return nil, fmt.Errorf("devnet %s: write genesis: %w", chainID, err)
	}
	bz, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("devnet %s: encode summary: %w", chainID, err)
	}
	if err := os.WriteFile(filepath.Join(home, "devnet.json"), bz, 0o600); err != nil {
		return nil, fmt.Errorf("devnet %s: write summary: %w", chainID, err)
	}
	return c, nil
}

// sampleDID makes a DID document with one fresh key of the given type, controlled by controller.
func sampleDID(chainID, suffix string, kt didtypes.KeyType, controller string) (didtypes.DIDDocument, DIDKey, error) {
	var pub, priv []byte
	switch kt {
	case didtypes.KEY_TYPE_ED25519:
		p, s, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return didtypes.DIDDocument{}, DIDKey{}, fmt.Errorf("devnet %s: ed25519 key: %w", chainID, err)
		}
		pub, priv = p, s
	default:
		sk, err := crypto.GenerateKey()
		if err != nil {
			return didtypes.DIDDocument{}, DIDKey{}, fmt.Errorf("devnet %s: secp256k1 key: %w", chainID, err)
		}
		pub, priv = crypto.CompressPubkey(&sk.PublicKey), crypto.FromECDSA(sk)
	}
	did := didtypes.FormatDID(chainID, suffix)
	doc := didtypes.DIDDocument{
		Id:            did,
		Controller:    controller,
		Methods:       []didtypes.VerificationMethod{{Id: "key-1", Type: kt, PublicKey: pub, CreatedHeight: 1}},
		CreatedHeight: 1,
	}
	return doc, DIDKey{DID: did, Method: "key-1", Type: kt, PrivateKey: hex.EncodeToString(priv), PublicKey: hex.EncodeToString(pub)}, nil
}
