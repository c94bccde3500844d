// The registry's storage layout and the hashing rules the contract applies, so that Go code (x/did,
// the city-qbft light client, the relayer) can compute storage slots, check proven storage values and
// predict what the contract accepts without running it.

package contracts

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Storage slots of the contract's state variables. The order is protocol (the Cosmos side proves
// SlotIssued and SlotStatus entries); it never changes.
const (
	SlotAdmin       uint64 = 0  // address admin
	SlotChainID     uint64 = 1  // string chainId
	SlotKeys        uint64 = 2  // mapping(bytes32 KeyID => address)
	SlotTrusted     uint64 = 3  // mapping(bytes32 TrustKey => bool)
	SlotIssuerSeqs  uint64 = 4  // mapping(bytes32 IssuerSeqKey => uint64)
	SlotIssued      uint64 = 5  // mapping(bytes32 id => bytes32 IssuedCommitment)
	SlotStatus      uint64 = 6  // mapping(bytes32 id => uint256 StatusWord)
	SlotIssuerOf    uint64 = 7  // mapping(bytes32 id => bytes32 KeyID of the issuing method)
	SlotIssuerDIDOf uint64 = 8  // mapping(bytes32 id => bytes32 IssuerSeqKey of the issuer DID)
	SlotControllers uint64 = 9  // mapping(bytes32 IssuerSeqKey => address controller; zero: the admin)
	SlotSignedBy    uint64 = 10 // mapping(bytes32 KeyID => Signed[] {id, block}): what a key signed, in issue order
)

// Attestation statuses, as in x/did's AttestationStatus.
const (
	StatusActive    uint8 = 1
	StatusRevoked   uint8 = 2
	StatusSuspended uint8 = 3
)

// SignatureLength is the length of the contract's signatures: r ‖ s ‖ v.
const SignatureLength = 65

// MappingSlot is the storage slot of m[key] for a mapping m declared at slot: keccak256(key ‖ uint256(slot)).
func MappingSlot(key [32]byte, slot uint64) common.Hash {
	var buf [64]byte
	copy(buf[:32], key[:])
	binary.BigEndian.PutUint64(buf[56:], slot)
	return crypto.Keccak256Hash(buf[:])
}

// IssuedSlot is the storage slot of issued[id].
func IssuedSlot(id [32]byte) common.Hash { return MappingSlot(id, SlotIssued) }

// StatusSlot is the storage slot of status[id].
func StatusSlot(id [32]byte) common.Hash { return MappingSlot(id, SlotStatus) }

// IssuedCommitment is the value of issued[id]: keccak256(abi.encode(id, signer, uint64(issuedBlock))).
// It binds the attestation to the key that signed it and the block that issued it.
func IssuedCommitment(id [32]byte, signer common.Address, issuedBlock uint64) [32]byte {
	var buf [96]byte
	copy(buf[:32], id[:])
	copy(buf[44:64], signer[:])
	binary.BigEndian.PutUint64(buf[88:], issuedBlock)
	return crypto.Keccak256Hash(buf[:])
}

// StatusWord is the value of status[id]: status | seq << 8 | block << 72. At issue it is {StatusActive,
// 0, 0}; a status change sets the new status, the issuer sequence that signed it and its block.
type StatusWord struct {
	Status uint8
	Seq    uint64
	Block  uint64
}

// Encode returns the word as the contract stores it: a 32-byte big-endian uint256.
func (w StatusWord) Encode() [32]byte {
	var word [32]byte
	// bits 0..7 status, 8..71 seq, 72..135 block: bytes 31, 23..30 and 15..22 from the left.
	word[31] = w.Status
	binary.BigEndian.PutUint64(word[23:31], w.Seq)
	binary.BigEndian.PutUint64(word[15:23], w.Block)
	return word
}

// DecodeStatusWord splits a status word. It refuses bits the contract never sets (above bit 135).
// A zero word decodes to status 0: the attestation was never issued.
func DecodeStatusWord(word [32]byte) (StatusWord, error) {
	for _, b := range word[:15] {
		if b != 0 {
			return StatusWord{}, fmt.Errorf("status word %x has bits above 136 set", word)
		}
	}
	return StatusWord{
		Status: word[31],
		Seq:    binary.BigEndian.Uint64(word[23:31]),
		Block:  binary.BigEndian.Uint64(word[15:23]),
	}, nil
}

