package keys_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	ethcommon "github.com/ethereum/go-ethereum/common"
	ethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/cityrelay/cityrelay/relayer/keys"
)

// hardhat is the well-known development mnemonic: go-ethereum's and every Ethereum wallet's HD
// derivation at m/44'/60'/0'/0/0 gives 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (and at index 1,
// 0x70997970C51812dc3A010C7d01b50e0d17dc79C8).
const hardhat = "test test test test test test test test test test test junk"

func u32(v uint32) *uint32 { return &v }

// A key restored with a custom coin type or HD path has the address the SDK's own HD derivation
// gives for that path, and not the default path's.
func TestHDPathAndCoinTypeGiveTheSDKsAddress(t *testing.T) {
	kr, err := keys.Open(keys.Options{Home: t.TempDir(), ChainID: "seoul-1", Backend: "test", Devnet: true})
	if err != nil {
		t.Fatal(err)
	}
	sdkAddress := func(path string) string {
		bz, err := hd.Secp256k1.Derive()(hardhat, "", path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := sdk.Bech32ifyAddressBytes("city", (&secp256k1.PrivKey{Key: bz}).PubKey().Address())
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	def, err := keys.Restore(kr, "default", hardhat, "city")
	if err != nil || def != sdkAddress("m/44'/118'/0'/0/0") {
		t.Fatalf("default path: %s %v, want %s", def, err, sdkAddress("m/44'/118'/0'/0/0"))
	}
	for _, tc := range []struct {
		name     string
		coinType *uint32
		path     string
		want     string
	}{
		{"coin-type 529", u32(529), "", "m/44'/529'/0'/0/0"},
		{"hd-path", nil, "m/44'/118'/1'/0/3", "m/44'/118'/1'/0/3"},
		{"hd-path and the same coin type", u32(330), "m/44'/330'/0'/0/7", "m/44'/330'/0'/0/7"},
	} {
		spec, err := keys.ParseSpec("", tc.coinType, tc.path)
		if err != nil || spec.HDPath != tc.want {
			t.Fatalf("%s: spec %+v %v, want path %s", tc.name, spec, err, tc.want)
		}
		got, err := keys.RestoreWith(kr, strings.ReplaceAll(tc.name, " ", "-"), hardhat, "city", spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if want := sdkAddress(tc.want); got != want || got == def {
			t.Fatalf("%s: address %s, want the SDK's %s for %s (default path's: %s)", tc.name, got, want, tc.want, def)
		}
	}
}

func TestParseSpecRefusesBadOptions(t *testing.T) {
	for _, tc := range []struct {
		algo, path string
		coin       *uint32
		want       string
	}{
		{"ed25519", "", nil, "algorithm"},
		{"", "m/44'/118'/0'/0", nil, "hd path"},
		{"", "m/49'/118'/0'/0/0", nil, "44'"},
		{"", "m/44'/118'/0'/0/0", u32(60), "contradicts"},
		{"", "", u32(1 << 31), "below 2^31"},
	} {
		if _, err := keys.ParseSpec(tc.algo, tc.coin, tc.path); !errors.Is(err, keys.ErrBadSpec) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSpec(%q, %v, %q): %v, want ErrBadSpec about %q", tc.algo, tc.coin, tc.path, err, tc.want)
		}
	}
	if s, err := keys.ParseSpec("eth_secp256k1", nil, ""); err != nil || s.HDPath != "m/44'/60'/0'/0/0" || s.Algo != keys.EthSecp256k1Type {
		t.Fatalf("eth_secp256k1 default: %+v %v, want Ethereum's path", s, err)
	}
}

// An eth_secp256k1 key has the Ethereum address go-ethereum derives (the published vector of the
// mnemonic, and go-ethereum's PubkeyToAddress of the key), signs the Keccak-256 of the sign bytes
// recoverably, and survives the keyring's encrypted store (reopened).
func TestEthSecp256k1KeyHasTheEthereumAddress(t *testing.T) {
	o := keys.Options{Home: t.TempDir(), ChainID: "evmos_9000-1", Backend: "file", Passphrase: "correct horse"}
	kr, err := keys.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := keys.ParseSpec("eth_secp256k1", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.RestoreWith(kr, "eth", hardhat, "evmos", spec); err != nil {
		t.Fatal(err)
	}
	spec1, _ := keys.ParseSpec("eth_secp256k1", nil, "m/44'/60'/0'/0/1")
	if _, err := keys.RestoreWith(kr, "eth1", hardhat, "evmos", spec1); err != nil {
		t.Fatal(err)
	}
	kr, err = keys.Open(o) // from disk
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"eth": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "eth1": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"} {
		rec, err := kr.Key(name)
		if err != nil {
			t.Fatal(err)
		}
		addr, err := rec.GetAddress()
		if err != nil {
			t.Fatal(err)
		}
		if got := ethcommon.BytesToAddress(addr); got != ethcommon.HexToAddress(want) {
			t.Fatalf("%s: address %s, want %s", name, got, want)
		}
		if algo, err := keys.Algo(kr, name); err != nil || algo != "eth_secp256k1" {
			t.Fatalf("%s: algo %q %v", name, algo, err)
		}
		// go-ethereum's own derivation from the key the keyring holds.
		bz, err := hd.Secp256k1.Derive()(hardhat, "", map[string]string{"eth": "m/44'/60'/0'/0/0", "eth1": "m/44'/60'/0'/0/1"}[name])
		if err != nil {
			t.Fatal(err)
		}
		priv, err := ethcrypto.ToECDSA(bz)
		if err != nil {
			t.Fatal(err)
		}
		if ethcrypto.PubkeyToAddress(priv.PublicKey) != ethcommon.BytesToAddress(addr) {
			t.Fatalf("%s: go-ethereum derives %s, the keyring says %X", name, ethcrypto.PubkeyToAddress(priv.PublicKey), addr)
		}
		msg := []byte("sign bytes of a tx")
		sig, pub, err := kr.Sign(name, msg, signing.SignMode_SIGN_MODE_DIRECT)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != 65 || !pub.VerifySignature(msg, sig) {
			t.Fatalf("%s: signature of %d bytes, verifies: %v", name, len(sig), pub.VerifySignature(msg, sig))
		}
		rpub, err := ethcrypto.SigToPub(ethcrypto.Keccak256(msg), sig)
		if err != nil || ethcrypto.PubkeyToAddress(*rpub) != ethcommon.HexToAddress(want) {
			t.Fatalf("%s: ecrecover of the signature: %v %v, want %s", name, rpub, err, want)
		}
		if pub.VerifySignature([]byte("other bytes"), sig) {
			t.Fatalf("%s: a signature verifies over other bytes", name)
		}
	}
}

// A key exported from one home and imported on another has the same address and gives the same
// signatures (both algorithms); a wrong passphrase is refused clearly and stores nothing; an empty
// passphrase exports nothing.
func TestExportImportMovesAKeyBetweenHosts(t *testing.T) {
	from, err := keys.Open(keys.Options{Home: t.TempDir(), ChainID: "seoul-1", Backend: "file", Passphrase: "host one"})
	if err != nil {
		t.Fatal(err)
	}
	to, err := keys.Open(keys.Options{Home: t.TempDir(), ChainID: "seoul-1", Backend: "file", Passphrase: "host two"})
	if err != nil {
		t.Fatal(err)
	}
	ethSpec, _ := keys.ParseSpec("eth_secp256k1", nil, "")
	cosmos, _, err := keys.Add(from, "relayer", "city")
	if err != nil {
		t.Fatal(err)
	}
	eth, _, err := keys.AddWith(from, "eth", "city", ethSpec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Export(from, "relayer", ""); !errors.Is(err, keys.ErrEmptyPassphrase) {
		t.Fatalf("export without a passphrase: %v", err)
	}
	msg := []byte("the same sign bytes on both hosts")
	for name, addr := range map[string]string{"relayer": cosmos, "eth": eth} {
		armor, err := keys.Export(from, name, "export passphrase")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(armor, "-----BEGIN TENDERMINT PRIVATE KEY-----") || strings.Contains(armor, "export passphrase") {
			t.Fatalf("%s: armor is not the SDK's encrypted armor:\n%s", name, armor)
		}
		if _, err := keys.Import(to, name, armor, "wrong passphrase", "city"); !errors.Is(err, keys.ErrWrongPassphrase) {
			t.Fatalf("%s: import with a wrong passphrase: %v, want ErrWrongPassphrase", name, err)
		}
		if _, err := to.Key(name); err == nil {
			t.Fatalf("%s: stored after a wrong passphrase", name)
		}
		got, err := keys.Import(to, name, armor, "export passphrase", "city")
		if err != nil || got != addr {
			t.Fatalf("%s: imported %s %v, want %s", name, got, err, addr)
		}
		s1, p1, err := from.Sign(name, msg, signing.SignMode_SIGN_MODE_DIRECT)
		if err != nil {
			t.Fatal(err)
		}
		s2, p2, err := to.Sign(name, msg, signing.SignMode_SIGN_MODE_DIRECT)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s1, s2) || !p1.Equals(p2) || !p2.VerifySignature(msg, s2) {
			t.Fatalf("%s: signatures differ between hosts (%X, %X)", name, s1, s2)
		}
		if _, err := keys.Import(to, name, armor, "export passphrase", "city"); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Fatalf("%s: import over an existing key: %v", name, err)
		}
	}
}
