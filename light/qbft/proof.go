package qbft

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/trie"
)

// Errors of Merkle-Patricia proof verification; each wraps ErrInvalidProof, so a caller that needs a
// value present can test for ErrInvalidProof alone, and one that can use a proven absence tests for
// ErrAbsent first.
var (
	ErrInvalidProof = errors.New("invalid merkle proof")
	// ErrAbsent: the proof is valid and shows the key is not in the trie.
	ErrAbsent = fmt.Errorf("%w: key proven absent", ErrInvalidProof)
	// ErrCodeHash: the proven account's code hash is not the pinned one (another contract).
	ErrCodeHash = fmt.Errorf("%w: code hash is not the pinned one", ErrInvalidProof)
	// ErrValueMismatch: the proof shows another value than the one expected or claimed.
	ErrValueMismatch = fmt.Errorf("%w: value mismatch", ErrInvalidProof)
)

// Bounds on a proof's size, checked before any hashing. A key is 32 bytes (64 nibbles) and every
// branch or extension node on its path consumes at least one nibble, so a real path has at most 129
// nodes (mainnet's are about 10); a trie node is at most a branch of 16 hashes (about 532 bytes).
const (
	maxProofNodes = 129
	maxNodeSize   = 1024
)

// emptyNode is the RLP of the empty trie, whose hash is types.EmptyRootHash.
var emptyNode = []byte{0x80}

// proofNodes is a proof's nodes keyed by their hash, the node source trie.VerifyProof reads.
type proofNodes map[common.Hash][]byte

// Has reports whether a node with hash key is in the proof.
func (p proofNodes) Has(key []byte) (bool, error) {
	_, ok := p[common.BytesToHash(key)]
	return ok, nil
}

// Get returns the node with hash key.
func (p proofNodes) Get(key []byte) ([]byte, error) {
	if n, ok := p[common.BytesToHash(key)]; ok {
		return n, nil
	}
	return nil, errors.New("not in proof")
}

// verifyProof walks proof from root along keccak256(key) and returns the value stored there, nil when
// the proof shows the key absent. The proof's nodes may come in any order; nodes off the path are
// ignored (they cannot change the result: every node used is found by its hash).
func verifyProof(root common.Hash, key []byte, proof [][]byte) ([]byte, error) {
	if len(proof) > maxProofNodes {
		return nil, fmt.Errorf("%w: %d nodes, at most %d", ErrInvalidProof, len(proof), maxProofNodes)
	}
	if root == types.EmptyRootHash {
		// The empty trie holds nothing; its one possible node is the empty string (geth sends no
		// node, others the root node itself).
		for i, n := range proof {
			if !bytes.Equal(n, emptyNode) {
				return nil, fmt.Errorf("%w: node %d in a proof of the empty trie", ErrInvalidProof, i)
			}
		}
		return nil, nil
	}
	if len(proof) == 0 {
		return nil, fmt.Errorf("%w: empty proof", ErrInvalidProof)
	}
	nodes := make(proofNodes, len(proof))
	for i, n := range proof {
		if len(n) == 0 || len(n) > maxNodeSize {
			return nil, fmt.Errorf("%w: node %d is %d bytes", ErrInvalidProof, i, len(n))
		}
		nodes[crypto.Keccak256Hash(n)] = n
	}
	v, err := trie.VerifyProof(root, crypto.Keccak256(key), nodes)
	if err != nil {
		return nil, fmt.Errorf("%w: root %s: %v", ErrInvalidProof, root, err)
	}
	return v, nil
}

// VerifyAccount checks an account proof (the nodes of eth_getProof's accountProof) of addr against a
// state root and returns the proven account. A proof that the account does not exist returns an error
// wrapping ErrAbsent; a proof that does not lead from stateRoot to addr's key (wrong root, a changed
// or missing node, a proof for another address), an empty proof and a malformed account all return
// errors wrapping ErrInvalidProof.
func VerifyAccount(stateRoot common.Hash, addr common.Address, proof [][]byte) (*types.StateAccount, error) {
	v, err := verifyProof(stateRoot, addr.Bytes(), proof)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", addr, err)
	}
	if v == nil {
		return nil, fmt.Errorf("account %s at state root %s: %w", addr, stateRoot, ErrAbsent)
	}
	var acct types.StateAccount
	if err := rlp.DecodeBytes(v, &acct); err != nil {
		return nil, fmt.Errorf("%w: account %s: rlp: %v", ErrInvalidProof, addr, err)
	}
	if len(acct.CodeHash) != common.HashLength {
		return nil, fmt.Errorf("%w: account %s: code hash of %d bytes", ErrInvalidProof, addr, len(acct.CodeHash))
	}
	return &acct, nil
}

