package contracts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

func mustType(t *testing.T, name string) abi.Type {
	t.Helper()
	typ, err := abi.NewType(name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

func TestMappingSlot(t *testing.T) {
	// keccak256(key ‖ uint256(slot)) through the ABI encoder, an independent implementation.
	key := sha256.Sum256([]byte("some id"))
	for _, slot := range []uint64{0, SlotIssued, SlotStatus, 1 << 40} {
		enc, err := abi.Arguments{{Type: mustType(t, "bytes32")}, {Type: mustType(t, "uint256")}}.
			Pack(key, new(big.Int).SetUint64(slot))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := MappingSlot(key, slot), crypto.Keccak256Hash(enc); got != want {
			t.Errorf("MappingSlot(_, %d) = %x, want %x", slot, got, want)
		}
	}
	if IssuedSlot(key) != MappingSlot(key, 5) || StatusSlot(key) != MappingSlot(key, 6) {
		t.Error("IssuedSlot/StatusSlot do not use slots 5 and 6")
	}
	// Slots are the protocol's, never renumbered.
	if SlotAdmin != 0 || SlotChainID != 1 || SlotKeys != 2 || SlotTrusted != 3 || SlotIssuerSeqs != 4 ||
		SlotIssued != 5 || SlotStatus != 6 || SlotIssuerOf != 7 || SlotIssuerDIDOf != 8 {
		t.Error("storage slots renumbered")
	}
}

func TestIssuedCommitment(t *testing.T) {
	id := sha256.Sum256([]byte("attestation"))
	signer := common.HexToAddress("0x00112233445566778899aabbccddeeff00112233")
	block := uint64(0x0102030405060708)
	enc, err := abi.Arguments{{Type: mustType(t, "bytes32")}, {Type: mustType(t, "address")}, {Type: mustType(t, "uint64")}}.
		Pack(id, signer, block)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := IssuedCommitment(id, signer, block), crypto.Keccak256Hash(enc); got != want {
		t.Errorf("IssuedCommitment = %x, want %x", got, want)
	}
	if IssuedCommitment(id, signer, block) == IssuedCommitment(id, signer, block+1) {
		t.Error("IssuedCommitment ignores the block")
	}
}

func TestStatusWord(t *testing.T) {
	w := StatusWord{Status: StatusRevoked, Seq: 0x1112131415161718, Block: 0x2122232425262728}
	word := w.Encode()
	// status | seq << 8 | block << 72, as big integers.
	want := new(big.Int).SetUint64(w.Block)
	want.Lsh(want, 64).Or(want, new(big.Int).SetUint64(w.Seq))
	want.Lsh(want, 8).Or(want, big.NewInt(int64(w.Status)))
	if got := new(big.Int).SetBytes(word[:]); got.Cmp(want) != 0 {
		t.Fatalf("Encode = %x, want %x", got, want)
	}
	back, err := DecodeStatusWord(word)
	if err != nil || back != w {
		t.Fatalf("DecodeStatusWord = %+v, %v; want %+v", back, err, w)
	}

	// The word the contract writes at issue.
	active := StatusWord{Status: StatusActive}.Encode()
	if new(big.Int).SetBytes(active[:]).Cmp(big.NewInt(1)) != 0 {
		t.Errorf("active word = %x, want 1", active)
	}
	if got, err := DecodeStatusWord([32]byte{}); err != nil || got != (StatusWord{}) {
		t.Errorf("zero word = %+v, %v", got, err)
	}
	word[14] = 1 // bit 136
	if _, err := DecodeStatusWord(word); err == nil {
		t.Error("DecodeStatusWord accepted bits above 136")
	}
}

func TestStorageValue(t *testing.T) {
	if StorageValue([32]byte{}) != nil {
		t.Error("zero word must be absent from the trie")
	}
	word := StatusWord{Status: StatusActive}.Encode()
	if got := StorageValue(word); !bytes.Equal(got, []byte{0x01}) {
		t.Errorf("StorageValue(1) = %x, want 01", got)
	}
	full := crypto.Keccak256Hash([]byte("x"))
	want, _ := rlp.EncodeToBytes(common.TrimLeftZeroes(full[:]))
	if got := StorageValue(full); !bytes.Equal(got, want) {
		t.Errorf("StorageValue = %x, want %x", got, want)
	}
}

func TestKeys(t *testing.T) {
	if got, want := KeyID("did:city:gimpo-evm:issuer", "key-1"),
		crypto.Keccak256Hash([]byte("did:city:gimpo-evm:issuer\x00key-1")); got != want {
		t.Errorf("KeyID = %x, want %x", got, want)
	}
	if got, want := TrustKey("residency-card", "did:city:gimpo-evm:issuer"),
		crypto.Keccak256Hash([]byte("residency-card\x00did:city:gimpo-evm:issuer")); got != want {
		t.Errorf("TrustKey = %x, want %x", got, want)
	}
	if KeyID("a", "bc") == KeyID("ab", "c") {
		t.Error("KeyID does not separate its parts")
	}
	if got, want := IssuerSeqKey("did:city:gimpo-evm:issuer"), crypto.Keccak256Hash([]byte("did:city:gimpo-evm:issuer")); got != want {
		t.Errorf("IssuerSeqKey = %x, want %x", got, want)
	}
}

func TestIsLocalDID(t *testing.T) {
	for did, want := range map[string]bool{
		"did:city:gimpo-evm:issuer": true,
		"did:city:gimpo-evm:":       false,
		"did:city:gimpo-evm":        false,
		"did:city:gimpo:issuer":     false,
		"did:city:gimpo-evm2:x":     false,
		"did:city:seoul:gimpo-evm:": false,
		"":                          false,
	} {
		if got := IsLocalDID(did, "gimpo-evm"); got != want {
			t.Errorf("IsLocalDID(%q) = %v, want %v", did, got, want)
		}
	}
	if DIDPrefix("gimpo-evm") != "did:city:gimpo-evm:" {
		t.Error("DIDPrefix")
	}
}

func TestIDs(t *testing.T) {
	sb := []byte("sign bytes")
	id := AttestationID(sb)
	if id != sha256.Sum256(sb) {
		t.Fatal("AttestationID is not sha256")
	}
	s := IDHex(id)
	if s != hex.EncodeToString(id[:]) || len(s) != 64 {
		t.Fatalf("IDHex = %q", s)
	}
	back, err := ParseID(s)
	if err != nil || back != id {
		t.Fatalf("ParseID = %x, %v", back, err)
	}
	for _, bad := range []string{"", s[:62], s + "00", "0x" + s[2:], "zz" + s[2:]} {
		if _, err := ParseID(bad); err == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	if _, err := ParseID("AB" + s[2:]); err == nil {
		t.Error("ParseID accepted upper case")
	}
}

func TestStatusChangeAllowed(t *testing.T) {
	for _, c := range []struct {
		from, to uint8
		want     bool
	}{
		{StatusActive, StatusSuspended, true},
		{StatusSuspended, StatusActive, true},
		{StatusActive, StatusRevoked, true},
		{StatusSuspended, StatusRevoked, true},
		{StatusActive, StatusActive, false},
		{StatusRevoked, StatusActive, false},
		{StatusRevoked, StatusRevoked, false},
		{StatusActive, 0, false},
		{StatusActive, 4, false},
	} {
		if got := StatusChangeAllowed(c.from, c.to); got != c.want {
			t.Errorf("StatusChangeAllowed(%d, %d) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestRecoverSigner(t *testing.T) {
	priv, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	addr := crypto.PubkeyToAddress(priv.PublicKey)
	h := sha256.Sum256([]byte("message"))
	sig, err := crypto.Sign(h[:], priv)
	if err != nil {
		t.Fatal(err)
	}

	for _, v := range []byte{sig[64], sig[64] + 27} {
		s := bytes.Clone(sig)
		s[64] = v
		if got, err := RecoverSigner(h, s); err != nil || got != addr {
			t.Errorf("v=%d: RecoverSigner = %s, %v; want %s", v, got, err, addr)
		}
	}
	for _, v := range []byte{2, 26, 29, 255} {
		s := bytes.Clone(sig)
		s[64] = v
		if _, err := RecoverSigner(h, s); !errors.Is(err, ErrSignatureV) {
			t.Errorf("v=%d: err = %v, want ErrSignatureV", v, err)
		}
	}
	if _, err := RecoverSigner(h, sig[:64]); !errors.Is(err, ErrSignatureLength) {
		t.Errorf("64 bytes: err = %v", err)
	}
	if _, err := RecoverSigner(h, highS(sig)); !errors.Is(err, ErrSignatureHighS) {
		t.Errorf("high s: err = %v", err)
	}
	zero := make([]byte, SignatureLength)
	if _, err := RecoverSigner(h, zero); !errors.Is(err, ErrSignature) {
		t.Errorf("zero signature: err = %v", err)
	}
}

// highS returns the malleable twin of a low-s signature: (r, n - s, v ^ 1). It recovers the same
// signer, and the contract must refuse it.
func highS(sig []byte) []byte {
	n := crypto.S256().Params().N
	s := new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:64]))
	out := bytes.Clone(sig)
	s.FillBytes(out[32:64])
	out[64] ^= 1
	return out
}
