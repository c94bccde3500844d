package qbft_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/ethereum/go-ethereum/trie/trienode"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"

	"github.com/cityrelay/cityrelay/light/qbft"
)

// world is a committed Ethereum state built by go-ethereum's StateDB: a registry contract with
// attestation slots laid out as CityAttestationRegistry lays them out, another contract, and enough
// accounts and slots that both tries are several nodes deep.
type world struct {
	db       state.Database
	root     common.Hash
	registry common.Address
	codeHash common.Hash
	other    common.Address // a contract with other code
	eoa      common.Address
	issued   common.Hash // slot of issued[id]
	status   common.Hash // slot of status[id]
	issuedV  common.Hash
	statusV  common.Hash
	unset    common.Hash // a slot never written
	storage  common.Hash // the registry's storage root
}

// mappingSlot is Solidity's slot of m[key] for a mapping at slot p.
func mappingSlot(key common.Hash, p uint64) common.Hash {
	return crypto.Keccak256Hash(key.Bytes(), common.BigToHash(new(big.Int).SetUint64(p)).Bytes())
}

func newWorld(t testing.TB) *world {
	t.Helper()
	db := state.NewDatabaseForTesting()
	sdb, err := state.New(types.EmptyRootHash, db)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, registry: common.HexToAddress("0x42000000000000000000000000000000000000a1"),
		other: common.HexToAddress("0x42000000000000000000000000000000000000b2"), eoa: common.HexToAddress("0x1111")}
	code := []byte{0x60, 0x80, 0x60, 0x40, 0x52, 0x00}
	w.codeHash = crypto.Keccak256Hash(code)
	sdb.SetCode(w.registry, code, tracing.CodeChangeUnspecified)
	sdb.SetNonce(w.registry, 1, tracing.NonceChangeUnspecified)
	sdb.SetCode(w.other, []byte{0x60, 0x00, 0x00}, tracing.CodeChangeUnspecified)
	sdb.SetState(w.other, common.Hash{}, common.HexToHash("0x01"))
	sdb.SetBalance(w.eoa, uint256.NewInt(1e18), tracing.BalanceChangeUnspecified)
	sdb.SetNonce(w.eoa, 7, tracing.NonceChangeUnspecified)
	for i := range 300 {
		a := common.BigToAddress(big.NewInt(int64(0x10000 + i)))
		sdb.SetBalance(a, uint256.NewInt(uint64(i+1)), tracing.BalanceChangeUnspecified)
	}
	// admin, then 200 attestations: issued[id] (slot 5) and status[id] (slot 6).
	sdb.SetState(w.registry, common.Hash{}, common.BytesToHash(w.eoa.Bytes()))
	for i := range 200 {
		id := crypto.Keccak256Hash([]byte(fmt.Sprintf("attestation %d", i)))
		issued := crypto.Keccak256Hash(id.Bytes(), []byte("signer"), []byte{byte(i)})
		// status 1 | seq<<8 | block<<72: a word with leading zero bytes, stored trimmed.
		status := new(big.Int).Or(big.NewInt(1), new(big.Int).Lsh(big.NewInt(int64(1000+i)), 72))
		sdb.SetState(w.registry, mappingSlot(id, 5), issued)
		sdb.SetState(w.registry, mappingSlot(id, 6), common.BigToHash(status))
		if i == 17 {
			w.issued, w.status = mappingSlot(id, 5), mappingSlot(id, 6)
			w.issuedV, w.statusV = issued, common.BigToHash(status)
		}
	}
	w.unset = mappingSlot(crypto.Keccak256Hash([]byte("never issued")), 5)
	root, err := sdb.Commit(params.Rules{IsEIP158: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.root = root
	sdb, err = state.New(root, db)
	if err != nil {
		t.Fatal(err)
	}
	w.storage = sdb.GetStorageRoot(w.registry)
	if w.storage == types.EmptyRootHash || sdb.GetCodeHash(w.registry) != w.codeHash {
		t.Fatal("the registry's state was not committed")
	}
	return w
}

// accountProof is the proof eth_getProof serves for addr (go-ethereum's own code path).
func (w *world) accountProof(t testing.TB, addr common.Address) [][]byte {
	t.Helper()
	tr, err := w.db.OpenTrie(w.root)
	if err != nil {
		t.Fatal(err)
	}
	var p trienode.ProofList
	if err := tr.Prove(crypto.Keccak256(addr.Bytes()), &p); err != nil {
		t.Fatal(err)
	}
	return nodes(p)
}

// storageProof is the proof eth_getProof serves for one of addr's slots.
func (w *world) storageProof(t testing.TB, addr common.Address, slot common.Hash) [][]byte {
	t.Helper()
	sdb, err := state.New(w.root, w.db)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := w.db.OpenStorageTrie(w.root, addr, sdb.GetStorageRoot(addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	var p trienode.ProofList
	if err := tr.Prove(crypto.Keccak256(slot.Bytes()), &p); err != nil {
		t.Fatal(err)
	}
	return nodes(p)
}

func nodes(p trienode.ProofList) [][]byte {
	out := make([][]byte, len(p))
	for i, n := range p {
		out[i] = append([]byte(nil), n...)
	}
	return out
}

// tamper returns a copy of proof with one byte of node i flipped.
func tamper(proof [][]byte, i int) [][]byte {
	out := make([][]byte, len(proof))
	for j, n := range proof {
		out[j] = append([]byte(nil), n...)
	}
	out[i][len(out[i])/2] ^= 0x01
	return out
}

func TestProofsVerify(t *testing.T) {
	w := newWorld(t)

	acct, err := qbft.VerifyAccount(w.root, w.eoa, w.accountProof(t, w.eoa))
	if err != nil {
		t.Fatalf("an account's proof: %v", err)
	}
	if acct.Nonce != 7 || acct.Balance.Uint64() != 1e18 || acct.Root != types.EmptyRootHash || common.BytesToHash(acct.CodeHash) != types.EmptyCodeHash {
		t.Fatalf("account %+v", acct)
	}
	proof := w.accountProof(t, w.registry)
	if len(proof) < 3 {
		t.Fatalf("the account trie is only %d nodes deep: the test would not exercise inner nodes", len(proof))
	}
	storage, err := qbft.VerifyRegistryAccount(w.root, w.registry, w.codeHash, proof)
	if err != nil || storage != w.storage {
		t.Fatalf("the registry's account proof: storage root %s (want %s), %v", storage, w.storage, err)
	}
	for _, s := range []struct {
		slot, want common.Hash
	}{{w.issued, w.issuedV}, {w.status, w.statusV}, {common.Hash{}, common.BytesToHash(w.eoa.Bytes())}} {
		p := w.storageProof(t, w.registry, s.slot)
		got, present, err := qbft.VerifyStorage(storage, s.slot, p)
		if err != nil || !present || got != s.want {
			t.Fatalf("slot %s: %s present %v %v, want %s", s.slot, got, present, err, s.want)
		}
		if err := qbft.VerifyStorageValue(storage, s.slot, s.want, p); err != nil {
			t.Fatalf("slot %s: %v", s.slot, err)
		}
	}
}

func TestAbsenceVerifies(t *testing.T) {
	w := newWorld(t)
	unknown := common.HexToAddress("0xdead00000000000000000000000000000000beef")
	if _, err := qbft.VerifyAccount(w.root, unknown, w.accountProof(t, unknown)); !errors.Is(err, qbft.ErrAbsent) {
		t.Fatalf("an unknown account: %v", err)
	}
	if _, err := qbft.VerifyRegistryAccount(w.root, unknown, w.codeHash, w.accountProof(t, unknown)); !errors.Is(err, qbft.ErrAbsent) {
		t.Fatalf("an unknown registry: %v", err)
	}
	p := w.storageProof(t, w.registry, w.unset)
	if v, present, err := qbft.VerifyStorage(w.storage, w.unset, p); err != nil || present || v != (common.Hash{}) {
		t.Fatalf("an unset slot: %s present %v %v", v, present, err)
	}
	if err := qbft.VerifyStorageValue(w.storage, w.unset, common.Hash{}, p); err != nil {
		t.Fatalf("an unset slot as zero: %v", err)
	}
	// An account without storage: every slot is absent from the empty trie, with geth's empty proof
	// or with the empty root node other clients send.
	for _, p := range [][][]byte{nil, {{0x80}}} {
		if _, present, err := qbft.VerifyStorage(types.EmptyRootHash, w.issued, p); err != nil || present {
			t.Fatalf("a slot of the empty trie with proof %x: present %v %v", p, present, err)
		}
	}
}

func TestProofsRefused(t *testing.T) {
	w := newWorld(t)
	regProof := w.accountProof(t, w.registry)
	issuedProof := w.storageProof(t, w.registry, w.issued)
	statusProof := w.storageProof(t, w.registry, w.status)
	unsetProof := w.storageProof(t, w.registry, w.unset)
	otherRoot := w.storageProof(t, w.other, common.Hash{}) // a valid proof in another trie

	account := func(root common.Hash, addr common.Address, proof [][]byte) error {
		_, err := qbft.VerifyRegistryAccount(root, addr, w.codeHash, proof)
		return err
	}
	slot := func(root, slot, want common.Hash, proof [][]byte) error {
		return qbft.VerifyStorageValue(root, slot, want, proof)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		// The proof is for the right account under another (e.g. a later block's) state root.
		{"wrong state root", account(crypto.Keccak256Hash([]byte("root")), w.registry, regProof), qbft.ErrInvalidProof},
		// One byte of the root, an inner node and the leaf changed: the hash chain breaks.
		{"tampered root node", account(w.root, w.registry, tamper(regProof, 0)), qbft.ErrInvalidProof},
		{"tampered inner node", account(w.root, w.registry, tamper(regProof, 1)), qbft.ErrInvalidProof},
		{"tampered leaf", account(w.root, w.registry, tamper(regProof, len(regProof)-1)), qbft.ErrInvalidProof},
		{"tampered storage leaf", slot(w.storage, w.issued, w.issuedV, tamper(issuedProof, len(issuedProof)-1)), qbft.ErrInvalidProof},
		// The leaf is missing: the proof stops short.
		{"truncated proof", account(w.root, w.registry, regProof[:len(regProof)-1]), qbft.ErrInvalidProof},
		// The EOA's proof presented as the registry's: it does not reach the registry's key.
		{"a proof for another address", account(w.root, w.registry, w.accountProof(t, w.eoa)), qbft.ErrInvalidProof},
		// The other contract exists, with other code.
		{"another code hash", account(w.root, w.other, w.accountProof(t, w.other)), qbft.ErrCodeHash},
		{"pinned another code hash", func() error {
			_, err := qbft.VerifyRegistryAccount(w.root, w.registry, types.EmptyCodeHash, regProof)
			return err
		}(), qbft.ErrCodeHash},
		{"an empty account proof", account(w.root, w.registry, nil), qbft.ErrInvalidProof},
		{"an empty storage proof", slot(w.storage, w.issued, w.issuedV, nil), qbft.ErrInvalidProof},
		// issued[id]'s proof presented for status[id] (both set): it does not reach status's key.
		{"a slot's proof for another set slot", slot(w.storage, w.status, w.issuedV, issuedProof), qbft.ErrInvalidProof},
		// issued[id]'s proof presented as the never-issued slot holding issued[id]'s value.
		{"presence shown for an unset slot", slot(w.storage, w.unset, w.issuedV, issuedProof), qbft.ErrInvalidProof},
		{"wrong value", slot(w.storage, w.status, w.issuedV, statusProof), qbft.ErrValueMismatch},
		{"zero claimed for a set slot", slot(w.storage, w.issued, common.Hash{}, issuedProof), qbft.ErrValueMismatch},
		{"a value claimed for an unset slot", slot(w.storage, w.unset, w.issuedV, unsetProof), qbft.ErrValueMismatch},
		{"a storage proof from another contract", slot(w.storage, common.Hash{}, common.HexToHash("0x01"), otherRoot), qbft.ErrInvalidProof},
		{"an account proof as a storage proof", slot(w.root, w.issued, w.issuedV, regProof), qbft.ErrInvalidProof},
		{"a node in a proof of the empty trie", slot(types.EmptyRootHash, w.issued, common.Hash{}, issuedProof[:1]), qbft.ErrInvalidProof},
		{"an empty node", account(w.root, w.registry, append([][]byte{{}}, regProof...)), qbft.ErrInvalidProof},
		{"too many nodes", account(w.root, w.registry, make([][]byte, 1000)), qbft.ErrInvalidProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, tc.err)
			}
			// Every key asked for here exists: no proof may claim it absent.
			if errors.Is(tc.err, qbft.ErrAbsent) {
				t.Fatalf("claimed absent: %v", tc.err)
			}
			t.Log(tc.err)
		})
	}
}

