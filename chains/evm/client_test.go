package evm

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie/trienode"
	"github.com/holiman/uint256"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/light/qbft"
)

const testChainID = 1337

var (
	registryAddr = common.HexToAddress("0x42000000000000000000000000000000000000a1")
	registryCode = []byte{0x60, 0x80, 0x60, 0x40, 0x52, 0x00}
	base         = time.Unix(1_800_000_000, 0).UTC()
)

// testState is a committed state with the registry (slots 1 and 2 set) and some other accounts; every
// block of the test chain has its root.
type testState struct {
	db   state.Database
	root common.Hash
}

var (
	slotSet    = common.HexToHash("0x01")
	slotStatus = common.HexToHash("0x02")
	slotUnset  = common.HexToHash("0x03")
	valueSet   = crypto.Keccak256Hash([]byte("issued"))
	valueSt    = common.HexToHash("0x0103e80000000000000001")
)

func newTestState(t testing.TB) *testState {
	t.Helper()
	db := state.NewDatabaseForTesting()
	sdb, err := state.New(types.EmptyRootHash, db)
	if err != nil {
		t.Fatal(err)
	}
	sdb.SetCode(registryAddr, registryCode, tracing.CodeChangeUnspecified)
	sdb.SetNonce(registryAddr, 1, tracing.NonceChangeUnspecified)
	sdb.SetState(registryAddr, slotSet, valueSet)
	sdb.SetState(registryAddr, slotStatus, valueSt)
	for i := range 50 {
		sdb.SetBalance(common.BigToAddress(big.NewInt(int64(0x1000+i))), uint256.NewInt(uint64(i+1)), tracing.BalanceChangeUnspecified)
	}
	root, err := sdb.Commit(params.Rules{IsEIP158: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return &testState{db: db, root: root}
}

// getProof is go-ethereum's eth_getProof answer for addr and keys.
func (s *testState) getProof(addr common.Address, keys []string) (*qbft.AccountResult, error) {
	sdb, err := state.New(s.root, s.db)
	if err != nil {
		return nil, err
	}
	prove := func(tr state.Trie, key []byte) ([]hexutil.Bytes, error) {
		var p trienode.ProofList
		if err := tr.Prove(crypto.Keccak256(key), &p); err != nil {
			return nil, err
		}
		out := make([]hexutil.Bytes, len(p))
		for i, n := range p {
			out[i] = append([]byte(nil), n...)
		}
		return out, nil
	}
	r := &qbft.AccountResult{Address: addr, Balance: (*hexutil.Big)(sdb.GetBalance(addr).ToBig()), CodeHash: sdb.GetCodeHash(addr),
		Nonce: hexutil.Uint64(sdb.GetNonce(addr)), StorageHash: sdb.GetStorageRoot(addr)}
	tr, err := s.db.OpenTrie(s.root)
	if err != nil {
		return nil, err
	}
	if r.AccountProof, err = prove(tr, addr.Bytes()); err != nil {
		return nil, err
	}
	st, err := s.db.OpenStorageTrie(s.root, addr, r.StorageHash, nil)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		slot := common.HexToHash(k)
		sr := qbft.StorageResult{Key: slot, Value: sdb.GetState(addr, slot)}
		if sr.Proof, err = prove(st, slot.Bytes()); err != nil {
			return nil, err
		}
		r.StorageProof = append(r.StorageProof, sr)
	}
	return r, nil
}

// testChain is a QBFT chain of blocks 0..len-1 whose validator set rotates: blocks 1-20 have keys 0-3,
// 21-40 keys 2-5, 41 on keys 4-7, each sealed by its first three validators. Blocks 1 and 60 have no
// validator in common, so verifying one from the other needs a block in between.
type testChain struct {
	t       testing.TB
	keys    []*ecdsa.PrivateKey
	root    common.Hash
	headers [][]byte
	blooms  map[uint64]types.Bloom // logsBloom of blocks (none: empty)
}

type qbftExtra struct {
	Vanity     []byte
	Validators []common.Address
	Vote       rlp.RawValue
	Round      rlp.RawValue
	Seals      [][]byte
}

func addrs(keys []*ecdsa.PrivateKey) []common.Address {
	var out []common.Address
	for _, k := range keys {
		out = append(out, crypto.PubkeyToAddress(k.PublicKey))
	}
	return out
}

func (c *testChain) validators(n uint64) []*ecdsa.PrivateKey {
	switch {
	case n <= 20:
		return c.keys[0:4]
	case n <= 40:
		return c.keys[2:6]
	default:
		return c.keys[4:8]
	}
}

func newTestChain(t testing.TB, root common.Hash, blocks int) *testChain {
	return newTestChainBlooms(t, root, blocks, nil)
}

func newTestChainBlooms(t testing.TB, root common.Hash, blocks int, blooms map[uint64]types.Bloom) *testChain {
	t.Helper()
	c := &testChain{t: t, root: root, blooms: blooms}
	for range 12 {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		c.keys = append(c.keys, k)
	}
	// A header lists its validators in ascending order (Besu's BftValidatorsValidationRule); every
	// window of the sorted keys is.
	slices.SortFunc(c.keys, func(a, b *ecdsa.PrivateKey) int {
		return bytes.Compare(crypto.PubkeyToAddress(a.PublicKey).Bytes(), crypto.PubkeyToAddress(b.PublicKey).Bytes())
	})
	parent := common.Hash{}
	for n := range uint64(blocks) {
		vals := c.validators(n)
		raw := c.block(n, parent, root, vals, vals[:3])
		c.headers = append(c.headers, raw)
		parent = hashOf(t, raw)
	}
	return c
}

// block encodes and seals a block.
func (c *testChain) block(n uint64, parent, root common.Hash, vals, signers []*ecdsa.PrivateKey) []byte {
	c.t.Helper()
	round, _ := rlp.EncodeToBytes(uint64(0))
	extra := func(seals [][]byte) []byte {
		bz, err := rlp.EncodeToBytes(&qbftExtra{Vanity: make([]byte, 32), Validators: addrs(vals), Vote: rlp.RawValue{0xc0}, Round: round, Seals: seals})
		if err != nil {
			c.t.Fatal(err)
		}
		return bz
	}
	h := &types.Header{ParentHash: parent, UncleHash: types.EmptyUncleHash, Root: root, TxHash: types.EmptyTxsHash,
		ReceiptHash: types.EmptyReceiptsHash, Difficulty: big.NewInt(1), Number: new(big.Int).SetUint64(n), GasLimit: 30_000_000,
		Time: uint64(base.Unix()) + 2*n, Extra: extra([][]byte{}), Bloom: c.blooms[n],
		MixDigest: common.HexToHash("0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365")}
	unsealed, err := rlp.EncodeToBytes(h)
	if err != nil {
		c.t.Fatal(err)
	}
	sh := crypto.Keccak256(unsealed)
	var seals [][]byte
	for _, k := range signers {
		sig, err := crypto.Sign(sh, k)
		if err != nil {
			c.t.Fatal(err)
		}
		seals = append(seals, sig)
	}
	h.Extra = extra(seals)
	bz, err := rlp.EncodeToBytes(h)
	if err != nil {
		c.t.Fatal(err)
	}
	return bz
}

func hashOf(t testing.TB, raw []byte) common.Hash {
	t.Helper()
	h, err := qbft.ParseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return hash
}

func (c *testChain) trust(n uint64) qbft.TrustedHeader {
	return qbft.TrustedHeader{Height: n, Time: base.Add(time.Duration(2*n) * time.Second), Hash: hashOf(c.t, c.headers[n]),
		Validators: addrs(c.validators(n))}
}

// stub is a node: go-ethereum's own JSON-RPC server over HTTP serving the test chain's headers and
// state, which a test may change to make it lie.
type stub struct {
	mu      sync.Mutex
	chainID uint64
	headers map[uint64][]byte
	head    uint64
	state   *testState
	// proof, when set, changes eth_getProof's answer before it is sent.
	proof func(*qbft.AccountResult)
	logs  []types.Log
	calls map[string]int
	dead  bool // every call fails
	url   string
}

func newStub(t *testing.T, c *testChain, st *testState) *stub {
	t.Helper()
	s := &stub{chainID: testChainID, headers: make(map[uint64][]byte), head: uint64(len(c.headers) - 1), state: st, calls: make(map[string]int)}
	for n, h := range c.headers {
		s.headers[uint64(n)] = h
	}
	srv := rpc.NewServer()
	if err := srv.RegisterName("eth", &ethAPI{s}); err != nil {
		t.Fatal(err)
	}
	if err := srv.RegisterName("debug", &debugAPI{s}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Stop() })
	s.url = hs.URL
	return s
}