// StorageValue is how a storage word is held in the account's storage trie (and so in an eth_getProof
// storage proof): the RLP of the word's big-endian bytes with leading zeros trimmed. A zero word is not
// held at all; StorageValue returns nil for it and the proof must be one of absence.
func StorageValue(word [32]byte) []byte {
	trimmed := common.TrimLeftZeroes(word[:])
	if len(trimmed) == 0 {
		return nil
	}
	enc, err := rlp.EncodeToBytes(trimmed)
	if err != nil {
		panic(err) // a byte slice always encodes
	}
	return enc
}

// KeyID is the keys/issuerOf key of a DID method: keccak256(did ‖ 0x00 ‖ method).
func KeyID(did, method string) [32]byte { return packedPair(did, method) }

// TrustKey is the trusted key of an issuer for a credential type: keccak256(credentialType ‖ 0x00 ‖ issuerDID).
func TrustKey(credentialType, issuerDID string) [32]byte {
	return packedPair(credentialType, issuerDID)
}

// IssuerSeqKey is the issuerSeqs key of an issuer DID, and the issuerDidOf value of its attestations:
// keccak256(issuerDID).
func IssuerSeqKey(issuerDID string) [32]byte { return crypto.Keccak256Hash([]byte(issuerDID)) }

// packedPair is keccak256(abi.encodePacked(a, bytes1(0x00), b)). The separator keeps ("a", "bc") and
// ("ab", "c") apart; DIDs, methods and credential types never contain a NUL.
func packedPair(a, b string) [32]byte {
	return crypto.Keccak256Hash([]byte(a), []byte{0}, []byte(b))
}

// DIDPrefix is the prefix of every DID of the city chainID: "did:city:<chainID>:".
func DIDPrefix(chainID string) string { return "did:city:" + chainID + ":" }

// IsLocalDID reports whether did is a DID of the city chainID as the contract checks it: the prefix
// "did:city:<chainID>:" followed by a non-empty suffix. (x/did's ParseDID is stricter about the suffix.)
func IsLocalDID(did, chainID string) bool {
	suffix, ok := strings.CutPrefix(did, DIDPrefix(chainID))
	return ok && suffix != ""
}

// AttestationID is the contract's id of an attestation: sha256 of x/did's AttestationSignBytes. x/did's
// string id is IDHex of it.
func AttestationID(signBytes []byte) [32]byte { return sha256.Sum256(signBytes) }

// IDHex is the attestation id as x/did spells it, and as it goes into RevocationSignBytes: 64 lowercase
// hex characters.
func IDHex(id [32]byte) string { return hex.EncodeToString(id[:]) }

// ParseID parses an x/did attestation id (64 lowercase hex characters) into the contract's bytes32 id.
func ParseID(s string) ([32]byte, error) {
	var id [32]byte
	if len(s) != 2*len(id) || strings.ToLower(s) != s {
		return id, fmt.Errorf("attestation id %q is not 64 lowercase hex characters", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("attestation id %q: %w", s, err)
	}
	return id, nil
}

// ValidStatus reports whether s is a status the contract can hold.
func ValidStatus(s uint8) bool {
	return s == StatusActive || s == StatusRevoked || s == StatusSuspended
}

// StatusChangeAllowed reports whether the contract lets an attestation move from one status to another:
// revoked is final and a change must change something (x/did's rule).
func StatusChangeAllowed(from, to uint8) bool {
	return ValidStatus(to) && from != StatusRevoked && from != to
}

// secp256k1HalfN is secp256k1n / 2: the contract refuses signatures with a larger s.
var secp256k1HalfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// Errors of RecoverSigner.
var (
	ErrSignatureLength = errors.New("signature must be 65 bytes")
	ErrSignatureHighS  = errors.New("signature s is high")
	ErrSignatureV      = errors.New("signature v is invalid")
	ErrSignature       = errors.New("signature does not recover")
)

// RecoverSigner recovers the address that signed hash with a 65-byte r ‖ s ‖ v signature, under the
// contract's rules: v ∈ {0, 1, 27, 28}, s ≤ secp256k1n/2, and r, s in the curve's range.
func RecoverSigner(hash [32]byte, sig []byte) (common.Address, error) {
	if len(sig) != SignatureLength {
		return common.Address{}, ErrSignatureLength
	}
	r, s, v := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:64]), sig[64]
	if s.Cmp(secp256k1HalfN) > 0 {
		return common.Address{}, ErrSignatureHighS
	}
	if v >= 27 {
		v -= 27
	}
	if v > 1 {
		return common.Address{}, ErrSignatureV
	}
	if !crypto.ValidateSignatureValues(v, r, s, true) {
		return common.Address{}, ErrSignature
	}
	norm := make([]byte, SignatureLength)
	copy(norm, sig[:64])
	norm[64] = v
	pub, err := crypto.SigToPub(hash[:], norm)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return crypto.PubkeyToAddress(*pub), nil
}
