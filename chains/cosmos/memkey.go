package cosmos

import (
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
)

// keyInMemory signs with the relayer's key read once from the keyring. The keyring decrypts its
// store on every access (a PBKDF2 derivation: ~5 ms, twice per signed tx); the decrypted key stays in
// this process's memory, as in any signing daemon, and is never written anywhere or logged.
type keyInMemory struct {
	keyring.Keyring
	name string
	rec  *keyring.Record
	priv cryptotypes.PrivKey
}

// inMemory wraps kr for the key name, or returns kr itself for a key it cannot hold in memory (a
// Ledger, an offline key).
func inMemory(kr keyring.Keyring, name string, rec *keyring.Record) keyring.Keyring {
	local := rec.GetLocal()
	if local == nil || local.PrivKey == nil {
		return kr
	}
	priv, ok := local.PrivKey.GetCachedValue().(cryptotypes.PrivKey)
	if !ok {
		return kr
	}
	return keyInMemory{Keyring: kr, name: name, rec: rec, priv: priv}
}

func (k keyInMemory) Key(uid string) (*keyring.Record, error) {
	if uid != k.name {
		return k.Keyring.Key(uid)
	}
	return k.rec, nil
}

func (k keyInMemory) Sign(uid string, msg []byte, mode signing.SignMode) ([]byte, cryptotypes.PubKey, error) {
	if uid != k.name {
		return k.Keyring.Sign(uid, msg, mode)
	}
	sig, err := k.priv.Sign(msg)
	return sig, k.priv.PubKey(), err
}
