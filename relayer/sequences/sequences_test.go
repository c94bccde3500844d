package sequences

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"5":                    "5",
		"5,9-12":               "5,9-12",
		" 12 , 9-11,5 ":        "5,9-12",
		"1-3,2-6,8":            "1-6,8",
		"7-7":                  "7",
		"18446744073709551615": "18446744073709551615",
	} {
		s, err := Parse(in)
		if err != nil || s.String() != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, s, err, want)
		}
	}
	for in, bad := range map[string]string{
		"5,,9":                 "item 2",
		"5,":                   "item 2",
		"0":                    "start at 1",
		"-5":                   "missing number",
		"+5":                   `"+5"`,
		"12-9":                 `"12-9": range end below its start`,
		"9-":                   "range end",
		"a":                    `"a"`,
		"5-9-12":               `"9-12"`,
		"1e3":                  `"1e3"`,
		"99999999999999999999": "out of range",
	} {
		_, err := Parse(in)
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), bad) {
			t.Errorf("Parse(%q): %v; want ErrSyntax naming %q", in, err, bad)
		}
	}
}

func TestSetOps(t *testing.T) {
	s, _ := Parse("5,9-12,20-1000000000")
	for q, want := range map[uint64]bool{4: false, 5: true, 6: false, 9: true, 12: true, 13: false, 20: true, 999999999: true, 1000000001: false} {
		if s.Has(q) != want {
			t.Errorf("Has(%d) = %v", q, !want)
		}
	}
	if got := s.Minus([]uint64{10, 5, 20, 1000000000, 7}).String(); got != "9,11-12,21-999999999" {
		t.Errorf("Minus: %s", got)
	}
	in, out := s.Split([]uint64{3, 5, 10, 14})
	if !slices.Equal(in, []uint64{5, 10}) || !slices.Equal(out, []uint64{3, 14}) {
		t.Errorf("Split: %v %v", in, out)
	}
	if got := List(3, 1, 2, 7).Union(List(8)).String(); got != "1-3,7-8" {
		t.Errorf("Union: %s", got)
	}
	if !(Set{}).Empty() || (Set{}).Has(1) || List(^uint64(0)).Minus([]uint64{^uint64(0)}).String() != "" {
		t.Error("edge cases")
	}
}
