package types

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"math/big"

	errorsmod "cosmossdk.io/errors"
	"github.com/ethereum/go-ethereum/crypto"
)

// secp256k1HalfN is half the curve order: signatures with s above it are malleable twins and refused.
var secp256k1HalfN = new(big.Int).Rsh(crypto.S256().Params().N, 1)

// VerifySignature checks sig over msg with a key of type kt. secp256k1 signatures are 64-byte r||s over
// sha256(msg) with a low s; ed25519 signatures are over msg itself. Errors wrap ErrInvalidSignature.
func VerifySignature(kt KeyType, pub, msg, sig []byte) error {
	switch kt {
	case KEY_TYPE_SECP256K1:
		if len(sig) != 64 {
			return errorsmod.Wrapf(ErrInvalidSignature, "secp256k1 signature must be 64 bytes, got %d", len(sig))
		}
		if new(big.Int).SetBytes(sig[32:]).Cmp(secp256k1HalfN) > 0 {
			return errorsmod.Wrap(ErrInvalidSignature, "secp256k1 signature has a high s")
		}
		h := sha256.Sum256(msg)
		if !crypto.VerifySignature(pub, h[:], sig) {
			return errorsmod.Wrap(ErrInvalidSignature, "secp256k1 signature does not verify")
		}
	case KEY_TYPE_ED25519:
		if len(pub) != ed25519.PublicKeySize {
			return errorsmod.Wrap(ErrInvalidSignature, "ed25519 key has the wrong size")
		}
		if !ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
			return errorsmod.Wrap(ErrInvalidSignature, "ed25519 signature does not verify")
		}
	default:
		return errorsmod.Wrapf(ErrInvalidSignature, "unknown key type %d", kt)
	}
	return nil
}

// SignSecp256k1 signs sha256(msg) and returns the 64-byte low-s r||s signature the module expects.
func SignSecp256k1(priv *ecdsa.PrivateKey, msg []byte) []byte {
	h := sha256.Sum256(msg)
	sig, err := crypto.Sign(h[:], priv) // 65 bytes r||s||v, s already low
	if err != nil {
		panic(err) // only for a nil or invalid key: a programming error
	}
	return sig[:64]
}

// SignEd25519 signs msg with an ed25519 key.
func SignEd25519(priv ed25519.PrivateKey, msg []byte) []byte { return ed25519.Sign(priv, msg) }
