package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestMinFees: min_fees on a path end, else its chain's, reads as a coin list; a bad one is an error
// naming the key and its line.
func TestMinFees(t *testing.T) {
	withChain := strings.Replace(good, "[chains.bucheon-1]\n", "min_fees = \"5uatom\"\n[chains.bucheon-1]\n", 1)
	cfg, err := config.Parse("config.toml", []byte(withChain+"min_fees = \"700ucity,10uatom\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	for want, got := range map[string]func() (string, error){
		"10uatom,700ucity": func() (string, error) {
			c, err := cfg.Paths["p"].Dst.RecvMinFees(cfg.Chains["bucheon-1"])
			return c.String(), err
		},
		"5uatom": func() (string, error) {
			c, err := cfg.Paths["p"].Src.RecvMinFees(cfg.Chains["seoul-1"])
			return c.String(), err
		},
	} {
		if s, err := got(); err != nil || s != want {
			t.Errorf("min fees %q, %v; want %q", s, err, want)
		}
	}
	if c, err := (config.PathEnd{}).RecvMinFees(nil); err != nil || len(c) != 0 {
		t.Fatalf("unset min fees: %v %v", c, err)
	}

	for doc, want := range map[string]string{
		good + `min_fees = "ucity"` + "\n":         `config.toml:19: paths.p.dst.min_fees: "ucity": want coins`,
		good + `min_fees = "0ucity"` + "\n":        `config.toml:19: paths.p.dst.min_fees: "0ucity": every minimum must be positive`,
		good + `min_fees = "7ucity,7ucity"` + "\n": `config.toml:19: paths.p.dst.min_fees: "7ucity,7ucity": want coins`,
		strings.Replace(good, "[chains.bucheon-1]\n", "min_fees = \"-1ucity\"\n[chains.bucheon-1]\n", 1): `config.toml:9: chains.seoul-1.min_fees: "-1ucity": want coins`,
	} {
		_, err := config.Parse("config.toml", []byte(doc))
		var fe *config.FieldError
		if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%v; want %q", err, want)
		}
	}
}
