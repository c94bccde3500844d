// Package evmdevnet is an in-process EVM city chain for tests and the demo: a go-ethereum
// core.BlockChain (real EVM under London rules, real Merkle-Patricia state trie in the hash scheme,
// archive mode so every historical state stays provable) driven by a consensus engine that seals
// QBFT headers with N validator keys held in the process, served over a loopback JSON-RPC endpoint
// (go-ethereum's rpc package) with the methods the relayer uses (see docs/evm-city.md).
//
// Headers follow Besu's QBFT format, so light/qbft verifies them: extraData is
// RLP([32-byte vanity, validators, vote (empty list), round, committed seals]), each committed seal a
// 65-byte secp256k1 signature r‖s‖v of keccak256(RLP(header with the seals emptied, round kept));
// difficulty 1, nonce 0, mixDigest the BFT digest, coinbase the proposer.
//
// What differs from Besu:
//   - Block hash: go-ethereum's header hash is keccak256 of the full header RLP, seals included, and it
//     is what this chain links parentHash with and serves as "hash"; Besu's on-chain block hash excludes
//     the committed seals and sets round 0 (light/qbft's Header.Hash). Light clients must use the
//     state root and the seals, never the served hash, as the trust anchor.
//   - Consensus: there is no QBFT message exchange; one process holds every validator key and signs
//     each block at round 0. The proposer (coinbase) rotates round-robin over the validators by block
//     number, not by Besu's proposer selection. The validator set is fixed at genesis (no votes).
//   - Seals: by default every validator seals (Besu includes the commit seals it collected, at least a
//     quorum). SetSealers lowers the count, and the chain accepts under-quorum headers on purpose so
//     light clients can be tested against them; each seal must still be a distinct validator's.
//   - Time: a block's timestamp is max(now, parent's) in seconds, so several blocks may share a
//     second (Besu requires the block period between blocks).
//   - Fees: London's EIP-1559 base fee (eip1559.CalcBaseFee from an initial 1 gwei) is burnt and tips go
//     to the proposer; there is no block reward. Besu QBFT networks often run a zero base fee.
//   - State is kept in memory only and never pruned.
package evmdevnet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// Defaults of Config.
const (
	DefaultChainID    = 1337
	DefaultValidators = 4
	DefaultGasLimit   = 30_000_000
	DefaultSeed       = "cityrelay/evmdevnet"
)

// DefaultDevBalance is the dev account's genesis balance unless Config.DevBalance is set: 10^9 ether.
var DefaultDevBalance = new(big.Int).Mul(big.NewInt(1_000_000_000), big.NewInt(params.Ether))

// SuggestedTip is the priority fee the chain suggests (eth_maxPriorityFeePerGas): 1 gwei.
var SuggestedTip = big.NewInt(params.GWei)

// Config configures a devnet.
type Config struct {
	// ChainID is the EVM chain id (EIP-155); 0 means DefaultChainID.
	ChainID uint64
	// Validators is how many QBFT validators seal the chain; 0 means DefaultValidators.
	Validators int
	// BlockTime is the block period. 0 produces a block only when a transaction arrives over RPC or
	// through Deploy/Transact, or on Mine(); otherwise a block (possibly empty) is produced every
	// BlockTime, and RPC transactions wait for the next one.
	BlockTime time.Duration
	// Funded are genesis balances besides the dev account's.
	Funded map[common.Address]*big.Int
	// GasLimit is every block's gas limit; 0 means DefaultGasLimit.
	GasLimit uint64
	// Seed derives the validator keys and the dev key deterministically, so a demo gets the same
	// addresses every run; "" means DefaultSeed.
	Seed string
	// DevKey is the funded dev account's key; nil derives it from Seed.
	DevKey *ecdsa.PrivateKey
	// DevBalance is the dev account's genesis balance; nil means DefaultDevBalance.
	DevBalance *big.Int
	// ListenAddr is the RPC listen address; it must be a loopback address. "" means 127.0.0.1:0.
	ListenAddr string
	// Logf, if set, receives errors of background block production.
	Logf func(format string, args ...any)
}

// Chain is a running devnet. Its methods are safe for concurrent use.
type Chain struct {
	cfg      Config
	chainID  *big.Int
	config   *params.ChainConfig
	signer   types.Signer
	db       ethdb.Database
	bc       *core.BlockChain
	engine   *engine
	keys     []*ecdsa.PrivateKey
	devKey   *ecdsa.PrivateKey
	devAddr  common.Address
	rpcSrv   *rpc.Server
	httpSrv  *http.Server
	url      string
	stop     chan struct{}
	loopDone chan struct{}

	// mu serialises block production and guards pending and closed.
	mu      sync.Mutex
	pending []*types.Transaction
	closed  bool

	closeOnce sync.Once
	closeErr  error
}

