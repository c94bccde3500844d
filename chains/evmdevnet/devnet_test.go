package evmdevnet_test

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"

	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light/qbft"
)

// runtimeCode is a hand-assembled contract. Called with 64 bytes (slot, value) it stores value at slot
// and emits LOG1(topic slot, data value); called with 32 bytes (slot) it returns the slot's value.
var runtimeCode = func() []byte {
	code := []byte{
		0x36,       // CALLDATASIZE
		0x60, 0x20, // PUSH1 32
		0x14,       // EQ
		0x60, 0x00, // PUSH1 get (patched below)
		0x57, // JUMPI
		// set(slot, value)
		0x60, 0x20, 0x35, // PUSH1 32 CALLDATALOAD      [v]
		0x60, 0x00, 0x35, // PUSH1 0 CALLDATALOAD       [v k]
		0x80,       // DUP1                       [v k k]
		0x82,       // DUP3                       [v k k v]
		0x90,       // SWAP1                      [v k v k]
		0x55,       // SSTORE slot k := v         [v k]
		0x60, 0x20, // PUSH1 32 (size)
		0x60, 0x20, // PUSH1 32 (calldata offset)
		0x60, 0x00, // PUSH1 0 (memory offset)
		0x37,       // CALLDATACOPY mem[0:32] := v    [v k]
		0x60, 0x20, // PUSH1 32 (size)
		0x60, 0x00, // PUSH1 0 (offset)
		0xa1, // LOG1 topic k, data v                   [v]
		0x00, // STOP
	}
	get := len(code)
	code[5] = byte(get)
	return append(code,
		0x5b,             // JUMPDEST
		0x60, 0x00, 0x35, // PUSH1 0 CALLDATALOAD       [k]
		0x54,       // SLOAD                            [v]
		0x60, 0x00, // PUSH1 0
		0x52,       // MSTORE mem[0:32] := v
		0x60, 0x20, // PUSH1 32 (size)
		0x60, 0x00, // PUSH1 0 (offset)
		0xf3, // RETURN
	)
}()

// initCode returns runtimeCode: CODECOPY it to memory and RETURN it.
var initCode = func() []byte {
	const ctorLen = 11
	ctor := []byte{
		0x60, byte(len(runtimeCode)), // PUSH1 len
		0x80,          // DUP1
		0x60, ctorLen, // PUSH1 offset of the runtime code
		0x60, 0x00, // PUSH1 0
		0x39,       // CODECOPY mem[0:len] := code[offset:offset+len]
		0x60, 0x00, // PUSH1 0
		0xf3, // RETURN mem[0:len]
	}
	if len(ctor) != ctorLen {
		panic("constructor length")
	}
	return append(ctor, runtimeCode...)
}()

func set(slot, value common.Hash) []byte { return append(slot.Bytes(), value.Bytes()...) }

// rawHeader fetches debug_getRawHeader and parses it as a QBFT header.
func rawHeader(t *testing.T, rc *rpc.Client, n uint64) ([]byte, *qbft.Header) {
	t.Helper()
	var raw hexutil.Bytes
	if err := rc.Call(&raw, "debug_getRawHeader", hexutil.EncodeUint64(n)); err != nil {
		t.Fatalf("debug_getRawHeader %d: %v", n, err)
	}
	h, err := qbft.ParseHeader(raw)
	if err != nil {
		t.Fatalf("parse header %d: %v", n, err)
	}
	return raw, h
}

type proofResult struct {
	Address      common.Address `json:"address"`
	AccountProof []string       `json:"accountProof"`
	Balance      *hexutil.Big   `json:"balance"`
	CodeHash     common.Hash    `json:"codeHash"`
	Nonce        hexutil.Uint64 `json:"nonce"`
	StorageHash  common.Hash    `json:"storageHash"`
	StorageProof []struct {
		Key   string       `json:"key"`
		Value *hexutil.Big `json:"value"`
		Proof []string     `json:"proof"`
	} `json:"storageProof"`
}

