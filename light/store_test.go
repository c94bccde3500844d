package light

import (
	"testing"

	dbm "github.com/cometbft/cometbft-db"
	lightdb "github.com/cometbft/cometbft/light/store/db"
)

// The trusted store prunes in chunks and its remembered first and last heights stay those of the
// store underneath.
func TestTrustedStorePrunesInChunks(t *testing.T) {
	g := newChainGen(t, 1)
	db, err := dbm.NewGoLevelDB("light", t.TempDir()) // as in production (cometbft's MemDB deadlocks its store's Prune)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &trustedStore{Store: lightdb.New(unsyncedDB{db}, g.chainID)}
	const keep = 1000
	for h := int64(1); h <= 1350; h++ {
		if err := s.SaveLightBlock(g.block(t, h)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FirstLightBlockHeight(); err != nil { // as cometbft asks on every verification
			t.Fatal(err)
		}
		if err := s.Prune(keep); err != nil {
			t.Fatal(err)
		}
		if n := int(s.Size()); n > keep+pruneSlack {
			t.Fatalf("after header %d the store holds %d headers, more than %d + %d", h, n, keep, pruneSlack)
		}
	}
	first, err := s.FirstLightBlockHeight()
	if err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastLightBlockHeight()
	wantFirst, _ := s.Store.FirstLightBlockHeight()
	wantLast, _ := s.Store.LastLightBlockHeight()
	if first != wantFirst || last != wantLast || last != 1350 || first <= 1 {
		t.Fatalf("remembered first %d last %d; the store says first %d last %d", first, last, wantFirst, wantLast)
	}
	if _, err := s.LightBlock(first); err != nil {
		t.Fatalf("first remembered header %d is not in the store: %v", first, err)
	}
}