// deriveKey derives a secp256k1 key from seed, a label and an index.
func deriveKey(seed, label string, i int) (*ecdsa.PrivateKey, error) {
	for ctr := uint32(0); ctr < 1000; ctr++ {
		var buf [8]byte
		binary.BigEndian.PutUint32(buf[:4], uint32(i))
		binary.BigEndian.PutUint32(buf[4:], ctr)
		h := crypto.Keccak256([]byte(seed), []byte{0}, []byte(label), []byte{0}, buf[:])
		if k, err := crypto.ToECDSA(h); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("derive %s key %d: no valid key", label, i)
}

// chainConfig is London from genesis, every earlier fork included, nothing later.
func chainConfig(chainID *big.Int) *params.ChainConfig {
	zero := big.NewInt(0)
	return &params.ChainConfig{
		ChainID:             chainID,
		HomesteadBlock:      zero,
		EIP150Block:         zero,
		EIP155Block:         zero,
		EIP158Block:         zero,
		ByzantiumBlock:      zero,
		ConstantinopleBlock: zero,
		PetersburgBlock:     zero,
		IstanbulBlock:       zero,
		MuirGlacierBlock:    zero,
		BerlinBlock:         zero,
		LondonBlock:         zero,
		ArrowGlacierBlock:   zero,
		GrayGlacierBlock:    zero,
	}
}

// isLoopback reports whether addr's host is a loopback IP or "localhost".
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start creates the genesis block, the chain and the RPC server, and starts producing blocks if
// cfg.BlockTime is set.
func Start(cfg Config) (*Chain, error) {
	if cfg.ChainID == 0 {
		cfg.ChainID = DefaultChainID
	}
	if cfg.Validators == 0 {
		cfg.Validators = DefaultValidators
	}
	if cfg.Validators < 0 {
		return nil, fmt.Errorf("evmdevnet: %d validators", cfg.Validators)
	}
	if cfg.BlockTime < 0 {
		return nil, fmt.Errorf("evmdevnet: negative block time %s", cfg.BlockTime)
	}
	if cfg.GasLimit == 0 {
		cfg.GasLimit = DefaultGasLimit
	}
	if cfg.GasLimit < params.MinGasLimit {
		return nil, fmt.Errorf("evmdevnet: gas limit %d below the minimum %d", cfg.GasLimit, params.MinGasLimit)
	}
	if cfg.Seed == "" {
		cfg.Seed = DefaultSeed
	}
	if cfg.DevBalance == nil {
		cfg.DevBalance = DefaultDevBalance
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if !isLoopback(cfg.ListenAddr) {
		return nil, fmt.Errorf("evmdevnet: listen address %q is not a loopback address", cfg.ListenAddr)
	}

	c := &Chain{cfg: cfg, chainID: new(big.Int).SetUint64(cfg.ChainID), stop: make(chan struct{}), loopDone: make(chan struct{})}
	c.config = chainConfig(c.chainID)
	c.signer = types.NewLondonSigner(c.chainID)
	for i := range cfg.Validators {
		k, err := deriveKey(cfg.Seed, "validator", i)
		if err != nil {
			return nil, fmt.Errorf("evmdevnet: %w", err)
		}
		c.keys = append(c.keys, k)
	}
	// A header lists its validators in ascending order (Besu's BftValidatorsValidationRule); the keys
	// are kept in that order.
	slices.SortFunc(c.keys, func(a, b *ecdsa.PrivateKey) int {
		return bytes.Compare(crypto.PubkeyToAddress(a.PublicKey).Bytes(), crypto.PubkeyToAddress(b.PublicKey).Bytes())
	})
	c.devKey = cfg.DevKey
	if c.devKey == nil {
		k, err := deriveKey(cfg.Seed, "dev", 0)
		if err != nil {
			return nil, fmt.Errorf("evmdevnet: %w", err)
		}
		c.devKey = k
	}
	c.devAddr = crypto.PubkeyToAddress(c.devKey.PublicKey)
	c.engine = newEngine(c.keys)

	alloc := types.GenesisAlloc{}
	for a, bal := range cfg.Funded {
		if bal == nil || bal.Sign() < 0 {
			return nil, fmt.Errorf("evmdevnet: bad genesis balance %v for %s", bal, a)
		}
		alloc[a] = types.Account{Balance: new(big.Int).Set(bal)}
	}
	devBal := new(big.Int).Set(cfg.DevBalance)
	if acc, ok := alloc[c.devAddr]; ok {
		devBal.Add(devBal, acc.Balance)
	}
	alloc[c.devAddr] = types.Account{Balance: devBal}
	extra, err := encodeExtra(c.engine.validators, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("evmdevnet: genesis: %w", err)
	}
	genesis := &core.Genesis{
		Config:     c.config,
		Timestamp:  uint64(time.Now().Unix()),
		ExtraData:  extra,
		GasLimit:   cfg.GasLimit,
		Difficulty: big.NewInt(1),
		Mixhash:    BFTMixDigest,
		Alloc:      alloc,
		BaseFee:    big.NewInt(params.InitialBaseFee),
	}

	c.db = rawdb.NewMemoryDatabase()
	bcCfg := core.DefaultConfig().WithArchive(true).WithStateScheme(rawdb.HashScheme)
	bcCfg.SnapshotLimit = 0 // no snapshot layer: reads go to the trie, which the proofs come from
	bcCfg.SnapshotWait = false
	bcCfg.TxLookupLimit = -1 // no background indexer; the head writes its transactions' lookups
	bcCfg.NoPrefetch = true
	if c.bc, err = core.NewBlockChain(c.db, genesis, c.engine, bcCfg); err != nil {
		c.db.Close()
		return nil, fmt.Errorf("evmdevnet: create chain: %w", err)
	}

	if err := c.serveRPC(); err != nil {
		c.bc.Stop()
		c.db.Close()
		return nil, fmt.Errorf("evmdevnet: %w", err)
	}
	go c.loop()
	return c, nil
}

// serveRPC registers the APIs and serves them over HTTP on the loopback listener.
func (c *Chain) serveRPC() error {
	c.rpcSrv = rpc.NewServer()
	for _, api := range []struct {
		ns  string
		svc any
	}{{"eth", &ethAPI{c}}, {"debug", &debugAPI{c}}, {"net", &netAPI{c}}, {"web3", &web3API{}}} {
		if err := c.rpcSrv.RegisterName(api.ns, api.svc); err != nil {
			c.rpcSrv.Stop()
			return fmt.Errorf("register rpc namespace %s: %w", api.ns, err)
		}
	}
	ln, err := net.Listen("tcp", c.cfg.ListenAddr)
	if err != nil {
		c.rpcSrv.Stop()
		return fmt.Errorf("listen on %s: %w", c.cfg.ListenAddr, err)
	}
	c.url = "http://" + ln.Addr().String()
	c.httpSrv = &http.Server{Handler: c.rpcSrv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := c.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.logf("evmdevnet: rpc server: %v", err)
		}
	}()
	return nil
}

func (c *Chain) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}