// verifyProof checks a Merkle proof with go-ethereum's trie.VerifyProof and returns the proven value
// (nil for a proven absence).
func verifyProof(t *testing.T, root common.Hash, key []byte, nodes []string) []byte {
	t.Helper()
	db := rawdb.NewMemoryDatabase()
	for _, n := range nodes {
		bz, err := hexutil.Decode(n)
		if err != nil {
			t.Fatalf("proof node %q: %v", n, err)
		}
		if err := db.Put(crypto.Keccak256(bz), bz); err != nil {
			t.Fatal(err)
		}
	}
	v, err := trie.VerifyProof(root, crypto.Keccak256(key), db)
	if err != nil {
		t.Fatalf("verify proof of %x against %s: %v", key, root, err)
	}
	return v
}

// provenSlot fetches eth_getProof for addr and slot at block n and verifies the account against the
// state root, then the slot against the proven storage root, returning the account and the value.
func provenSlot(t *testing.T, rc *rpc.Client, addr common.Address, slot common.Hash, n uint64, root common.Hash) (*types.StateAccount, *big.Int) {
	t.Helper()
	var p proofResult
	if err := rc.Call(&p, "eth_getProof", addr, []string{slot.Hex()}, hexutil.EncodeUint64(n)); err != nil {
		t.Fatalf("eth_getProof at %d: %v", n, err)
	}
	enc := verifyProof(t, root, addr.Bytes(), p.AccountProof)
	if enc == nil {
		t.Fatalf("account %s proven absent at %d", addr, n)
	}
	var acc types.StateAccount
	if err := rlp.DecodeBytes(enc, &acc); err != nil {
		t.Fatalf("account rlp: %v", err)
	}
	if acc.Root != p.StorageHash || common.BytesToHash(acc.CodeHash) != p.CodeHash || acc.Nonce != uint64(p.Nonce) ||
		acc.Balance.ToBig().Cmp(p.Balance.ToInt()) != 0 {
		t.Fatalf("proven account %+v differs from the answer %+v", acc, p)
	}
	if len(p.StorageProof) != 1 {
		t.Fatalf("%d storage proofs", len(p.StorageProof))
	}
	sp := p.StorageProof[0]
	venc := verifyProof(t, acc.Root, slot.Bytes(), sp.Proof)
	value := new(big.Int)
	if venc != nil {
		var bz []byte
		if err := rlp.DecodeBytes(venc, &bz); err != nil {
			t.Fatalf("slot value rlp: %v", err)
		}
		value.SetBytes(bz)
	}
	if value.Cmp(sp.Value.ToInt()) != 0 {
		t.Fatalf("proven slot value %s, answered %s", value, sp.Value.ToInt())
	}
	return &acc, value
}