// VerifyRegistryAccount checks the account proof of a contract whose code is pinned: the account must
// exist at stateRoot (else ErrAbsent) and its code hash must be codeHash (else ErrCodeHash). It
// returns the contract's storage root, which storage proofs are then checked against.
func VerifyRegistryAccount(stateRoot common.Hash, addr common.Address, codeHash common.Hash, proof [][]byte) (common.Hash, error) {
	acct, err := VerifyAccount(stateRoot, addr, proof)
	if err != nil {
		return common.Hash{}, err
	}
	if got := common.BytesToHash(acct.CodeHash); got != codeHash {
		return common.Hash{}, fmt.Errorf("account %s: %w: %s, pinned %s", addr, ErrCodeHash, got, codeHash)
	}
	return acct.Root, nil
}

// VerifyStorage checks a storage proof of slot against a contract's storage root and returns the
// slot's 32-byte word. present is false when the proof shows the slot unset (value zero: Ethereum
// never stores a zero word). A proof that does not lead from storageRoot to the slot's key, an empty
// proof (unless storageRoot is the empty trie's) and a malformed value return errors wrapping
// ErrInvalidProof.
func VerifyStorage(storageRoot common.Hash, slot common.Hash, proof [][]byte) (value common.Hash, present bool, err error) {
	v, err := verifyProof(storageRoot, slot.Bytes(), proof)
	if err != nil {
		return common.Hash{}, false, fmt.Errorf("storage slot %s: %w", slot, err)
	}
	if v == nil {
		return common.Hash{}, false, nil
	}
	// The trie holds RLP(trimmed big-endian word): non-empty, at most 32 bytes, no leading zero.
	var word []byte
	if err := rlp.DecodeBytes(v, &word); err != nil {
		return common.Hash{}, false, fmt.Errorf("%w: storage slot %s: value rlp: %v", ErrInvalidProof, slot, err)
	}
	if len(word) == 0 || len(word) > common.HashLength || word[0] == 0 {
		return common.Hash{}, false, fmt.Errorf("%w: storage slot %s: value %#x is not a trimmed nonzero word", ErrInvalidProof, slot, word)
	}
	return common.BytesToHash(word), true, nil
}

// VerifyStorageValue checks that slot holds exactly want under storageRoot: present with that value
// or, for want zero, proven absent. A valid proof of another value returns ErrValueMismatch (for want
// nonzero and the slot proven unset too).
func VerifyStorageValue(storageRoot, slot, want common.Hash, proof [][]byte) error {
	got, present, err := VerifyStorage(storageRoot, slot, proof)
	if err != nil {
		return err
	}
	if got != want {
		state := "unset"
		if present {
			state = got.Hex()
		}
		return fmt.Errorf("storage slot %s: %w: proven %s, want %s", slot, ErrValueMismatch, state, want)
	}
	return nil
}

