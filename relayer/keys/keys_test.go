package keys_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/keys"
)

func TestWrongPassphraseIsRefusedAndKeysStay(t *testing.T) {
	home := t.TempDir()
	o := keys.Options{Home: home, ChainID: "seoul-1", Backend: "file", Passphrase: "correct horse"}
	kr, err := keys.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	addr, mnemonic, err := keys.Add(kr, "relayer", "city")
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	if addr == "" || len(mnemonic) < 20 {
		t.Fatalf("add returned %q %q", addr, mnemonic)
	}
	before := snapshot(t, keys.Dir(home, "seoul-1"))

	o.Passphrase = "wrong"
	kr, err = keys.Open(o)
	if err == nil {
		_, err = keys.Address(kr, "relayer", "city")
	}
	if err == nil {
		t.Fatal("a wrong passphrase opened the keyring")
	}
	if after := snapshot(t, keys.Dir(home, "seoul-1")); len(after) != len(before) {
		t.Fatalf("keyring files changed after a wrong passphrase: %v -> %v", before, after)
	} else {
		for f, b := range before {
			if string(after[f]) != string(b) {
				t.Fatalf("%s changed after a wrong passphrase", f)
			}
		}
	}

	o.Passphrase = "correct horse"
	kr, err = keys.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := keys.Address(kr, "relayer", "city")
	if err != nil || got != addr {
		t.Fatalf("with the right passphrase: %q %v, want %q", got, err, addr)
	}
}

func TestTestBackendOnlyOnDevnet(t *testing.T) {
	_, err := keys.Open(keys.Options{Home: t.TempDir(), ChainID: "seoul-1", Backend: "test"})
	if !errors.Is(err, keys.ErrTestBackend) {
		t.Fatalf("want ErrTestBackend, got %v", err)
	}
	if _, err := keys.Open(keys.Options{Home: t.TempDir(), ChainID: "seoul-1", Backend: "test", Devnet: true}); err != nil {
		t.Fatalf("devnet test keyring: %v", err)
	}
}

func TestRestoreGivesTheSameAddress(t *testing.T) {
	o := keys.Options{Home: t.TempDir(), ChainID: "seoul-1", Backend: "test", Devnet: true}
	kr, _ := keys.Open(o)
	addr, mnemonic, err := keys.Add(kr, "a", "city")
	if err != nil {
		t.Fatal(err)
	}
	o.Home = t.TempDir()
	kr2, _ := keys.Open(o)
	got, err := keys.Restore(kr2, "b", mnemonic, "city")
	if err != nil || got != addr {
		t.Fatalf("restore: %q %v, want %q", got, err, addr)
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