// TestMalformedLeaves proves values no Ethereum client would store, in tries built directly: the
// hashes check out, the values must still be refused.
func TestMalformedLeaves(t *testing.T) {
	tr, err := trie.NewStateTrie(trie.StateTrieID(types.EmptyRootHash), triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil))
	if err != nil {
		t.Fatal(err)
	}
	addr, slotZero, slotLong, slotList := common.HexToAddress("0xaa"), common.HexToHash("0x01"), common.HexToHash("0x02"), common.HexToHash("0x03")
	tr.MustUpdate(addr.Bytes(), []byte{0xc3, 0x01, 0x02, 0x03})                // a list of three, not an account
	tr.MustUpdate(slotZero.Bytes(), []byte{0x82, 0x00, 0x01})                  // a word with a leading zero
	tr.MustUpdate(slotLong.Bytes(), append([]byte{0xa1}, make([]byte, 33)...)) // 33 bytes
	tr.MustUpdate(slotList.Bytes(), []byte{0xc1, 0x01})                        // a list
	root := tr.Hash()
	prove := func(key []byte) [][]byte {
		var p trienode.ProofList
		if err := tr.Prove(crypto.Keccak256(key), &p); err != nil {
			t.Fatal(err)
		}
		return nodes(p)
	}
	if _, err := qbft.VerifyAccount(root, addr, prove(addr.Bytes())); !errors.Is(err, qbft.ErrInvalidProof) || errors.Is(err, qbft.ErrAbsent) {
		t.Fatalf("a malformed account: %v", err)
	}
	for _, s := range []common.Hash{slotZero, slotLong, slotList} {
		if _, _, err := qbft.VerifyStorage(root, s, prove(s.Bytes())); !errors.Is(err, qbft.ErrInvalidProof) {
			t.Fatalf("malformed value at %s: %v", s, err)
		}
	}
}

