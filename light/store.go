package light

import (
	"sync"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/light/store"
	"github.com/cometbft/cometbft/types"
)

// unsyncedDB is the trusted store's database without an fsync per verified header. cometbft's store
// writes every header with WriteSync; the fsync cost several times the signature checks of a small
// validator set. The store is a cache of verified headers, not a source of truth: leveldb still writes
// each header to its journal before Save returns (a killed process loses nothing), and a crash of the
// machine can lose at most the newest headers, so the client resumes from an older verified header
// (inside the trusting period) and verifies forward again.
type unsyncedDB struct{ dbm.DB }

func (d unsyncedDB) SetSync(k, v []byte) error { return d.DB.Set(k, v) }
func (d unsyncedDB) DeleteSync(k []byte) error { return d.DB.Delete(k) }
func (d unsyncedDB) NewBatch() dbm.Batch       { return unsyncedBatch{d.DB.NewBatch()} }

type unsyncedBatch struct{ dbm.Batch }

func (b unsyncedBatch) WriteSync() error { return b.Batch.Write() }

// trustedStore keeps cometbft's header store fast over a long run. cometbft asks the store for its
// first height on every verification and prunes one header per new header once the store is full;
// both iterate leveldb from its first key, through the tombstones of every header pruned before, so
// each verification grew slower with the headers verified. Here the first and last heights are
// remembered, and pruning runs once per pruneSlack headers, deleting them together.
type trustedStore struct {
	store.Store
	mu          sync.Mutex
	first, last int64 // 0: not known, ask the store
}

// pruneSlack is how many headers past the pruning size the store may hold before it is pruned.
const pruneSlack = 100

func (s *trustedStore) SaveLightBlock(lb *types.LightBlock) error {
	if err := s.Store.SaveLightBlock(lb); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first != 0 && lb.Height < s.first {
		s.first = lb.Height
	}
	if s.last != 0 && lb.Height > s.last {
		s.last = lb.Height
	}
	return nil
}

func (s *trustedStore) DeleteLightBlock(h int64) error {
	s.forget()
	return s.Store.DeleteLightBlock(h)
}

func (s *trustedStore) FirstLightBlockHeight() (int64, error) {
	return s.remembered(&s.first, s.Store.FirstLightBlockHeight)
}

func (s *trustedStore) LastLightBlockHeight() (int64, error) {
	return s.remembered(&s.last, s.Store.LastLightBlockHeight)
}

// remembered returns *h, asking the store (and remembering its answer) when it is not known.
func (s *trustedStore) remembered(h *int64, ask func() (int64, error)) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *h == 0 {
		v, err := ask()
		if err != nil || v <= 0 {
			return v, err
		}
		*h = v
	}
	return *h, nil
}

func (s *trustedStore) Prune(size uint16) error {
	if int(s.Store.Size()) <= int(size)+pruneSlack {
		return nil
	}
	s.forget()
	return s.Store.Prune(size)
}

func (s *trustedStore) forget() {
	s.mu.Lock()
	s.first, s.last = 0, 0
	s.mu.Unlock()
}