func TestDevnet(t *testing.T) {
	c := testnet.EVM(t, evmdevnet.Config{ChainID: 4242, Validators: 4})
	ctx := context.Background()

	addr, err := c.Deploy(initCode, nil)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	slot := common.HexToHash("0x05")
	v1 := common.HexToHash("0xc0ffee")
	r, err := c.Transact(addr, set(slot, v1))
	if err != nil {
		t.Fatalf("transact: %v", err)
	}
	if r.Status != types.ReceiptStatusSuccessful || len(r.Logs) != 1 || r.Logs[0].Topics[0] != slot {
		t.Fatalf("receipt: status %d, logs %v", r.Status, r.Logs)
	}
	out, err := c.Call(addr, slot.Bytes())
	if err != nil || common.BytesToHash(out) != v1 {
		t.Fatalf("call: %x %v", out, err)
	}
	h1 := c.Height()
	if h1 != 2 || r.BlockNumber.Uint64() != h1 {
		t.Fatalf("height %d, receipt block %s", h1, r.BlockNumber)
	}

	// ethclient over the RPC URL.
	ec, err := ethclient.Dial(c.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	rc := ec.Client()
	if id, err := ec.ChainID(ctx); err != nil || id.Uint64() != 4242 {
		t.Fatalf("chain id %v %v", id, err)
	}
	if n, err := ec.BlockNumber(ctx); err != nil || n != h1 {
		t.Fatalf("block number %d %v", n, err)
	}
	hdr, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatalf("header by number: %v", err)
	}
	if hdr.Number.Uint64() != h1 || hdr.Difficulty.Int64() != 1 || hdr.MixDigest != evmdevnet.BFTMixDigest || hdr.BaseFee == nil {
		t.Fatalf("header %+v", hdr)
	}
	if blk, err := ec.BlockByNumber(ctx, new(big.Int).SetUint64(h1)); err != nil || blk.Hash() != hdr.Hash() || len(blk.Transactions()) != 1 {
		t.Fatalf("block by number: %v", err)
	}
	if code, err := ec.CodeAt(ctx, addr, nil); err != nil || !bytes.Equal(code, runtimeCode) {
		t.Fatalf("code %x %v", code, err)
	}
	if out, err := ec.CallContract(ctx, ethereum.CallMsg{To: &addr, Data: slot.Bytes()}, nil); err != nil || common.BytesToHash(out) != v1 {
		t.Fatalf("eth_call %x %v", out, err)
	}
	if rr, err := ec.TransactionReceipt(ctx, r.TxHash); err != nil || rr.Status != 1 || rr.BlockHash != hdr.Hash() || len(rr.Logs) != 1 {
		t.Fatalf("receipt over rpc: %+v %v", rr, err)
	}
	logs, err := ec.FilterLogs(ctx, ethereum.FilterQuery{Addresses: []common.Address{addr}, Topics: [][]common.Hash{{slot}}, FromBlock: big.NewInt(0)})
	if err != nil || len(logs) != 1 || common.BytesToHash(logs[0].Data) != v1 || logs[0].BlockNumber != h1 {
		t.Fatalf("logs %v %v", logs, err)
	}
	if logs, err := ec.FilterLogs(ctx, ethereum.FilterQuery{Topics: [][]common.Hash{{common.HexToHash("0x06")}}}); err != nil || len(logs) != 0 {
		t.Fatalf("logs of another topic %v %v", logs, err)
	}
	if id, err := ec.NetworkID(ctx); err != nil || id.Uint64() != 4242 {
		t.Fatalf("net_version %v %v", id, err)
	}
	if gp, err := ec.SuggestGasPrice(ctx); err != nil || gp.Sign() <= 0 {
		t.Fatalf("gas price %v %v", gp, err)
	}
	if bal, err := ec.BalanceAt(ctx, c.DevAddress(), nil); err != nil || bal.Sign() <= 0 || bal.Cmp(evmdevnet.DefaultDevBalance) >= 0 {
		t.Fatalf("dev balance after paying fees %v %v", bal, err)
	}
	if n, err := ec.NonceAt(ctx, c.DevAddress(), new(big.Int).SetUint64(h1)); err != nil || n != 2 {
		t.Fatalf("dev nonce at %d: %d %v", h1, n, err)
	}
	if v, err := ec.StorageAt(ctx, addr, slot, nil); err != nil || common.BytesToHash(v) != v1 {
		t.Fatalf("storage %x %v", v, err)
	}

	// A transaction signed here and sent over eth_sendRawTransaction is mined before the call returns.
	dev := c.DevKey()
	from := crypto.PubkeyToAddress(dev.PublicKey)
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil || nonce != 2 {
		t.Fatalf("pending nonce %d %v", nonce, err)
	}
	tip, err := ec.SuggestGasTipCap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v2 := common.HexToHash("0xbeef")
	gas, err := ec.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &addr, Data: set(slot, v2)})
	if err != nil {
		t.Fatalf("estimate gas: %v", err)
	}
	tx := types.MustSignNewTx(dev, types.NewLondonSigner(big.NewInt(4242)), &types.DynamicFeeTx{
		ChainID: big.NewInt(4242), Nonce: nonce, GasTipCap: tip, GasFeeCap: new(big.Int).Add(tip, new(big.Int).Mul(hdr.BaseFee, big.NewInt(2))),
		Gas: gas, To: &addr, Data: set(slot, v2),
	})
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("send: %v", err)
	}
	if rr, err := ec.TransactionReceipt(ctx, tx.Hash()); err != nil || rr.Status != 1 {
		t.Fatalf("receipt of the sent transaction: %v", err)
	}
	if err := ec.SendTransaction(ctx, tx); err == nil {
		t.Fatal("the same transaction accepted twice")
	}

	// debug_getRawHeader parses and verifies as QBFT, and commits to the block's state root.
	hdr1, err := ec.HeaderByNumber(ctx, new(big.Int).SetUint64(h1))
	if err != nil {
		t.Fatal(err)
	}
	raw, qh := rawHeader(t, rc, h1)
	if own, err := c.RawHeader(h1); err != nil || !bytes.Equal(own, raw) {
		t.Fatalf("RawHeader differs from debug_getRawHeader: %v", err)
	}
	if crypto.Keccak256Hash(raw) != hdr1.Hash() {
		t.Fatal("the raw header does not hash to the served block hash")
	}
	signers, err := qh.VerifySeals()
	if err != nil {
		t.Fatalf("verify seals: %v", err)
	}
	if len(signers) < 3 {
		t.Fatalf("%d signers", len(signers))
	}
	isVal := map[common.Address]bool{}
	for _, v := range c.Validators() {
		isVal[v] = true
	}
	for _, s := range signers {
		if !isVal[s] {
			t.Fatalf("signer %s not a validator", s)
		}
	}
	if qh.StateRoot() != hdr1.Root || qh.Number().Uint64() != h1 || len(qh.Validators()) != 4 {
		t.Fatalf("qbft header: root %s, number %s", qh.StateRoot(), qh.Number())
	}

	// eth_getProof verifies against that state root.
	acc, val := provenSlot(t, rc, addr, slot, h1, hdr1.Root)
	if common.BytesToHash(acc.CodeHash) != crypto.Keccak256Hash(runtimeCode) {
		t.Fatalf("code hash %x", acc.CodeHash)
	}
	if common.BigToHash(val) != v1 {
		t.Fatalf("slot at %d: %x", h1, val)
	}
	// A slot never written is proven zero.
	if _, zero := provenSlot(t, rc, addr, common.HexToHash("0x07"), h1, hdr1.Root); zero.Sign() != 0 {
		t.Fatalf("unwritten slot %s", zero)
	}
	// An account that does not exist is proven absent.
	var p proofResult
	if err := rc.Call(&p, "eth_getProof", common.HexToAddress("0x1234"), []string{}, hexutil.EncodeUint64(h1)); err != nil {
		t.Fatal(err)
	}
	if v := verifyProof(t, hdr1.Root, common.HexToAddress("0x1234").Bytes(), p.AccountProof); v != nil {
		t.Fatalf("absent account proven %x", v)
	}

	// More blocks later (past go-ethereum's 128 in-memory tries), the old height's proof still holds
	// the old value, the head's the new one.
	for range 130 {
		if _, err := c.Mine(); err != nil {
			t.Fatal(err)
		}
	}
	if _, val := provenSlot(t, rc, addr, slot, h1, hdr1.Root); common.BigToHash(val) != v1 {
		t.Fatalf("old slot value %x", val)
	}
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, val := provenSlot(t, rc, addr, slot, head.Number.Uint64(), head.Root); common.BigToHash(val) != v2 {
		t.Fatalf("new slot value %x", val)
	}

	// Skipping verification from the first header to the head.
	_, qhead := rawHeader(t, rc, head.Number.Uint64())
	tr := qbft.Trusted{Number: qh.Number(), Time: time.Unix(int64(qh.Time()), 0), Validators: qh.Validators()}
	if _, err := qbft.Verify(tr, qhead, qbft.Options{TrustingPeriod: time.Hour, MaxClockDrift: 10 * time.Second}, time.Now()); err != nil {
		t.Fatalf("skipping verification: %v", err)
	}

	// Two seals of four: the header is on the chain, but light clients refuse it.
	c.SetSealers(2)
	n, err := c.Mine()
	if err != nil {
		t.Fatalf("mine under quorum: %v", err)
	}
	_, under := rawHeader(t, rc, n)
	if _, err := under.VerifySeals(); !errors.Is(err, qbft.ErrNoQuorum) {
		t.Fatalf("two of four seals: %v", err)
	}
	c.SetSealers(4)
	n, err = c.Mine()
	if err != nil {
		t.Fatal(err)
	}
	if _, h := rawHeader(t, rc, n); func() error { _, err := h.VerifySeals(); return err }() != nil {
		t.Fatal("full seals after restoring the sealers")
	}
}

