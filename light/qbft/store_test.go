package qbft_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/cityrelay/cityrelay/light/qbft"
)

func trustedAt(height uint64, at time.Time, tag string) qbft.TrustedHeader {
	return qbft.TrustedHeader{Height: height, Time: at, Hash: crypto.Keccak256Hash([]byte(tag)),
		Validators: []common.Address{common.HexToAddress("0x01"), common.HexToAddress("0x02")}}
}

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trusted")
	s, err := qbft.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("evm-1337"); !errors.Is(err, qbft.ErrNoTrustedHeader) {
		t.Fatalf("an empty store: %v", err)
	}
	at := time.Unix(1_800_000_000, 0)
	h100 := trustedAt(100, at, "100")
	if err := s.Save("evm-1337", h100); err != nil {
		t.Fatal(err)
	}
	// A new Store over the same directory (a restart) reads it back.
	s, err = qbft.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("evm-1337")
	if err != nil || got.Height != 100 || got.Hash != h100.Hash || !got.Time.Equal(at) || len(got.Validators) != 2 {
		t.Fatalf("loaded %+v %v", got, err)
	}
	tr := got.Trusted()
	if tr.Number.Uint64() != 100 || !tr.Time.Equal(at) || tr.Validators[1] != h100.Validators[1] {
		t.Fatalf("as Trusted: %+v", tr)
	}
	if _, err := s.Load("evm-1"); !errors.Is(err, qbft.ErrNoTrustedHeader) {
		t.Fatalf("another chain: %v", err)
	}

	for _, tc := range []struct {
		name string
		th   qbft.TrustedHeader
		want error // nil: saved
	}{
		{"the stored header again", h100, nil},
		{"a lower height", trustedAt(99, at.Add(-time.Second), "99"), qbft.ErrStoreBackwards},
		{"a higher height, earlier in time", trustedAt(101, at.Add(-time.Second), "101"), qbft.ErrStoreBackwards},
		{"another header at the stored height", trustedAt(100, at, "fork"), qbft.ErrStoreConflict},
		{"a newer header", trustedAt(200, at.Add(time.Minute), "200"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Save("evm-1337", tc.th)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
	if got, err := s.Load("evm-1337"); err != nil || got.Height != 200 {
		t.Fatalf("after the saves: %+v %v", got, err)
	}
	// Nothing but the chain's file is left behind: the temporary files were renamed.
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "evm-1337.json" {
		t.Fatalf("store dir: %v %v", entries, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("store dir mode: %v %v", fi.Mode(), err)
	}
}

func TestStoreRefuses(t *testing.T) {
	dir := t.TempDir()
	s, err := qbft.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	good := trustedAt(1, time.Unix(1_800_000_000, 0), "1")
	incomplete := func(change func(*qbft.TrustedHeader)) qbft.TrustedHeader {
		th := good
		th.Validators = append([]common.Address(nil), good.Validators...)
		change(&th)
		return th
	}
	for _, tc := range []struct {
		name     string
		chain    string
		th       qbft.TrustedHeader
		contains string
	}{
		{"a path as name", "../x", good, "invalid name"},
		{"a hidden name", ".x", good, "invalid name"},
		{"an empty name", "", good, "invalid name"},
		{"no hash", "c", incomplete(func(th *qbft.TrustedHeader) { th.Hash = common.Hash{} }), "no hash"},
		{"no time", "c", incomplete(func(th *qbft.TrustedHeader) { th.Time = time.Time{} }), "no time"},
		{"no validators", "c", incomplete(func(th *qbft.TrustedHeader) { th.Validators = nil }), "no validators"},
		{"a validator twice", "c", incomplete(func(th *qbft.TrustedHeader) { th.Validators[1] = th.Validators[0] }), "twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Save(tc.chain, tc.th); err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("want an error containing %q, got %v", tc.contains, err)
			}
		})
	}
	// Files that are not a complete header are errors, not an empty store.
	for name, content := range map[string]string{
		"torn":       `{"height": 5, "time": "2027-01-15T08:00:00Z", "ha`,
		"unknown":    `{"height": 5, "time": "2027-01-15T08:00:00Z", "hash": "0x01", "validators": ["0x01"], "extra": 1}`,
		"incomplete": `{"height": 5, "time": "2027-01-15T08:00:00Z", "validators": ["0x0000000000000000000000000000000000000001"]}`,
		"trailing":   `{"height": 5, "time": "2027-01-15T08:00:00Z", "hash": "0x0000000000000000000000000000000000000000000000000000000000000001", "validators": ["0x0000000000000000000000000000000000000001"]} {}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(name); err == nil || errors.Is(err, qbft.ErrNoTrustedHeader) {
			t.Errorf("%s: %v", name, err)
		}
		if err := s.Save(name, good); err == nil {
			t.Errorf("%s: saved over a broken file", name)
		}
	}
}

func TestNewTrustedHeader(t *testing.T) {
	c := newChain(t, 4)
	h := c.header(100, 1_800_000_000, c.addrs(c.keys), 0, 0, c.keys[:3], nil)
	th, err := qbft.NewTrustedHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash()
	if err != nil || th.Height != 100 || th.Hash != hash || th.Time.Unix() != 1_800_000_000 || len(th.Validators) != 4 || th.Validate() != nil {
		t.Fatalf("%+v %v", th, err)
	}
}
