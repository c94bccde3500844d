// Package sequences is a set of packet sequences written as an operator writes it: "5,9-12" (the
// `--sequences` flag of `cityrelay tx flush`, the admin clear's `sequences` parameter and a path end's
// `excluded_sequences` in the config). It is kept as merged ranges, so a wide range costs nothing.
package sequences

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every parse error (the error names the bad item).
var ErrSyntax = errors.New("bad sequence list")

// Range is the sequences Lo..Hi, both included (Lo <= Hi, Lo >= 1).
type Range struct{ Lo, Hi uint64 }

// Set is a set of sequences: sorted, merged, non-adjacent ranges. The zero Set is empty.
type Set struct{ ranges []Range }

// Parse reads a comma-separated list of sequences and ranges ("5,9-12"). It is strict: an empty item,
// a 0, a sign, a range whose end is below its start, or anything but digits is an error naming the item.
// Spaces around items are allowed. An empty string is the empty set.
func Parse(s string) (Set, error) {
	if strings.TrimSpace(s) == "" {
		return Set{}, nil
	}
	var rs []Range
	for i, item := range strings.Split(s, ",") {
		r, err := ParseItem(item)
		if err != nil {
			return Set{}, fmt.Errorf("item %d: %w", i+1, err)
		}
		rs = append(rs, r)
	}
	return Of(rs...), nil
}

// ParseItem reads one item: "7" or "9-12".
func ParseItem(item string) (Range, error) {
	t := strings.TrimSpace(item)
	if t == "" {
		return Range{}, fmt.Errorf("%w: empty item (two commas, or a comma at an end)", ErrSyntax)
	}
	lo, hi, isRange := strings.Cut(t, "-")
	a, err := number(lo)
	if err != nil {
		return Range{}, fmt.Errorf("%w: %q: %v", ErrSyntax, t, err)
	}
	if !isRange {
		return Range{a, a}, nil
	}
	b, err := number(hi)
	if err != nil {
		return Range{}, fmt.Errorf("%w: %q: range end: %v", ErrSyntax, t, err)
	}
	if b < a {
		return Range{}, fmt.Errorf("%w: %q: range end below its start", ErrSyntax, t)
	}
	return Range{a, b}, nil
}

func number(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("missing number")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a sequence number (digits only)", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	if n == 0 {
		return 0, errors.New("sequences start at 1")
	}
	return n, nil
}

// Of is the set of the given ranges (each with Lo <= Hi).
func Of(rs ...Range) Set {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Range) int {
		switch {
		case a.Lo < b.Lo:
			return -1
		case a.Lo > b.Lo:
			return 1
		}
		return 0
	})
	var out []Range
	for _, r := range rs {
		if n := len(out); n > 0 && (r.Lo <= out[n-1].Hi || r.Lo-1 == out[n-1].Hi) {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return Set{ranges: out}
}

// List is the set of the given sequences.
func List(seqs ...uint64) Set {
	rs := make([]Range, 0, len(seqs))
	for _, s := range seqs {
		rs = append(rs, Range{s, s})
	}
	return Of(rs...)
}

// Empty reports whether the set has no sequence.
func (s Set) Empty() bool { return len(s.ranges) == 0 }

// Ranges are the set's ranges, sorted.
func (s Set) Ranges() []Range { return slices.Clone(s.ranges) }

// Has reports whether seq is in the set.
func (s Set) Has(seq uint64) bool {
	_, found := slices.BinarySearchFunc(s.ranges, seq, func(r Range, t uint64) int {
		switch {
		case r.Hi < t:
			return -1
		case r.Lo > t:
			return 1
		}
		return 0
	})
	return found
}

// Union is the sequences in s or t.
func (s Set) Union(t Set) Set { return Of(append(s.Ranges(), t.ranges...)...) }

// Minus is s without the given sequences (sorted or not).
func (s Set) Minus(seqs []uint64) Set {
	if len(seqs) == 0 || s.Empty() {
		return s
	}
	drop := slices.Clone(seqs)
	slices.Sort(drop)
	drop = slices.Compact(drop)
	var out []Range
	for _, r := range s.ranges {
		lo := r.Lo
		i, _ := slices.BinarySearch(drop, r.Lo)
		for ; i < len(drop) && drop[i] <= r.Hi; i++ {
			if drop[i] > lo {
				out = append(out, Range{lo, drop[i] - 1})
			}
			lo = drop[i] + 1
			if lo == 0 { // wrapped past the largest sequence
				break
			}
		}
		if lo != 0 && lo <= r.Hi {
			out = append(out, Range{lo, r.Hi})
		}
	}
	return Set{ranges: out}
}

// Split returns the sequences of seqs in the set and those not in it, in their order.
func (s Set) Split(seqs []uint64) (in, out []uint64) {
	for _, q := range seqs {
		if s.Has(q) {
			in = append(in, q)
		} else {
			out = append(out, q)
		}
	}
	return in, out
}

// String writes the set as Parse reads it ("5,9-12"; "" when empty).
func (s Set) String() string {
	parts := make([]string, len(s.ranges))
	for i, r := range s.ranges {
		if r.Lo == r.Hi {
			parts[i] = strconv.FormatUint(r.Lo, 10)
		} else {
			parts[i] = strconv.FormatUint(r.Lo, 10) + "-" + strconv.FormatUint(r.Hi, 10)
		}
	}
	return strings.Join(parts, ",")
}