// getProof builds the eth_getProof result go-ethereum serves for addr and slots, through JSON.
func (w *world) getProof(t testing.TB, addr common.Address, slots ...common.Hash) *qbft.AccountResult {
	t.Helper()
	sdb, err := state.New(w.root, w.db)
	if err != nil {
		t.Fatal(err)
	}
	r := qbft.AccountResult{Address: addr, Balance: (*hexutil.Big)(sdb.GetBalance(addr).ToBig()), CodeHash: sdb.GetCodeHash(addr),
		Nonce: hexutil.Uint64(sdb.GetNonce(addr)), StorageHash: sdb.GetStorageRoot(addr)}
	for _, n := range w.accountProof(t, addr) {
		r.AccountProof = append(r.AccountProof, n)
	}
	for _, s := range slots {
		sr := qbft.StorageResult{Key: s, Value: sdb.GetState(addr, s)}
		for _, n := range w.storageProof(t, addr, s) {
			sr.Proof = append(sr.Proof, n)
		}
		r.StorageProof = append(r.StorageProof, sr)
	}
	bz, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var out qbft.AccountResult
	if err := json.Unmarshal(bz, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func TestAccountResult(t *testing.T) {
	w := newWorld(t)
	good := func() *qbft.AccountResult { return w.getProof(t, w.registry, w.issued, w.status, w.unset) }
	if root, err := good().Verify(w.root, w.registry, w.codeHash); err != nil || root != w.storage {
		t.Fatalf("an honest result: %s %v", root, err)
	}
	for _, tc := range []struct {
		name   string
		change func(r *qbft.AccountResult)
		want   error
	}{
		{"another address", func(r *qbft.AccountResult) { r.Address = w.other }, qbft.ErrInvalidProof},
		{"a balance the proof does not show", func(r *qbft.AccountResult) { r.Balance = (*hexutil.Big)(big.NewInt(5)) }, qbft.ErrValueMismatch},
		{"no balance", func(r *qbft.AccountResult) { r.Balance = nil }, qbft.ErrValueMismatch},
		{"a nonce the proof does not show", func(r *qbft.AccountResult) { r.Nonce++ }, qbft.ErrValueMismatch},
		{"a code hash the proof does not show", func(r *qbft.AccountResult) { r.CodeHash = types.EmptyCodeHash }, qbft.ErrValueMismatch},
		{"a storage hash the proof does not show", func(r *qbft.AccountResult) { r.StorageHash = types.EmptyRootHash }, qbft.ErrValueMismatch},
		{"a slot's value the proof does not show", func(r *qbft.AccountResult) { r.StorageProof[1].Value = common.HexToHash("0x02") }, qbft.ErrValueMismatch},
		{"an unset slot stated as set", func(r *qbft.AccountResult) { r.StorageProof[2].Value = common.HexToHash("0x01") }, qbft.ErrValueMismatch},
		{"a set slot stated as unset", func(r *qbft.AccountResult) { r.StorageProof[0].Value = common.Hash{} }, qbft.ErrValueMismatch},
		{"a slot's proof swapped", func(r *qbft.AccountResult) { r.StorageProof[0].Proof = r.StorageProof[1].Proof }, qbft.ErrInvalidProof},
		{"a tampered account proof", func(r *qbft.AccountResult) { r.AccountProof[1][40] ^= 1 }, qbft.ErrInvalidProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.change(r)
			if _, err := r.Verify(w.root, w.registry, w.codeHash); !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
	if _, err := w.getProof(t, w.other).Verify(w.root, w.other, w.codeHash); !errors.Is(err, qbft.ErrCodeHash) {
		t.Fatalf("another contract: %v", err)
	}
}

func TestStorageResultJSON(t *testing.T) {
	for _, tc := range []struct {
		in         string
		key, value common.Hash
		fail       bool
	}{
		// Keys as 32-byte hashes (what we send), as quantities (geth echoes short keys so); values as
		// quantities and, leniently, with leading zeros.
		{in: `{"key":"0x0000000000000000000000000000000000000000000000000000000000000005","value":"0x0","proof":[]}`, key: common.HexToHash("0x05")},
		{in: `{"key":"0x5","value":"0x1ff","proof":["0x80"]}`, key: common.HexToHash("0x05"), value: common.HexToHash("0x01ff")},
		{in: `{"key":"0x05","value":"0x0001","proof":null}`, key: common.HexToHash("0x05"), value: common.HexToHash("0x01")},
		{in: `{"key":"5","value":"0x0","proof":[]}`, fail: true},
		{in: `{"key":"0x-5","value":"0x0","proof":[]}`, fail: true},
		{in: `{"key":"0x","value":"0x0","proof":[]}`, fail: true},
		{in: `{"key":"0x5","value":"0x1` + fmt.Sprintf("%064x", 0) + `","proof":[]}`, fail: true},
		{in: `{"key":"0x5","value":"0x0","proof":["0xz"]}`, fail: true},
	} {
		var s qbft.StorageResult
		err := json.Unmarshal([]byte(tc.in), &s)
		if tc.fail {
			if err == nil {
				t.Errorf("%s: accepted", tc.in)
			}
			continue
		}
		if err != nil || s.Key != tc.key || s.Value != tc.value {
			t.Errorf("%s: key %s value %s %v", tc.in, s.Key, s.Value, err)
		}
	}
	bz, err := json.Marshal(qbft.StorageResult{Key: common.HexToHash("0x05"), Value: common.HexToHash("0x01ff")})
	if want := `{"key":"0x0000000000000000000000000000000000000000000000000000000000000005","value":"0x1ff","proof":[]}`; err != nil || string(bz) != want {
		t.Fatalf("marshal: %s %v, want %s", bz, err, want)
	}
}

// FuzzVerifyStorage feeds mutated proofs to the verifier: it must never panic, and whatever it
// accepts for the issued slot must be the slot's true value.
func FuzzVerifyStorage(f *testing.F) {
	w := newWorld(f)
	proof := w.storageProof(f, w.registry, w.issued)
	var seed []byte
	for _, n := range proof {
		seed = binary.BigEndian.AppendUint16(seed, uint16(len(n)))
		seed = append(seed, n...)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, bz []byte) {
		var p [][]byte
		for len(bz) >= 2 {
			n := int(binary.BigEndian.Uint16(bz))
			bz = bz[2:]
			n = min(n, len(bz))
			p, bz = append(p, bz[:n]), bz[n:]
		}
		v, present, err := qbft.VerifyStorage(w.storage, w.issued, p)
		if err == nil && present && v != w.issuedV {
			t.Fatalf("accepted %s for the issued slot", v)
		}
	})
}

// BenchmarkVerifyAttestationProofs is the per-attestation proof cost on the Cosmos side: the
// registry's account proof and the storage proofs of issued[id] and status[id].
func BenchmarkVerifyAttestationProofs(b *testing.B) {
	w := newWorld(b)
	acct := w.accountProof(b, w.registry)
	issued, status := w.storageProof(b, w.registry, w.issued), w.storageProof(b, w.registry, w.status)
	b.ReportMetric(float64(len(acct)+len(issued)+len(status)), "nodes")
	for b.Loop() {
		root, err := qbft.VerifyRegistryAccount(w.root, w.registry, w.codeHash, acct)
		if err != nil {
			b.Fatal(err)
		}
		if err := qbft.VerifyStorageValue(root, w.issued, w.issuedV, issued); err != nil {
			b.Fatal(err)
		}
		if err := qbft.VerifyStorageValue(root, w.status, w.statusV, status); err != nil {
			b.Fatal(err)
		}
	}
}
