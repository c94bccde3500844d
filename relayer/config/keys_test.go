package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/config"
)

// A chain's key defaults (key_algo, coin_type, hd_path) are what `keys add|restore` uses when no flag
// says otherwise; a bad one is refused naming its key and line.
func TestChainKeyDefaults(t *testing.T) {
	withKeys := func(lines string) string {
		return strings.Replace(good, "[chains.bucheon-1]\nrpc = [\"http://127.0.0.1:26757\"]", "[chains.bucheon-1]\nrpc = [\"http://127.0.0.1:26757\"]\n"+lines, 1)
	}
	cfg, err := config.Parse("config.toml", []byte(withKeys("key_algo = \"eth_secp256k1\"\ncoin_type = 60")))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := cfg.Chains["bucheon-1"].KeySpec()
	if err != nil || spec.Algo != "eth_secp256k1" || spec.HDPath != "m/44'/60'/0'/0/0" {
		t.Fatalf("bucheon-1 key spec %+v %v", spec, err)
	}
	if spec, err := cfg.Chains["seoul-1"].KeySpec(); err != nil || spec.Algo != "secp256k1" || spec.HDPath != "m/44'/118'/0'/0/0" {
		t.Fatalf("seoul-1 default key spec %+v %v", spec, err)
	}
	cfg, err = config.Parse("config.toml", []byte(withKeys("hd_path = \"m/44'/118'/2'/0/5\"")))
	if err != nil {
		t.Fatal(err)
	}
	if spec, err := cfg.Chains["bucheon-1"].KeySpec(); err != nil || spec.HDPath != "m/44'/118'/2'/0/5" {
		t.Fatalf("hd_path: %+v %v", spec, err)
	}
	for _, tc := range []struct {
		name, lines, key string
		line             int
	}{
		{"unknown algorithm", "key_algo = \"ed25519\"", "chains.bucheon-1.key_algo", 11},
		{"malformed hd path", "hd_path = \"m/44'/118'/0'\"", "chains.bucheon-1.hd_path", 11},
		{"coin type against the hd path", "hd_path = \"m/44'/118'/0'/0/0\"\ncoin_type = 60", "chains.bucheon-1.coin_type", 12},
		{"coin type out of range", "coin_type = 2147483648", "chains.bucheon-1.coin_type", 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("config.toml", []byte(withKeys(tc.lines)))
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Key != tc.key || fe.Line != tc.line {
				t.Fatalf("want %s at line %d, got %v", tc.key, tc.line, err)
			}
			if !strings.HasPrefix(err.Error(), "config.toml:") || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("message %q must name the file, line and key", err)
			}
		})
	}
}
