package pipeline

import (
	"sync"

	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// Exclusions keep what the pipeline does with excluded sequences (relayer.End.Excluded: packets sent
// from an end's channel that are never relayed unless an operator names them): each excluded work
// item is logged and counted once (OnExcluded), and the sequences an operator named in a clear
// (Clear) are released for the rest of their relaying here (the ack after the recv, a timeout).
// One value is shared by a pipeline's scanners and clearing and the daemon's admin clear.
type Exclusions struct {
	mu       sync.Mutex
	released map[string]sequences.Set // by path
	seen     map[excludedKey]bool
	fees     *feeState // min_fees (minfee.go)
}

type excludedKey struct {
	path, chain, channel, kind string
	seq                        uint64
}

// maxExcludedSeen bounds the items remembered as logged: past it, further excluded items are counted
// and logged at debug level only (a wide excluded range on a busy channel must not grow memory).
const maxExcludedSeen = 100_000

// NewExclusions returns an empty record.
func NewExclusions() *Exclusions {
	return &Exclusions{released: map[string]sequences.Set{}, seen: map[excludedKey]bool{}, fees: newFeeState()}
}

// Release lets the sequences s of path be relayed from now on although an end excludes them.
func (x *Exclusions) Release(path string, s sequences.Set) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.released[path] = x.released[path].Union(s)
}

// released reports whether seq of path was released.
func (x *Exclusions) isReleased(path string, seq uint64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.released[path].Has(seq)
}

// first records an excluded item and reports whether it is the first time (or the record is full).
func (x *Exclusions) first(k excludedKey) (first, full bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.seen[k] {
		return false, false
	}
	if len(x.seen) >= maxExcludedSeen {
		return false, true
	}
	x.seen[k] = true
	return true, false
}

// excluded reports whether work of kind for the packet seq sent from end src on path is to be
// skipped: src excludes seq and no operator released it. The first time an item is skipped it is
// logged (chain, path, channel, sequence) and counted (OnExcluded); it is not lost: `cityrelay tx
// flush --sequences` or the admin clear relay it.
func (o Options) excluded(path string, src *relayer.End, kind string, seq uint64) bool {
	if !src.Excluded.Has(seq) {
		return false
	}
	x := o.Exclusions
	if x == nil {
		x = NewExclusions()
	}
	if x.isReleased(path, seq) {
		return false
	}
	first, full := x.first(excludedKey{path: path, chain: src.ChainID(), channel: src.ChannelID, kind: kind, seq: seq})
	if !first && !full {
		return true
	}
	ev := o.Log.Info()
	if full {
		ev = o.Log.Debug()
	}
	ev.Str("chain", src.ChainID()).Str("path", path).Str("channel", src.ChannelID).Str("kind", kind).Uint64("seq", seq).
		Msg("excluded sequence skipped (excluded_sequences): relay it with `cityrelay tx flush --sequences` or the admin clear")
	if o.OnExcluded != nil {
		o.OnExcluded(path, src.ChainID(), kind)
	}
	return true
}
