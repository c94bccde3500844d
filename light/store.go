package light

import (
	dbm "github.com/cometbft/cometbft-db"
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
