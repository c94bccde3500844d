package types

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	errorsmod "cosmossdk.io/errors"
	"github.com/ethereum/go-ethereum/crypto"
)

// DIDPrefix starts every city DID: did:city:<chain-id>:<suffix>.
const DIDPrefix = "did:city:"

// FormatDID returns did:city:<chainID>:<suffix>.
func FormatDID(chainID, suffix string) string { return DIDPrefix + chainID + ":" + suffix }

// ParseDID splits a city DID into its chain id and suffix. The chain id is [a-z0-9-]{1,48}; the
// suffix is [A-Za-z0-9._-]{1,64}; the whole DID is at most MaxDIDLength bytes. Errors wrap ErrInvalidDID.
func ParseDID(s string) (chainID, suffix string, err error) {
	if len(s) > MaxDIDLength {
		return "", "", errorsmod.Wrapf(ErrInvalidDID, "%d bytes, limit %d", len(s), MaxDIDLength)
	}
	rest, ok := strings.CutPrefix(s, DIDPrefix)
	if !ok {
		return "", "", errorsmod.Wrapf(ErrInvalidDID, "%q does not start with %q", s, DIDPrefix)
	}
	chainID, suffix, ok = strings.Cut(rest, ":")
	if !ok {
		return "", "", errorsmod.Wrapf(ErrInvalidDID, "%q has no suffix", s)
	}
	if err := ValidateChainID(chainID); err != nil {
		return "", "", errorsmod.Wrapf(ErrInvalidDID, "%q: %s", s, err)
	}
	if suffix == "" || len(suffix) > MaxSuffixLength {
		return "", "", errorsmod.Wrapf(ErrInvalidDID, "%q: suffix must be 1 to %d bytes", s, MaxSuffixLength)
	}
	for _, r := range suffix {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return "", "", errorsmod.Wrapf(ErrInvalidDID, "%q: suffix character %q not in [A-Za-z0-9._-]", s, r)
		}
	}
	return chainID, suffix, nil
}

// ValidateChainID checks a chain id as used in DIDs and store keys: [a-z0-9-]{1,48}.
func ValidateChainID(chainID string) error {
	if chainID == "" || len(chainID) > MaxChainIDLength {
		return fmt.Errorf("chain id must be 1 to %d bytes", MaxChainIDLength)
	}
	for _, r := range chainID {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("chain id character %q not in [a-z0-9-]", r)
		}
	}
	return nil
}

// ValidateMethodID checks a verification method fragment: [A-Za-z0-9_-]{1,32}.
func ValidateMethodID(id string) error {
	if id == "" || len(id) > MaxMethodIDLength {
		return errorsmod.Wrapf(ErrInvalidKey, "method id must be 1 to %d bytes", MaxMethodIDLength)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return errorsmod.Wrapf(ErrInvalidKey, "method id character %q not in [A-Za-z0-9_-]", r)
		}
	}
	return nil
}

// ValidatePublicKey checks that pub is a well-formed key of type kt: a 33-byte compressed secp256k1
// point on the curve, or a 32-byte ed25519 key.
func ValidatePublicKey(kt KeyType, pub []byte) error {
	switch kt {
	case KEY_TYPE_SECP256K1:
		if len(pub) != 33 {
			return errorsmod.Wrapf(ErrInvalidKey, "secp256k1 key must be 33 bytes (compressed), got %d", len(pub))
		}
		if _, err := crypto.DecompressPubkey(pub); err != nil {
			return errorsmod.Wrapf(ErrInvalidKey, "secp256k1 key: %s", err)
		}
	case KEY_TYPE_ED25519:
		if len(pub) != ed25519.PublicKeySize {
			return errorsmod.Wrapf(ErrInvalidKey, "ed25519 key must be %d bytes, got %d", ed25519.PublicKeySize, len(pub))
		}
	default:
		return errorsmod.Wrapf(ErrInvalidKey, "unknown key type %d", kt)
	}
	return nil
}

// ValidAt reports whether the method was valid at height h (created at or before h, not revoked by h).
func (m VerificationMethod) ValidAt(h int64) bool {
	return m.CreatedHeight <= h && (m.RevokedHeight == 0 || m.RevokedHeight > h)
}

// ValidAt reports whether the key was valid at height h of its chain.
func (k IssuerKey) ValidAt(h int64) bool {
	return k.CreatedHeight <= h && (k.RevokedHeight == 0 || k.RevokedHeight > h)
}

// Method returns the verification method with the given fragment.
func (d *DIDDocument) Method(id string) (*VerificationMethod, bool) {
	for i := range d.Methods {
		if d.Methods[i].Id == id {
			return &d.Methods[i], true
		}
	}
	return nil, false
}

// Active reports whether the DID is not deactivated.
func (d *DIDDocument) Active() bool { return d.DeactivatedHeight == 0 }

// IssuerKeyOf returns the packet form of a verification method.
func IssuerKeyOf(m VerificationMethod) IssuerKey {
	return IssuerKey{Type: m.Type, PublicKey: m.PublicKey, CreatedHeight: m.CreatedHeight, RevokedHeight: m.RevokedHeight}
}

// validateSimple checks a credential type, service type or id: printable, no '/', bounded.
func validateSimple(what, s string, max int) error {
	if s == "" {
		return errorsmod.Wrapf(ErrInvalidRequest, "%s is empty", what)
	}
	if len(s) > max {
		return errorsmod.Wrapf(ErrTooLarge, "%s is %d bytes, limit %d", what, len(s), max)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '/' {
			return errorsmod.Wrapf(ErrInvalidRequest, "%s has character %q (printable ASCII without '/' only)", what, r)
		}
	}
	return nil
}