// loop produces a block every BlockTime, if set, until Close.
func (c *Chain) loop() {
	defer close(c.loopDone)
	if c.cfg.BlockTime <= 0 {
		<-c.stop
		return
	}
	t := time.NewTicker(c.cfg.BlockTime)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if _, err := c.Mine(); err != nil && !errors.Is(err, ErrClosed) {
				c.logf("evmdevnet: produce block: %v", err)
			}
		}
	}
}

// ErrClosed is returned by a closed chain.
var ErrClosed = errors.New("evmdevnet: chain closed")

// Close stops block production and the RPC server and releases the chain.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() {
		close(c.stop)
		<-c.loopDone
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		if err := c.httpSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down rpc http server: %w", err))
			_ = c.httpSrv.Close()
		}
		c.rpcSrv.Stop()
		c.mu.Lock()
		c.closed = true
		c.pending = nil
		c.mu.Unlock()
		c.bc.Stop()
		if err := c.engine.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close engine: %w", err))
		}
		if err := c.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// RPCURL is the JSON-RPC endpoint, http://127.0.0.1:port.
func (c *Chain) RPCURL() string { return c.url }

// ChainID is the EVM chain id.
func (c *Chain) ChainID() uint64 { return c.cfg.ChainID }

// ValidatorKeys are the validators' private keys, in the header's validator order.
func (c *Chain) ValidatorKeys() []*ecdsa.PrivateKey {
	return append([]*ecdsa.PrivateKey(nil), c.keys...)
}

// Validators are the validators' addresses, in the header's validator order.
func (c *Chain) Validators() []common.Address {
	return append([]common.Address(nil), c.engine.validators...)
}

// DevKey is the key of the funded dev account that Deploy, Transact and Call use.
func (c *Chain) DevKey() *ecdsa.PrivateKey { return c.devKey }

// DevAddress is the dev account's address.
func (c *Chain) DevAddress() common.Address { return c.devAddr }

// BlockChain exposes the underlying go-ethereum chain for read access.
func (c *Chain) BlockChain() *core.BlockChain { return c.bc }

// Height is the number of the latest block.
func (c *Chain) Height() uint64 { return c.bc.CurrentBlock().Number.Uint64() }

// Header is the header of block n.
func (c *Chain) Header(n uint64) (*types.Header, error) {
	h := c.bc.GetHeaderByNumber(n)
	if h == nil {
		return nil, fmt.Errorf("evmdevnet: block %d not found (height %d)", n, c.Height())
	}
	return h, nil
}

// RawHeader is the RLP of block n's sealed header (what debug_getRawHeader serves).
func (c *Chain) RawHeader(n uint64) ([]byte, error) {
	h, err := c.Header(n)
	if err != nil {
		return nil, err
	}
	bz, err := encodeHeader(h)
	if err != nil {
		return nil, fmt.Errorf("evmdevnet: block %d: %w", n, err)
	}
	return bz, nil
}

// SetSealers sets how many validators (the first k, in order) seal the blocks produced from now on;
// k is clamped to [0, validators]. Fewer than qbft.Quorum(n) gives headers that light clients must
// refuse.
func (c *Chain) SetSealers(k int) {
	k = max(0, min(k, len(c.keys)))
	c.engine.sealers.Store(int64(k))
}

// Sealers is how many validators seal new blocks.
func (c *Chain) Sealers() int { return int(c.engine.sealers.Load()) }
