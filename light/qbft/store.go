package qbft

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Errors of the trusted-header store.
var (
	// ErrNoTrustedHeader is returned by Load when nothing is stored under the name.
	ErrNoTrustedHeader = errors.New("no trusted header stored")
	// ErrStoreBackwards is returned by Save for a header older (lower, or earlier in time) than the
	// stored one: trust only moves forward.
	ErrStoreBackwards = errors.New("trusted header older than the stored one")
	// ErrStoreConflict is returned by Save for another header at the stored height: two verified
	// headers at one height mean a fork or an attack, never something to overwrite silently.
	ErrStoreConflict = errors.New("another trusted header at the stored height")
)

// TrustedHeader is a verified header as a verifier keeps it: what Verify needs to check newer headers
// from it (Trusted) and its hash, to recognise the header when a node serves it again.
type TrustedHeader struct {
	Height     uint64           `json:"height"`
	Time       time.Time        `json:"time"`
	Hash       common.Hash      `json:"hash"`
	Validators []common.Address `json:"validators"`
}

// NewTrustedHeader is h as a trusted header. The caller must have verified h.
func NewTrustedHeader(h *Header) (TrustedHeader, error) {
	if !h.number.IsUint64() {
		return TrustedHeader{}, fmt.Errorf("%w: block number %s", ErrInvalidHeader, h.number)
	}
	hash, err := h.Hash()
	if err != nil {
		return TrustedHeader{}, err
	}
	return TrustedHeader{Height: h.number.Uint64(), Time: time.Unix(int64(h.time), 0).UTC(), Hash: hash, Validators: h.Validators()}, nil
}

// Trusted is th as the trusted side of Verify.
func (th TrustedHeader) Trusted() Trusted {
	return Trusted{Number: new(big.Int).SetUint64(th.Height), Time: th.Time, Validators: append([]common.Address(nil), th.Validators...)}
}

// Validate checks that th is complete: a hash, a time and at least one validator, none twice.
func (th TrustedHeader) Validate() error {
	if th.Hash == (common.Hash{}) {
		return errors.New("trusted header: no hash")
	}
	if th.Time.IsZero() {
		return errors.New("trusted header: no time")
	}
	if len(th.Validators) == 0 {
		return errors.New("trusted header: no validators")
	}
	seen := make(map[common.Address]bool, len(th.Validators))
	for _, v := range th.Validators {
		if seen[v] {
			return fmt.Errorf("trusted header: validator %s listed twice", v)
		}
		seen[v] = true
	}
	return nil
}

// Store keeps the newest trusted header of each chain in a directory, one JSON file per chain
// (<name>.json), written atomically (a temporary file, fsynced, renamed over the old one, then the
// directory fsynced): a crash leaves the old header or the new one, never a torn file. It is safe for
// concurrent use within a process; one process owns a directory.
type Store struct {
	dir string
	mu  sync.Mutex // serialises each Save's read-compare-write
}

// OpenStore opens (creating it if needed, mode 0700) the store in dir.
func OpenStore(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("trusted header store: no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("trusted header store: %w", err)
	}
	return &Store{dir: dir}, nil
}

// validName is a chain's file name in the store: no path separators, not hidden.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func (s *Store) path(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("trusted header store: invalid name %q", name)
	}
	return filepath.Join(s.dir, name+".json"), nil
}

// Load returns the trusted header stored under name, or ErrNoTrustedHeader. A file that does not
// decode strictly or is incomplete is an error, never an empty store.
func (s *Store) Load(name string) (TrustedHeader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(name)
}

func (s *Store) load(name string) (TrustedHeader, error) {
	p, err := s.path(name)
	if err != nil {
		return TrustedHeader{}, err
	}
	bz, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return TrustedHeader{}, fmt.Errorf("%s: %w", p, ErrNoTrustedHeader)
	}
	if err != nil {
		return TrustedHeader{}, fmt.Errorf("trusted header store: %w", err)
	}
	var th TrustedHeader
	dec := json.NewDecoder(bytes.NewReader(bz))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&th); err != nil {
		return TrustedHeader{}, fmt.Errorf("trusted header store: %s: %w", p, err)
	}
	if dec.More() {
		return TrustedHeader{}, fmt.Errorf("trusted header store: %s: data after the header", p)
	}
	if err := th.Validate(); err != nil {
		return TrustedHeader{}, fmt.Errorf("trusted header store: %s: %w", p, err)
	}
	return th, nil
}

// Save stores th under name unless the stored header is newer: a lower height or an earlier time
// returns ErrStoreBackwards, another hash at the stored height ErrStoreConflict, and the stored header
// again is a no-op.
func (s *Store) Save(name string, th TrustedHeader) error {
	if err := th.Validate(); err != nil {
		return err
	}
	p, err := s.path(name)
	if err != nil {
		return err
	}
	th.Time = th.Time.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.load(name)
	switch {
	case errors.Is(err, ErrNoTrustedHeader):
	case err != nil:
		return err
	case th.Height == old.Height && th.Hash == old.Hash:
		return nil
	case th.Height == old.Height:
		return fmt.Errorf("%w: height %d, stored %s, new %s", ErrStoreConflict, th.Height, old.Hash, th.Hash)
	case th.Height < old.Height:
		return fmt.Errorf("%w: height %d, stored %d", ErrStoreBackwards, th.Height, old.Height)
	case th.Time.Before(old.Time):
		return fmt.Errorf("%w: height %d at %s, stored height %d at %s", ErrStoreBackwards, th.Height,
			th.Time.Format(time.RFC3339), old.Height, old.Time.Format(time.RFC3339))
	}
	bz, err := json.MarshalIndent(th, "", "  ")
	if err != nil {
		return fmt.Errorf("trusted header store: %w", err)
	}
	return writeAtomic(p, append(bz, '\n'))
}

// writeAtomic replaces the file at p with bz: a crash leaves the old content or the new.
func writeAtomic(p string, bz []byte) error {
	dir := filepath.Dir(p)
	f, err := os.CreateTemp(dir, "."+filepath.Base(p)+".*.tmp")
	if err != nil {
		return fmt.Errorf("trusted header store: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(bz)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("trusted header store: write %s: %w", p, err)
	}
	// The rename is durable once the directory is: without this a crash could bring the old file back
	// (an older trusted header: harmless, verification starts further back).
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("trusted header store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("trusted header store: sync %s: %w", dir, err)
	}
	return nil
}