func (s *stub) call(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if s.dead {
		return errors.New("node down")
	}
	return nil
}

func (s *stub) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *stub) set(f func(s *stub)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

type ethAPI struct{ s *stub }

func (a *ethAPI) ChainId() (hexutil.Uint64, error) {
	return hexutil.Uint64(a.s.chainID), a.s.call("eth_chainId")
}

func (a *ethAPI) BlockNumber() (hexutil.Uint64, error) {
	return hexutil.Uint64(a.s.head), a.s.call("eth_blockNumber")
}

func (a *ethAPI) GetProof(addr common.Address, keys []string, block string) (*qbft.AccountResult, error) {
	if err := a.s.call("eth_getProof"); err != nil {
		return nil, err
	}
	r, err := a.s.state.getProof(addr, keys)
	if err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if a.s.proof != nil {
		a.s.proof(r)
	}
	return r, nil
}

func (a *ethAPI) GetLogs(crit map[string]any) ([]types.Log, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.s.logs, nil
}

type debugAPI struct{ s *stub }

func (a *debugAPI) GetRawHeader(block string) (*hexutil.Bytes, error) {
	if err := a.s.call("debug_getRawHeader"); err != nil {
		return nil, err
	}
	n, err := hexutil.DecodeUint64(block)
	if err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	raw, ok := a.s.headers[n]
	if !ok {
		return nil, nil // geth and Besu: null for a block they do not have
	}
	bz := hexutil.Bytes(raw)
	return &bz, nil
}

// env is a chain of 81 blocks served by a primary and a witness, and a config for them.
type env struct {
	chain   *testChain
	state   *testState
	primary *stub
	witness *stub
	cfg     Config
	now     time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	lag := defaultWitnessLag
	defaultWitnessLag = 300 * time.Millisecond
	t.Cleanup(func() { defaultWitnessLag = lag })
	e := &env{state: newTestState(t)}
	e.chain = newTestChain(t, e.state.root, 81)
	e.primary, e.witness = newStub(t, e.chain, e.state), newStub(t, e.chain, e.state)
	e.now = base.Add(200 * time.Second)
	e.cfg = Config{ChainID: testChainID, RPC: e.primary.url, Witnesses: []string{e.witness.url}, Registry: registryAddr,
		RegistryCodeHash: crypto.Keccak256Hash(registryCode), TrustingPeriod: time.Hour, StoreDir: t.TempDir(),
		Now: func() time.Time { return e.now }}
	return e
}

func (e *env) dial(t *testing.T, trust qbft.TrustedHeader) *Client {
	t.Helper()
	c, err := Dial(context.Background(), e.cfg, trust)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestVerifiedHeader(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.dial(t, e.chain.trust(1))

	// Block 60 has no validator of block 1: the client bisects through block 30.
	vh, err := c.VerifiedHeader(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if vh.Height != 60 || vh.StateRoot != e.state.root || vh.Hash != hashOf(t, e.chain.headers[60]) || !vh.Time.Equal(base.Add(120*time.Second)) ||
		len(vh.Validators) != 4 || vh.Validators[0] != crypto.PubkeyToAddress(e.chain.keys[4].PublicKey) || string(vh.RLP) != string(e.chain.headers[60]) {
		t.Fatalf("verified header %+v", vh)
	}
	// Block 1 at Dial, then 60 and 30 (60 once: it is kept while bisecting).
	if n := e.primary.count("debug_getRawHeader"); n != 3 {
		t.Fatalf("%d headers fetched from the primary, want 3", n)
	}
	if got := c.Trusted(); got.Height != 60 || got.Hash != vh.Hash {
		t.Fatalf("trusted %+v", got)
	}
	if again, err := c.VerifiedHeader(ctx, 60); err != nil || again != vh {
		t.Fatalf("again: %v", err)
	}
	// Below the trusted header: parent hashes from 60 down to 50.
	if vh, err := c.VerifiedHeader(ctx, 50); err != nil || vh.Hash != hashOf(t, e.chain.headers[50]) {
		t.Fatalf("block 50: %v", err)
	}
	if got := c.Trusted(); got.Height != 60 {
		t.Fatalf("an older header moved trust to %d", got.Height)
	}
	// The latest block (80).
	latest, err := c.Latest(ctx)
	if err != nil || latest.Height != 80 {
		t.Fatalf("latest: %v", err)
	}

	// A restart resumes from the store, without a trust root.
	c.Close()
	c2 := e.dial(t, qbft.TrustedHeader{})
	if got := c2.Trusted(); got.Height != 80 || got.Hash != latest.Hash {
		t.Fatalf("resumed at %+v", got)
	}
	// An older trust root is ignored in favour of the stored header.
	c2.Close()
	if c3 := e.dial(t, e.chain.trust(1)); c3.Trusted().Height != 80 {
		t.Fatalf("an older trust root replaced the stored header: %d", c3.Trusted().Height)
	}
	// A trusting period later with no newer block, Latest refuses to call block 80 the latest.
	e.primary.set(func(s *stub) { s.head = 80 })
	e.now = latest.Time.Add(time.Hour)
	if _, err := c2.Latest(ctx); !errors.Is(err, qbft.ErrExpired) {
		t.Fatalf("a stale latest header: %v", err)
	}
}

func TestWitnessMismatch(t *testing.T) {
	e := newEnv(t)
	c := e.dial(t, e.chain.trust(1))
	// The witness serves another block 60, sealed by the same validators: a fork.
	fork := e.chain.block(60, hashOf(t, e.chain.headers[59]), crypto.Keccak256Hash([]byte("fork")), e.chain.validators(60), e.chain.validators(60)[:3])
	e.witness.set(func(s *stub) { s.headers[60] = fork })
	_, err := c.VerifiedHeader(context.Background(), 60)
	var verr *VerificationError
	var ferr *ForkError
	if !errors.Is(err, ErrWitnessMismatch) || !errors.As(err, &verr) || verr.Height != 60 || !strings.Contains(err.Error(), e.witness.url) ||
		!errors.As(err, &ferr) || string(ferr.Conflicting) != string(fork) || string(ferr.Primary) != string(e.chain.headers[60]) {
		t.Fatalf("a forked witness: %v, want a ForkError with both blocks", err)
	}
	if ws := c.Witnesses(); ws[0].State != light.WitnessDiverged || ws[0].Divergences != 1 || ws[0].Faults != 0 {
		t.Fatalf("the forked witness: %+v", ws[0])
	}
	if got := c.Trusted(); got.Height != 1 {
		t.Fatalf("trust moved to %d", got.Height)
	}
	// A witness that is down confirms nothing; with no other witness the header is refused.
	e.witness.set(func(s *stub) { s.headers[60] = e.chain.headers[60]; s.dead = true })
	if _, err := c.VerifiedHeader(context.Background(), 60); !errors.Is(err, ErrNoWitness) {
		t.Fatalf("no witness answering: %v", err)
	}
	e.witness.set(func(s *stub) { s.dead = false })
	if _, err := c.VerifiedHeader(context.Background(), 60); err != nil {
		t.Fatalf("the witness back: %v", err)
	}
}

// TestFaultyWitness: a witness serving, at a verified height, another block that does not verify
// from the trusted state (sealed by a validator set of its own; sealed by too few of the verified
// validators) is faulty, not a fork: no ForkError, the header verifies through the other witness, and
// the liar is dropped at its light.MaxWitnessFaults-th such block (not asked any more) until a
// restart. Alone, it fails only the verifications it lies about (ErrNoWitness, ErrWitnessFaulty).
func TestFaultyWitness(t *testing.T) {
	outsiders := func(c *testChain) []*ecdsa.PrivateKey { return c.keys[8:12] }
	lies := map[uint64]func(c *testChain) []byte{
		// The attacker's own validator set, a quorum of it sealing.
		60: func(c *testChain) []byte {
			return c.block(60, hashOf(c.t, c.headers[59]), crypto.Keccak256Hash([]byte("lie")), outsiders(c), outsiders(c)[:3])
		},
		// The verified validators, but only two of four sealed it (no quorum).
		61: func(c *testChain) []byte {
			return c.block(61, hashOf(c.t, c.headers[60]), crypto.Keccak256Hash([]byte("lie")), c.validators(61), c.validators(61)[:2])
		},
		// A quorum of its own set, one of which is a verified validator (fewer than f+1 = 2).
		62: func(c *testChain) []byte {
			vals := append([]*ecdsa.PrivateKey{c.validators(62)[0]}, outsiders(c)[:3]...)
			return c.block(62, hashOf(c.t, c.headers[61]), crypto.Keccak256Hash([]byte("lie")), vals, vals[:3])
		},
	}
	ctx := context.Background()

	t.Run("with another witness", func(t *testing.T) {
		e := newEnv(t)
		honest := newStub(t, e.chain, e.state)
		e.cfg.Witnesses = append(e.cfg.Witnesses, honest.url)
		c := e.dial(t, e.chain.trust(1))
		e.witness.set(func(s *stub) {
			for n, lie := range lies {
				s.headers[n] = lie(e.chain)
			}
		})
		for n := uint64(60); n <= 62; n++ {
			vh, err := c.VerifiedHeader(ctx, n)
			if err != nil || vh.Hash != hashOf(t, e.chain.headers[n]) {
				t.Fatalf("block %d with a faulty and an honest witness: %v", n, err)
			}
			ws := c.Witnesses()
			want := light.WitnessFaulty
			if n == 62 {
				want = light.WitnessDropped
			}
			if ws[0].State != want || ws[0].Faults != int(n-59) || ws[0].Height != int64(n) || ws[0].Divergences != 0 ||
				!strings.Contains(ws[0].Error, ErrWitnessFaulty.Error()) {
				t.Fatalf("the faulty witness after block %d: %+v", n, ws[0])
			}
			if ws[1].State != light.WitnessAgrees || ws[1].Height != int64(n) {
				t.Fatalf("the honest witness after block %d: %+v", n, ws[1])
			}
			t.Logf("block %d: %s", n, ws[0].Error)
		}
		// Dropped: block 63 verifies through the honest witness alone, the liar is not asked.
		asked := e.witness.count("debug_getRawHeader")
		if vh, err := c.VerifiedHeader(ctx, 63); err != nil || vh.Hash != hashOf(t, e.chain.headers[63]) {
			t.Fatalf("block 63 with the liar dropped: %v", err)
		}
		if n := e.witness.count("debug_getRawHeader"); n != asked {
			t.Fatalf("the dropped witness was asked %d more times", n-asked)
		}
		if ws := c.Witnesses(); ws[0].State != light.WitnessDropped || ws[0].Height != 62 {
			t.Fatalf("the dropped witness after block 63: %+v", ws[0])
		}
		// A restart re-admits it.
		c.Close()
		c = e.dial(t, qbft.TrustedHeader{})
		if ws := c.Witnesses(); ws[0].State == light.WitnessDropped || ws[0].Faults != 0 {
			t.Fatalf("the witness after a restart: %+v", ws[0])
		}
	})

	t.Run("alone", func(t *testing.T) {
		e := newEnv(t)
		c := e.dial(t, e.chain.trust(1))
		e.witness.set(func(s *stub) { s.headers[60] = lies[60](e.chain) })
		_, err := c.VerifiedHeader(ctx, 60)
		var ferr *ForkError
		if !errors.Is(err, ErrNoWitness) || !errors.Is(err, ErrWitnessFaulty) || errors.Is(err, ErrWitnessMismatch) || errors.As(err, &ferr) {
			t.Fatalf("a lone faulty witness: %v, want ErrNoWitness and ErrWitnessFaulty, no fork", err)
		}
		if got := c.Trusted(); got.Height != 1 {
			t.Fatalf("trust moved to %d", got.Height)
		}
		if ws := c.Witnesses(); ws[0].State != light.WitnessFaulty || ws[0].Faults != 1 {
			t.Fatalf("the lone faulty witness: %+v", ws[0])
		}
		// A later block it serves honestly verifies.
		if vh, err := c.VerifiedHeader(ctx, 61); err != nil || vh.Hash != hashOf(t, e.chain.headers[61]) {
			t.Fatalf("block 61 after the lie at 60: %v", err)
		}
		if ws := c.Witnesses(); ws[0].State != light.WitnessAgrees || ws[0].Faults != 1 {
			t.Fatalf("the witness after an honest answer: %+v", ws[0])
		}
	})
}

func TestPrimaryLies(t *testing.T) {
	outsiders := func(c *testChain) []*ecdsa.PrivateKey { return c.keys[8:12] }
	for _, tc := range []struct {
		name   string
		height uint64
		lie    func(c *testChain, s *stub)
		want   error
	}{
		// Block 61 served for 60.
		{"another block number", 60, func(c *testChain, s *stub) { s.headers[60] = c.headers[61] }, ErrInvalidResponse},
		{"garbage", 60, func(c *testChain, s *stub) { s.headers[60] = []byte{0xc0} }, ErrInvalidResponse},
		// A block 60 sealed by a validator set of the attacker's: bisection reaches block 59 and fails.
		{"a forged validator set", 60, func(c *testChain, s *stub) {
			s.headers[60] = c.block(60, hashOf(c.t, c.headers[59]), c.root, outsiders(c), outsiders(c)[:3])
		}, qbft.ErrTrustOverlap},
		// Block 60's validators, but only two sealed it.
		{"no quorum", 60, func(c *testChain, s *stub) {
			s.headers[60] = c.block(60, hashOf(c.t, c.headers[59]), c.root, c.validators(60), c.validators(60)[:2])
		}, qbft.ErrNoQuorum},
		// Walking back from block 1's child: block 0 is not the one block 1 names as its parent.
		{"a forged parent", 0, func(c *testChain, s *stub) {
			s.headers[0] = c.block(0, common.Hash{}, crypto.Keccak256Hash([]byte("other")), c.validators(0), c.validators(0)[:3])
		}, ErrHashMismatch},
		{"no such block", 60, func(c *testChain, s *stub) { delete(s.headers, 60) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.dial(t, e.chain.trust(1))
			e.primary.set(func(s *stub) { tc.lie(e.chain, s) })
			_, err := c.VerifiedHeader(context.Background(), tc.height)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
			t.Log(err)
			if got := c.Trusted(); got.Height != 1 {
				t.Fatalf("trust moved to %d", got.Height)
			}
		})
	}
}

func TestDialRefuses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	wrongHash := e.chain.trust(1)
	wrongHash.Hash = common.HexToHash("0x01")
	wrongVals := e.chain.trust(1)
	wrongVals.Validators = addrs(e.chain.keys[8:12])
	wrongTime := e.chain.trust(1)
	wrongTime.Time = wrongTime.Time.Add(time.Second)
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		trust qbft.TrustedHeader
		want  error
	}{
		{"no trust root", nil, qbft.TrustedHeader{}, ErrNoTrustRoot},
		{"a trust root without validators", nil, qbft.TrustedHeader{Height: 1, Time: base, Hash: common.HexToHash("0x01")}, nil},
		{"a wrong trusted hash", nil, wrongHash, ErrHashMismatch},
		{"wrong trusted validators", nil, wrongVals, ErrHashMismatch},
		{"a wrong trusted time", nil, wrongTime, ErrHashMismatch},
		{"an expired trust root", func(c *Config) { c.TrustingPeriod = time.Minute }, e.chain.trust(1), qbft.ErrExpired},
		{"another chain", func(c *Config) { c.ChainID = 1 }, e.chain.trust(1), ErrChainIDMismatch},
		{"a config without a registry", func(c *Config) { c.Registry = common.Address{} }, e.chain.trust(1), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.cfg
			cfg.StoreDir = t.TempDir()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c, err := Dial(ctx, cfg, tc.trust)
			if err == nil {
				c.Close()
			}
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
			t.Log(err)
		})
	}
}

