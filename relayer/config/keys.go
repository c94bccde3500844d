package config

import (
	"errors"

	"github.com/cityrelay/cityrelay/relayer/keys"
)

// validateKeyOptions checks a chain's key defaults (key_algo, coin_type, hd_path) as `keys add`
// would resolve them, naming the key at fault.
func validateKeyOptions(k string, ch *Chain, fail func(key, format string, args ...any) error) error {
	if _, err := keys.ParseSpec(ch.KeyAlgo, nil, ""); err != nil {
		return fail(k+".key_algo", "%q: use secp256k1 or eth_secp256k1", ch.KeyAlgo)
	}
	if ch.HDPath != "" {
		if _, err := keys.ParseSpec(ch.KeyAlgo, nil, ch.HDPath); err != nil {
			return fail(k+".hd_path", "%s", trimSpec(err))
		}
	}
	if _, err := keys.ParseSpec(ch.KeyAlgo, ch.CoinType, ch.HDPath); err != nil {
		return fail(k+".coin_type", "%s", trimSpec(err))
	}
	return nil
}

// KeySpec is the chain's key default for `keys add|restore` (key_algo, coin_type, hd_path).
func (c *Chain) KeySpec() (keys.Spec, error) { return keys.ParseSpec(c.KeyAlgo, c.CoinType, c.HDPath) }

// trimSpec drops the sentinel's prefix from a ParseSpec error (the field error says what is wrong).
func trimSpec(err error) string {
	s := err.Error()
	if p := keys.ErrBadSpec.Error() + ": "; len(s) > len(p) && s[:len(p)] == p && errors.Is(err, keys.ErrBadSpec) {
		return s[len(p):]
	}
	return s
}
