package relayer

import (
	"reflect"
	"testing"
)

// TestInOrder: of the items handed to an ordered end, only the gap-free run from the proven next
// sequence is delivered, in sequence order; items below it are done, items after a gap are Later
// (never skipped) and the gap is named; a second item of a sequence (a forgery beside the honest
// one) stays in the run for the proofs to tell apart.
func TestInOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		seqs    []uint64 // by item index
		next    uint64
		run     []int
		done    []int
		later   []int
		missing []uint64
	}{
		{name: "in order", seqs: []uint64{5, 6, 7}, next: 5, run: []int{0, 1, 2}},
		{name: "shuffled", seqs: []uint64{7, 5, 6}, next: 5, run: []int{1, 2, 0}},
		{name: "below next", seqs: []uint64{3, 4, 5}, next: 4, run: []int{1, 2}, done: []int{0}},
		{name: "gap", seqs: []uint64{5, 6, 9, 10}, next: 5, run: []int{0, 1}, later: []int{2, 3}, missing: []uint64{7, 8}},
		{name: "gap first", seqs: []uint64{8, 9}, next: 5, later: []int{0, 1}, missing: []uint64{5, 6, 7}},
		{name: "twice", seqs: []uint64{5, 5, 6}, next: 5, run: []int{0, 1, 2}},
		{name: "gap capped", seqs: []uint64{500}, next: 1, later: []int{0}, missing: seqRange(1, 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := newOutcome()
			todo := make([]int, len(tc.seqs))
			for i := range todo {
				todo[i] = i
			}
			var done []int
			run, missing := inOrder(todo, func(i int) uint64 { return tc.seqs[i] }, tc.next, out, func(i int) { done = append(done, i) })
			var later []int
			for i := range tc.seqs {
				if _, ok := out.Later[i]; ok {
					later = append(later, i)
				}
			}
			if !reflect.DeepEqual(run, tc.run) || !reflect.DeepEqual(done, tc.done) || !reflect.DeepEqual(later, tc.later) || !reflect.DeepEqual(missing, tc.missing) {
				t.Fatalf("run %v done %v later %v missing %v; want %v %v %v %v", run, done, later, missing, tc.run, tc.done, tc.later, tc.missing)
			}
		})
	}
}

func seqRange(from, n uint64) []uint64 {
	var out []uint64
	for s := from; s < from+n; s++ {
		out = append(out, s)
	}
	return out
}
