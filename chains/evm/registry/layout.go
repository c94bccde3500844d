// Package registry is the relayer's side of the CityAttestationRegistry contract (contracts/,
// docs/evm-city.md): its abigen bindings (registry.go, generated), its deployment data (artifacts.go)
// and, here, the storage layout and hashing rules of package contracts under their established names.
// The rules themselves live in package contracts, which the city chain (x/did, city-qbft) shares
// without importing relayer-side code.
package registry

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/cityrelay/cityrelay/contracts"
)

// Storage slots of the contract's state variables (contracts.Slot*).
const (
	SlotAdmin       = contracts.SlotAdmin
	SlotChainID     = contracts.SlotChainID
	SlotKeys        = contracts.SlotKeys
	SlotTrusted     = contracts.SlotTrusted
	SlotIssuerSeqs  = contracts.SlotIssuerSeqs
	SlotIssued      = contracts.SlotIssued
	SlotStatus      = contracts.SlotStatus
	SlotIssuerOf    = contracts.SlotIssuerOf
	SlotIssuerDIDOf = contracts.SlotIssuerDIDOf
	SlotControllers = contracts.SlotControllers
	SlotSignedBy    = contracts.SlotSignedBy
)

// Attestation statuses, as in x/did's AttestationStatus.
const (
	StatusActive    = contracts.StatusActive
	StatusRevoked   = contracts.StatusRevoked
	StatusSuspended = contracts.StatusSuspended
)

// SignatureLength is the length of the contract's signatures: r ‖ s ‖ v.
const SignatureLength = contracts.SignatureLength

// StatusWord is the value of status[id] (contracts.StatusWord).
type StatusWord = contracts.StatusWord

// Errors of RecoverSigner: the same values as contracts', so errors.Is matches either.
var (
	ErrSignatureLength = contracts.ErrSignatureLength
	ErrSignatureHighS  = contracts.ErrSignatureHighS
	ErrSignatureV      = contracts.ErrSignatureV
	ErrSignature       = contracts.ErrSignature
)

// MappingSlot is contracts.MappingSlot.
func MappingSlot(key [32]byte, slot uint64) common.Hash { return contracts.MappingSlot(key, slot) }

// IssuedSlot is contracts.IssuedSlot.
func IssuedSlot(id [32]byte) common.Hash { return contracts.IssuedSlot(id) }

// StatusSlot is contracts.StatusSlot.
func StatusSlot(id [32]byte) common.Hash { return contracts.StatusSlot(id) }

// IssuedCommitment is contracts.IssuedCommitment.
func IssuedCommitment(id [32]byte, signer common.Address, issuedBlock uint64) [32]byte {
	return contracts.IssuedCommitment(id, signer, issuedBlock)
}

// DecodeStatusWord is contracts.DecodeStatusWord.
func DecodeStatusWord(word [32]byte) (StatusWord, error) { return contracts.DecodeStatusWord(word) }

// StorageValue is contracts.StorageValue.
func StorageValue(word [32]byte) []byte { return contracts.StorageValue(word) }

// KeyID is contracts.KeyID.
func KeyID(did, method string) [32]byte { return contracts.KeyID(did, method) }

// TrustKey is contracts.TrustKey.
func TrustKey(credentialType, issuerDID string) [32]byte {
	return contracts.TrustKey(credentialType, issuerDID)
}

// IssuerSeqKey is contracts.IssuerSeqKey.
func IssuerSeqKey(issuerDID string) [32]byte { return contracts.IssuerSeqKey(issuerDID) }

// DIDPrefix is contracts.DIDPrefix.
func DIDPrefix(chainID string) string { return contracts.DIDPrefix(chainID) }

// IsLocalDID is contracts.IsLocalDID.
func IsLocalDID(did, chainID string) bool { return contracts.IsLocalDID(did, chainID) }

// AttestationID is contracts.AttestationID.
func AttestationID(signBytes []byte) [32]byte { return contracts.AttestationID(signBytes) }

// IDHex is contracts.IDHex.
func IDHex(id [32]byte) string { return contracts.IDHex(id) }

// ParseID is contracts.ParseID.
func ParseID(s string) ([32]byte, error) { return contracts.ParseID(s) }

// ValidStatus is contracts.ValidStatus.
func ValidStatus(s uint8) bool { return contracts.ValidStatus(s) }

// StatusChangeAllowed is contracts.StatusChangeAllowed.
func StatusChangeAllowed(from, to uint8) bool { return contracts.StatusChangeAllowed(from, to) }

// RecoverSigner is contracts.RecoverSigner.
func RecoverSigner(hash [32]byte, sig []byte) (common.Address, error) {
	return contracts.RecoverSigner(hash, sig)
}