func TestRegistryProof(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.dial(t, e.chain.trust(1))
	vh, err := c.VerifiedHeader(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	slots := []common.Hash{slotSet, slotStatus, slotUnset}
	p, err := c.RegistryProof(ctx, vh, slots)
	if err != nil {
		t.Fatal(err)
	}
	if p.Height != 60 || p.StateRoot != e.state.root || p.Address != registryAddr || len(p.AccountProof) == 0 || len(p.Slots) != 3 {
		t.Fatalf("proof %+v", p)
	}
	for i, want := range []common.Hash{valueSet, valueSt, {}} {
		if p.Slots[i].Slot != slots[i] || p.Slots[i].Value != want {
			t.Fatalf("slot %d: %+v, want %s", i, p.Slots[i], want)
		}
		// What the client returns verifies on its own (as the Cosmos side will check it).
		if err := qbft.VerifyStorageValue(p.StorageRoot, slots[i], want, p.Slots[i].Proof); err != nil {
			t.Fatalf("slot %d: %v", i, err)
		}
	}
	if root, err := qbft.VerifyRegistryAccount(p.StateRoot, registryAddr, e.cfg.RegistryCodeHash, p.AccountProof); err != nil || root != p.StorageRoot {
		t.Fatalf("account proof: %v", err)
	}

	for _, tc := range []struct {
		name string
		lie  func(r *qbft.AccountResult)
		want error
	}{
		{"a stated value the proof does not show", func(r *qbft.AccountResult) { r.StorageProof[1].Value = common.HexToHash("0x02") }, qbft.ErrValueMismatch},
		{"an issued slot stated unset", func(r *qbft.AccountResult) { r.StorageProof[0].Value = common.Hash{} }, qbft.ErrValueMismatch},
		{"a tampered storage proof", func(r *qbft.AccountResult) {
			n := r.StorageProof[0].Proof[0]
			n[len(n)/2] ^= 1
		}, qbft.ErrInvalidProof},
		{"a tampered account proof", func(r *qbft.AccountResult) { r.AccountProof[1][20] ^= 1 }, qbft.ErrInvalidProof},
		{"a stated storage hash the proof does not show", func(r *qbft.AccountResult) { r.StorageHash = types.EmptyRootHash }, qbft.ErrValueMismatch},
		{"results out of order", func(r *qbft.AccountResult) {
			r.StorageProof[0], r.StorageProof[1] = r.StorageProof[1], r.StorageProof[0]
		}, ErrInvalidResponse},
		{"a result missing", func(r *qbft.AccountResult) { r.StorageProof = r.StorageProof[:2] }, ErrInvalidResponse},
		{"another account", func(r *qbft.AccountResult) { r.Address = common.HexToAddress("0x1000") }, qbft.ErrInvalidProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.primary.set(func(s *stub) { s.proof = tc.lie })
			t.Cleanup(func() { e.primary.set(func(s *stub) { s.proof = nil }) })
			_, err := c.RegistryProof(ctx, vh, slots)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
			t.Log(err)
		})
	}

	// A pinned code hash of another contract.
	other := e.cfg
	other.RegistryCodeHash = types.EmptyCodeHash
	other.StoreDir = t.TempDir()
	c2 := func() *Client { e2 := *e; e2.cfg = other; return e2.dial(t, e.chain.trust(1)) }()
	vh2, err := c2.VerifiedHeader(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.RegistryProof(ctx, vh2, slots); !errors.Is(err, qbft.ErrCodeHash) {
		t.Fatalf("another code: %v", err)
	}
	// A header the client did not verify.
	forged := *vh
	forged.StateRoot = crypto.Keccak256Hash([]byte("forged"))
	if _, err := c.RegistryProof(ctx, &forged, slots); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("a forged header: %v", err)
	}
	if _, err := c.RegistryProof(ctx, nil, slots); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("no header: %v", err)
	}
}

func TestLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.dial(t, e.chain.trust(1))
	if _, err := c.VerifiedHeader(ctx, 60); err != nil {
		t.Fatal(err)
	}
	issued := crypto.Keccak256Hash([]byte("Issued(bytes32,string,string,string,string,bytes,int64,int64,uint64,bytes,uint64)"))
	id := crypto.Keccak256Hash([]byte("id"))
	good := types.Log{Address: registryAddr, Topics: []common.Hash{issued, id}, Data: []byte{1}, BlockNumber: 42, TxHash: common.HexToHash("0x0a")}
	e.primary.set(func(s *stub) { s.logs = []types.Log{good} })
	logs, err := c.Logs(ctx, 40, 60, [][]common.Hash{{issued}})
	if err != nil || len(logs) != 1 || logs[0].Topics[1] != id || logs[0].BlockNumber != 42 {
		t.Fatalf("logs %+v %v", logs, err)
	}
	if _, err := c.Logs(ctx, 40, 61, nil); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("past the verified header: %v", err)
	}
	if _, err := c.Logs(ctx, 50, 40, nil); err == nil {
		t.Fatal("an empty range accepted")
	}
	for _, tc := range []struct {
		name   string
		change func(l *types.Log)
	}{
		{"another contract", func(l *types.Log) { l.Address = common.HexToAddress("0x01") }},
		{"out of range", func(l *types.Log) { l.BlockNumber = 61 }},
		{"another event", func(l *types.Log) { l.Topics = []common.Hash{id} }},
		{"removed", func(l *types.Log) { l.Removed = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := good
			tc.change(&l)
			e.primary.set(func(s *stub) { s.logs = []types.Log{l} })
			if _, err := c.Logs(ctx, 40, 60, [][]common.Hash{{issued}}); !errors.Is(err, ErrInvalidResponse) {
				t.Fatalf("want %v, got %v", ErrInvalidResponse, err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{Witnesses: []string{""}, TrustingPeriod: -1, MaxClockDrift: -1}.Validate()
	for _, field := range []string{"ChainID", "RPC", "Witnesses[0]", "Registry", "RegistryCodeHash", "TrustingPeriod", "MaxClockDrift", "StoreDir"} {
		if err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("%s not named in %v", field, err)
		}
	}
	e := newEnv(t)
	if err := e.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := (Config{}).withDefaults(); got.MaxClockDrift != DefaultMaxClockDrift || got.Now == nil {
		t.Fatalf("defaults %+v", got)
	}
}

// TestConcurrentVerification verifies heights from several goroutines at once (run with -race): trust
// only moves forward and ends at the highest height asked.
func TestConcurrentVerification(t *testing.T) {
	e := newEnv(t)
	c := e.dial(t, e.chain.trust(1))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for h := uint64(41); h <= 80; h++ {
		wg.Go(func() {
			if _, err := c.VerifiedHeader(context.Background(), h); err != nil {
				errs <- fmt.Errorf("block %d: %w", h, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := c.Trusted(); got.Height != 80 {
		t.Fatalf("trusted %d, want 80", got.Height)
	}
}

// RegistryBlooms walks the verified header's ancestors and keeps the blooms holding the registry; a
// header the primary changes on the way is refused.
func TestRegistryBlooms(t *testing.T) {
	var withRegistry, withOther types.Bloom
	withRegistry.Add(registryAddr[:])
	other := common.HexToAddress("0x0b")
	withOther.Add(other[:])
	e := newEnv(t)
	e.chain = newTestChainBlooms(t, e.state.root, 81, map[uint64]types.Bloom{45: withRegistry, 46: withOther, 20: withRegistry})
	e.primary, e.witness = newStub(t, e.chain, e.state), newStub(t, e.chain, e.state)
	e.cfg.RPC, e.cfg.Witnesses = e.primary.url, []string{e.witness.url}
	ctx := context.Background()
	c := e.dial(t, e.chain.trust(1))
	top, err := c.VerifiedHeader(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.RegistryBlooms(ctx, top, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[45] != withRegistry {
		t.Fatalf("blooms %v, want block 45's only", got)
	}
	if n := e.primary.count("debug_getRawHeader"); n == 0 {
		t.Fatal("no header fetched")
	}
	if got, err := c.RegistryBlooms(ctx, top, 61); err != nil || len(got) != 0 {
		t.Fatalf("from above the top: %v %v", got, err)
	}
	forged := *top
	forged.Hash = common.Hash{1}
	if _, err := c.RegistryBlooms(ctx, &forged, 30); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("a header not verified: %v", err)
	}
	// The primary hides block 45's registry log from its bloom: the header's hash no longer links.
	// block 45 sealed again by its validators, with an empty bloom
	delete(e.chain.blooms, 45)
	vals := e.chain.validators(45)
	hidden := e.chain.block(45, hashOf(t, e.chain.headers[44]), e.state.root, vals, vals[:3])
	e.primary.set(func(s *stub) { s.headers[45] = hidden })
	if _, err := c.RegistryBlooms(ctx, top, 30); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("a changed header in the walk: %v", err)
	}
}

// WitnessLogs: the union of the witnesses' answers; a witness answering with a log the filter did not
// ask for is left out.
func TestWitnessLogs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.dial(t, e.chain.trust(1))
	if _, err := c.VerifiedHeader(ctx, 60); err != nil {
		t.Fatal(err)
	}
	topic := crypto.Keccak256Hash([]byte("StatusChanged"))
	a := types.Log{Address: registryAddr, Topics: []common.Hash{topic, {1}}, BlockNumber: 42, TxHash: common.Hash{0xa}}
	b := types.Log{Address: registryAddr, Topics: []common.Hash{topic, {2}}, BlockNumber: 43, TxHash: common.Hash{0xb}}
	e.witness.set(func(s *stub) { s.logs = []types.Log{b, a, b} })
	logs, n, err := c.WitnessLogs(ctx, 40, 60, [][]common.Hash{{topic}})
	if err != nil || n != 1 || len(logs) != 2 || logs[0].TxHash != a.TxHash || logs[1].TxHash != b.TxHash {
		t.Fatalf("witness logs %+v %d %v", logs, n, err)
	}
	if _, _, err := c.WitnessLogs(ctx, 40, 61, nil); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("past the verified header: %v", err)
	}
	lie := a
	lie.Address = common.HexToAddress("0x0c")
	e.witness.set(func(s *stub) { s.logs = []types.Log{lie} })
	if _, _, err := c.WitnessLogs(ctx, 40, 60, [][]common.Hash{{topic}}); !errors.Is(err, ErrNoWitness) || !errors.Is(err, ErrInvalidResponse) {
		t.Fatalf("a witness's log of another contract: %v", err)
	}
	// A witness behind the range is not asked for logs it does not have yet.
	e.witness.set(func(s *stub) { s.logs, s.head = []types.Log{a}, 50 })
	if _, _, err := c.WitnessLogs(ctx, 40, 60, nil); !errors.Is(err, ErrNoWitness) {
		t.Fatalf("a lagging witness: %v", err)
	}
	e.cfg.Witnesses, e.cfg.StoreDir = nil, t.TempDir()
	alone := e.dial(t, e.chain.trust(1))
	if logs, n, err := alone.WitnessLogs(ctx, 1, 1, nil); logs != nil || n != 0 || err != nil {
		t.Fatalf("without witnesses: %v %d %v", logs, n, err)
	}
}
