package config_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// TestExcludedSequences: a path end's excluded_sequences reads as a string ("5,9-12") or a list
// ([5, "9-12"]), survives a save and a load, and a bad one is an error naming the key, its line and
// the bad item.
func TestExcludedSequences(t *testing.T) {
	cfg, err := config.Parse("config.toml", []byte(good+"excluded_sequences = [5, \"9-12\", 30]\n"+
		"[paths.q]\n[paths.q.src]\nchain = \"bucheon-1\"\nexcluded_sequences = \"7, 1-3\"\n[paths.q.dst]\nchain = \"seoul-1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for what, e := range map[string]config.PathEnd{"5,9-12,30": cfg.Paths["p"].Dst, "1-3,7": cfg.Paths["q"].Src, "": cfg.Paths["p"].Src} {
		s, err := e.Excluded()
		if err != nil || s.String() != what {
			t.Errorf("excluded of %+v = %q, %v; want %q", e, s, err, what)
		}
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	again, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := again.Paths["p"].Dst.Excluded(); s.String() != "5,9-12,30" {
		t.Fatalf("after save and load: %q", s)
	}

	for bad, want := range map[string]string{
		`excluded_sequences = "5,,9"`:      `config.toml:19: paths.p.dst.excluded_sequences: item 2: bad sequence list: empty item`,
		`excluded_sequences = [5, "12-9"]`: `config.toml:19: paths.p.dst.excluded_sequences: item 2: bad sequence list: "12-9": range end below its start`,
		`excluded_sequences = [0]`:         `config.toml:19: paths.p.dst.excluded_sequences: item 1: bad sequence list: 0: sequences start at 1`,
		`excluded_sequences = [1.5]`:       `config.toml:19: paths.p.dst.excluded_sequences: item 1: bad sequence list: 1.5`,
		`excluded_sequences = true`:        `config.toml:19: paths.p.dst.excluded_sequences: bad sequence list: want a string`,
	} {
		_, err := config.Parse("config.toml", []byte(good+bad+"\n"))
		var fe *config.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, sequences.ErrSyntax) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v; want %q", bad, err, want)
		}
	}
}
