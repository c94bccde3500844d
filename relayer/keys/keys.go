// Package keys opens the relayer's keyrings: one per chain under <home>/keys/<chain-id>, encrypted
// (the "file" backend) unless the chain is a devnet. Keys never appear in config or logs.
package keys

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	cryptocodec "github.com/cosmos/cosmos-sdk/crypto/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ErrTestBackend is returned when the unencrypted test keyring is asked for on a non-devnet chain.
var ErrTestBackend = errors.New("the test keyring stores keys unencrypted: allowed only for a devnet chain")

// Options describe a chain's keyring.
type Options struct {
	Home    string
	ChainID string
	Backend string // file | test
	Devnet  bool
	// Passphrase unlocks the file backend; when empty it is read from Input (a prompt).
	Passphrase string
	Input      io.Reader
}

// keyCodec is the encoding of the keyring's records: a key's record holds its public and private
// keys as protobuf Anys of the SDK's crypto types, and nothing else (no message, no address: those
// are the chain's encoding, chains/cosmos.NewEncoding).
func keyCodec() codec.Codec {
	registry := codectypes.NewInterfaceRegistry()
	cryptocodec.RegisterInterfaces(registry)
	registerEth(registry)
	return codec.NewProtoCodec(registry)
}

// supportedAlgos lets the keyring create secp256k1 (the SDK's) and eth_secp256k1 keys.
func supportedAlgos(o *keyring.Options) {
	o.SupportedAlgos = keyring.SigningAlgoList{hd.Secp256k1, EthSecp256k1}
}

// Dir is the keyring directory of a chain.
func Dir(home, chainID string) string { return filepath.Join(home, "keys", chainID) }

// Open opens (creating if needed) the keyring of a chain.
func Open(o Options) (keyring.Keyring, error) {
	input := o.Input
	switch o.Backend {
	case keyring.BackendTest:
		if !o.Devnet {
			return nil, fmt.Errorf("keyring of %s: %w", o.ChainID, ErrTestBackend)
		}
	case keyring.BackendFile:
		if o.Passphrase != "" {
			// The file backend asks twice when it creates the keyring, once after.
			input = strings.NewReader(o.Passphrase + "\n" + o.Passphrase + "\n")
		}
	default:
		return nil, fmt.Errorf("keyring of %s: backend %q: use file (or test on a devnet)", o.ChainID, o.Backend)
	}
	kr, err := keyring.New("cityrelay", o.Backend, Dir(o.Home, o.ChainID), input, keyCodec(), supportedAlgos)
	if err != nil {
		return nil, fmt.Errorf("keyring of %s: %w", o.ChainID, err)
	}
	return kr, nil
}

// Add creates a key and returns its address and mnemonic (show the mnemonic once; never log it).
func Add(kr keyring.Keyring, name, prefix string) (address, mnemonic string, err error) {
	return AddWith(kr, name, prefix, DefaultSpec())
}

// AddWith creates a key of spec's algorithm at spec's HD path.
func AddWith(kr keyring.Keyring, name, prefix string, spec Spec) (address, mnemonic string, err error) {
	algo, err := spec.algo()
	if err != nil {
		return "", "", fmt.Errorf("add key %s: %w", name, err)
	}
	rec, mnemonic, err := kr.NewMnemonic(name, keyring.English, spec.HDPath, keyring.DefaultBIP39Passphrase, algo)
	if err != nil {
		return "", "", fmt.Errorf("add key %s: %w", name, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return "", "", err
	}
	address, err = sdk.Bech32ifyAddressBytes(prefix, addr)
	return address, mnemonic, err
}

// Restore imports a key from its mnemonic.
func Restore(kr keyring.Keyring, name, mnemonic, prefix string) (string, error) {
	return RestoreWith(kr, name, mnemonic, prefix, DefaultSpec())
}

// RestoreWith imports a key from its mnemonic, of spec's algorithm at spec's HD path.
func RestoreWith(kr keyring.Keyring, name, mnemonic, prefix string, spec Spec) (string, error) {
	algo, err := spec.algo()
	if err != nil {
		return "", fmt.Errorf("restore key %s: %w", name, err)
	}
	rec, err := kr.NewAccount(name, strings.TrimSpace(mnemonic), keyring.DefaultBIP39Passphrase, spec.HDPath, algo)
	if err != nil {
		return "", fmt.Errorf("restore key %s: %w", name, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return "", err
	}
	return sdk.Bech32ifyAddressBytes(prefix, addr)
}

// Address returns the address of a key with the chain's prefix.
func Address(kr keyring.Keyring, name, prefix string) (string, error) {
	rec, err := kr.Key(name)
	if err != nil {
		return "", fmt.Errorf("key %s: %w", name, err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return "", err
	}
	return sdk.Bech32ifyAddressBytes(prefix, addr)
}

// List returns the key names and addresses.
func List(kr keyring.Keyring, prefix string) (map[string]string, error) {
	recs, err := kr.List()
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	out := map[string]string{}
	for _, r := range recs {
		addr, err := r.GetAddress()
		if err != nil {
			return nil, err
		}
		if out[r.Name], err = sdk.Bech32ifyAddressBytes(prefix, addr); err != nil {
			return nil, err
		}
	}
	return out, nil
}