func TestBadInput(t *testing.T) {
	c := testnet.EVM(t, evmdevnet.Config{})
	rc, err := rpc.Dial(c.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out any
	for _, tc := range []struct {
		method string
		args   []any
	}{
		{"eth_getProof", []any{common.Address{}, []string{"0xzz"}, "latest"}},
		{"eth_getProof", []any{common.Address{}, []string{"0x" + string(bytes.Repeat([]byte("ab"), 40))}, "latest"}},
		{"eth_getProof", []any{common.Address{}, []string{}, "0x99"}},
		{"debug_getRawHeader", []any{"0x99"}},
		{"eth_sendRawTransaction", []any{"0x1234"}},
		{"eth_getLogs", []any{map[string]any{"fromBlock": "0x5", "toBlock": "0x1"}}},
		{"eth_getLogs", []any{map[string]any{"topics": []any{nil, nil, nil, nil, nil}}}},
		{"eth_getLogs", []any{map[string]any{"address": 5}}},
		{"eth_call", []any{map[string]any{"to": common.Address{}, "gasPrice": "0x1", "maxFeePerGas": "0x1"}, "latest"}},
		{"eth_getBalance", []any{common.Address{}, "0x99"}},
	} {
		err := rc.Call(&out, tc.method, tc.args...)
		if err == nil {
			t.Errorf("%s %v accepted", tc.method, tc.args)
		}
		t.Logf("%s: %v", tc.method, err)
	}
	// An unknown block is null, as in go-ethereum.
	var blk map[string]any
	if err := rc.Call(&blk, "eth_getBlockByNumber", "0x99", false); err != nil || blk != nil {
		t.Fatalf("unknown block: %v %v", blk, err)
	}
	var rcpt map[string]any
	if err := rc.Call(&rcpt, "eth_getTransactionReceipt", common.Hash{}); err != nil || rcpt != nil {
		t.Fatalf("unknown receipt: %v %v", rcpt, err)
	}
	// A reverting call reports the revert.
	addr, err := c.Deploy([]byte{0x60, 0x00, 0x60, 0x00, 0xfd}, nil) // constructor reverts
	if err == nil {
		t.Fatalf("a reverting constructor deployed at %s", addr)
	}
	t.Logf("reverting deploy: %v", err)
	// A non-loopback listen address is refused.
	if _, err := testnet.StartEVM(evmdevnet.Config{ListenAddr: "0.0.0.0:0"}); err == nil {
		t.Fatal("listening on all interfaces")
	}
}

func TestDevnet21(t *testing.T) {
	c := testnet.EVM(t, evmdevnet.Config{Validators: 21})
	if len(c.Validators()) != 21 || len(c.ValidatorKeys()) != 21 {
		t.Fatalf("%d validators", len(c.Validators()))
	}
	n, err := c.Mine()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.RawHeader(n)
	if err != nil {
		t.Fatal(err)
	}
	h, err := qbft.ParseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	signers, err := h.VerifySeals()
	if err != nil || len(signers) < qbft.Quorum(21) {
		t.Fatalf("21 validators: %d signers, %v", len(signers), err)
	}
	c.SetSealers(qbft.Quorum(21) - 1)
	if n, err = c.Mine(); err != nil {
		t.Fatal(err)
	}
	raw, _ = c.RawHeader(n)
	if h, err = qbft.ParseHeader(raw); err != nil {
		t.Fatal(err)
	}
	if _, err := h.VerifySeals(); !errors.Is(err, qbft.ErrNoQuorum) {
		t.Fatalf("13 of 21 seals: %v", err)
	}
}

func TestBlockTime(t *testing.T) {
	c := testnet.EVM(t, evmdevnet.Config{BlockTime: 50 * time.Millisecond})
	deadline := time.Now().Add(5 * time.Second)
	for c.Height() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("height %d after 5s", c.Height())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Deploy still mines its own block at once.
	if _, err := c.Deploy(initCode, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDeterministicKeys(t *testing.T) {
	a := testnet.EVM(t, evmdevnet.Config{})
	b := testnet.EVM(t, evmdevnet.Config{})
	if a.Validators()[0] != b.Validators()[0] || a.DevAddress() != b.DevAddress() {
		t.Fatal("the same seed gave different keys")
	}
	o := testnet.EVM(t, evmdevnet.Config{Seed: "other"})
	if o.Validators()[0] == a.Validators()[0] {
		t.Fatal("another seed gave the same keys")
	}
}

func TestNonceGap(t *testing.T) {
	c := testnet.EVM(t, evmdevnet.Config{ChainID: 7})
	ctx := context.Background()
	ec, err := ethclient.Dial(c.RPCURL())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	signer := types.NewLondonSigner(big.NewInt(7))
	to := common.HexToAddress("0xdead")
	transfer := func(nonce uint64) *types.Transaction {
		return types.MustSignNewTx(c.DevKey(), signer, &types.DynamicFeeTx{
			ChainID: big.NewInt(7), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(10_000_000_000),
			Gas: 21000, To: &to, Value: big.NewInt(1000),
		})
	}
	later, first := transfer(1), transfer(0)
	if err := ec.SendTransaction(ctx, later); err != nil {
		t.Fatal(err)
	}
	if c.Height() != 0 {
		t.Fatalf("a block for a transaction behind a nonce gap: height %d", c.Height())
	}
	if _, err := ec.TransactionReceipt(ctx, later.Hash()); !errors.Is(err, ethereum.NotFound) {
		t.Fatalf("receipt of a waiting transaction: %v", err)
	}
	if n, err := ec.PendingNonceAt(ctx, c.DevAddress()); err != nil || n != 0 {
		t.Fatalf("pending nonce with a gap %d %v", n, err)
	}
	if err := ec.SendTransaction(ctx, first); err != nil {
		t.Fatal(err)
	}
	r0, err0 := ec.TransactionReceipt(ctx, first.Hash())
	r1, err1 := ec.TransactionReceipt(ctx, later.Hash())
	if err0 != nil || err1 != nil || r0.BlockNumber.Uint64() != 1 || r1.BlockNumber.Uint64() != 1 || r1.TransactionIndex != 1 {
		t.Fatalf("receipts %v %v", err0, err1)
	}
	if bal, err := ec.BalanceAt(ctx, to, nil); err != nil || bal.Int64() != 2000 {
		t.Fatalf("balance %v %v", bal, err)
	}
	if err := ec.SendTransaction(ctx, transfer(0)); err == nil {
		t.Fatal("a used nonce accepted")
	}
	tx, pending, err := ec.TransactionByHash(ctx, later.Hash())
	if err != nil || pending || tx.Hash() != later.Hash() {
		t.Fatalf("transaction by hash: %v", err)
	}
}

// TestDeployCityCodeIsChainBound: the registry a devnet deploys holds its chain id in its code
// (immutable evmChainId = block.chainid): eth_getCode serves contracts.RuntimeCodeFor(chainID), so two
// devnets from one seed (same validators, same deployer and nonce, same registry address) hold
// registries with different code hashes.
func TestDeployCityCodeIsChainBound(t *testing.T) {
	var addrs []common.Address
	var hashes []common.Hash
	for _, chainID := range []uint64{evmdevnet.DefaultChainID, 7002} {
		c := testnet.EVM(t, evmdevnet.Config{ChainID: chainID})
		city, err := c.DeployCity("gimpo-evm", "residency")
		if err != nil {
			t.Fatal(err)
		}
		ec, err := ethclient.Dial(c.RPCURL())
		if err != nil {
			t.Fatal(err)
		}
		code, err := ec.CodeAt(context.Background(), city.Registry, nil)
		ec.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(code, contracts.RuntimeCodeFor(chainID)) {
			t.Fatalf("chain %d: eth_getCode of the registry is not RuntimeCodeFor(%d)", chainID, chainID)
		}
		if own, err := c.Code(city.Registry, c.Height()); err != nil || !bytes.Equal(own, code) {
			t.Fatalf("chain %d: Code differs from eth_getCode: %v", chainID, err)
		}
		addrs, hashes = append(addrs, city.Registry), append(hashes, crypto.Keccak256Hash(code))
		if hashes[len(hashes)-1] != contracts.RuntimeCodeHashFor(chainID) {
			t.Fatalf("chain %d: code hash %s, RuntimeCodeHashFor %s", chainID, hashes[len(hashes)-1], contracts.RuntimeCodeHashFor(chainID))
		}
	}
	if addrs[0] != addrs[1] {
		t.Fatalf("registries at %s and %s: the same seed should give the same address", addrs[0], addrs[1])
	}
	if hashes[0] == hashes[1] {
		t.Fatal("two chains' registries have one code hash")
	}
}
