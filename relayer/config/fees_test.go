package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/config"
)

// The fee keys: values a chain's relayer may carry, and each bad value named by key and line.
func TestFeeKeys(t *testing.T) {
	const granter = "city1qypqxpqpqgpsgqgzqvzqzqsrqsqsyqcyksq4ma" // bech32 of 20 bytes 01 02 03 04 ...
	keys := "gas_price_source = \"feemarket\"\ngas_price_multiplier = 1.2\nmax_gas_price = \"0.01ucity\"\nfee_granter = \"" + granter + "\"\nmemo = \"relayed by seoul ops\"\n"
	cfg, err := config.Parse("config.toml", []byte(strings.Replace(good, "trusting_period = \"336h\"\n", "trusting_period = \"336h\"\n"+keys, 1)))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Chains["seoul-1"]
	if c.GasPriceSource != "feemarket" || c.GasPriceMultiplier != 1.2 || c.MaxGasPrice != "0.01ucity" || c.FeeGranter != granter || c.Memo != "relayed by seoul ops" {
		t.Fatalf("fee keys: %+v", c)
	}
	for _, tc := range []struct{ name, line, key string }{
		{"unknown source", `gas_price_source = "hermes"`, "chains.seoul-1.gas_price_source"},
		{"multiplier below 1", `gas_price_multiplier = 0.5`, "chains.seoul-1.gas_price_multiplier"},
		{"cap in another denom", `max_gas_price = "0.1uatom"`, "chains.seoul-1.max_gas_price"},
		{"cap below the price", `max_gas_price = "0.001ucity"`, "chains.seoul-1.max_gas_price"},
		{"cap not a coin", `max_gas_price = "lots"`, "chains.seoul-1.max_gas_price"},
		{"granter of another chain", `fee_granter = "cosmos1qypqxpqpqgpsgqgzqvzqzqsrqsqsyqcyy2wt4y"`, "chains.seoul-1.fee_granter"},
		{"granter not an address", `fee_granter = "the city treasury"`, "chains.seoul-1.fee_granter"},
		{"memo too long", `memo = "` + strings.Repeat("x", config.MaxMemo+1) + `"`, "chains.seoul-1.memo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("config.toml", []byte(strings.Replace(good, "trusting_period = \"336h\"\n", "trusting_period = \"336h\"\n"+tc.line+"\n", 1)))
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FieldError, got %v", err)
			}
			if fe.Key != tc.key || fe.Line != 8 {
				t.Fatalf("error names %s at line %d, want %s at line 8: %v", fe.Key, fe.Line, tc.key, err)
			}
		})
	}
}