// AccountResult is the result of eth_getProof (EIP-1186): an account's fields as the node states them
// and the proofs that should back them. Nothing in it is trusted until Verify returns.
type AccountResult struct {
	Address      common.Address  `json:"address"`
	AccountProof []hexutil.Bytes `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []StorageResult `json:"storageProof"`
}

// Verify checks the result against a verified state root for the contract addr whose code hash is
// pinned: the account proof (as VerifyRegistryAccount), the stated balance, nonce, code hash and
// storage hash against the proven account (ErrValueMismatch), and every storage result against the
// proven storage root (StorageResult.Verify). It returns the proven storage root.
func (r *AccountResult) Verify(stateRoot common.Hash, addr common.Address, codeHash common.Hash) (common.Hash, error) {
	if r.Address != addr {
		return common.Hash{}, fmt.Errorf("%w: proof result for account %s, asked for %s", ErrInvalidProof, r.Address, addr)
	}
	acct, err := VerifyAccount(stateRoot, addr, bytesList(r.AccountProof))
	if err != nil {
		return common.Hash{}, err
	}
	if got := common.BytesToHash(acct.CodeHash); got != codeHash {
		return common.Hash{}, fmt.Errorf("account %s: %w: %s, pinned %s", addr, ErrCodeHash, got, codeHash)
	}
	for _, f := range []struct {
		name          string
		stated, proof string
	}{
		{"balance", bigString(r.Balance), acct.Balance.ToBig().String()},
		{"nonce", fmt.Sprint(uint64(r.Nonce)), fmt.Sprint(acct.Nonce)},
		{"code hash", r.CodeHash.Hex(), common.BytesToHash(acct.CodeHash).Hex()},
		{"storage hash", r.StorageHash.Hex(), acct.Root.Hex()},
	} {
		if f.stated != f.proof {
			return common.Hash{}, fmt.Errorf("account %s: %w: the node states %s %s, its proof %s", addr, ErrValueMismatch, f.name, f.stated, f.proof)
		}
	}
	for i := range r.StorageProof {
		if err := r.StorageProof[i].Verify(acct.Root); err != nil {
			return common.Hash{}, fmt.Errorf("account %s: storage result %d: %w", addr, i, err)
		}
	}
	return acct.Root, nil
}

// bigString formats a stated quantity; a missing one never equals a proven value.
func bigString(b *hexutil.Big) string {
	if b == nil {
		return "(missing)"
	}
	return b.ToInt().String()
}

// StorageResult is one storage slot of an eth_getProof result: the slot, its stated value (zero when
// unset) and the proof. Slots and values are parsed leniently (nodes send them as 32-byte hashes or as
// quantities); they are written as geth writes them.
type StorageResult struct {
	Key   common.Hash
	Value common.Hash
	Proof []hexutil.Bytes
}

// Verify checks that the proof shows the stated value under storageRoot (for a zero value: that the
// slot is unset); see VerifyStorageValue.
func (s *StorageResult) Verify(storageRoot common.Hash) error {
	return VerifyStorageValue(storageRoot, s.Key, s.Value, bytesList(s.Proof))
}

// storageResultJSON is StorageResult's wire form.
type storageResultJSON struct {
	Key   string          `json:"key"`
	Value string          `json:"value"`
	Proof []hexutil.Bytes `json:"proof"`
}

// MarshalJSON writes the slot as a 32-byte hash and the value as a quantity, as geth does.
func (s StorageResult) MarshalJSON() ([]byte, error) {
	proof := s.Proof
	if proof == nil {
		proof = []hexutil.Bytes{}
	}
	return json.Marshal(storageResultJSON{Key: s.Key.Hex(), Value: hexutil.EncodeBig(s.Value.Big()), Proof: proof})
}

// UnmarshalJSON reads a storage result, accepting a slot and value of up to 32 bytes in hex with or
// without leading zeros.
func (s *StorageResult) UnmarshalJSON(bz []byte) error {
	var w storageResultJSON
	if err := json.Unmarshal(bz, &w); err != nil {
		return err
	}
	key, err := parseWord(w.Key)
	if err != nil {
		return fmt.Errorf("storage result key: %w", err)
	}
	value, err := parseWord(w.Value)
	if err != nil {
		return fmt.Errorf("storage result value: %w", err)
	}
	*s = StorageResult{Key: key, Value: value, Proof: w.Proof}
	return nil
}

// parseWord parses 0x-prefixed hex of at most 64 digits (odd lengths and leading zeros allowed) into a
// left-padded 32-byte word.
func parseWord(s string) (common.Hash, error) {
	digits, ok := strings.CutPrefix(s, "0x")
	if !ok {
		if digits, ok = strings.CutPrefix(s, "0X"); !ok {
			return common.Hash{}, fmt.Errorf("%q: want 0x-prefixed hex", s)
		}
	}
	if len(digits) == 0 || len(digits) > 2*common.HashLength {
		return common.Hash{}, fmt.Errorf("%q: want 1 to 64 hex digits", s)
	}
	if len(digits)%2 == 1 {
		digits = "0" + digits
	}
	bz, err := hex.DecodeString(digits)
	if err != nil {
		return common.Hash{}, fmt.Errorf("%q: %v", s, err)
	}
	return common.BytesToHash(bz), nil
}

// bytesList converts hex-decoded proof nodes to the [][]byte the verifiers take (no copy).
func bytesList(nodes []hexutil.Bytes) [][]byte {
	out := make([][]byte, len(nodes))
	for i, n := range nodes {
		out[i] = n
	}
	return out
}
