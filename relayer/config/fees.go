package config

import (
	"fmt"
	"unicode/utf8"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Gas price sources (chains.<id>.gas_price_source).
var gasPriceSources = []string{"auto", "config", "feemarket", "osmosis", "ethermint"}

// MaxMemo is the longest memo accepted: the Cosmos SDK's default max_memo_characters (a chain may set
// its own, lower or higher; a tx over the chain's limit is refused by it).
const MaxMemo = 256

type keyError struct{ key, msg string }

// validateFees checks a chain's fee keys: gas_price_source, gas_price_multiplier, max_gas_price (same
// denomination as gas_price, not below it), fee_granter (an account of the chain's prefix), memo.
// gas_price is already checked.
func validateFees(ch *Chain) *keyError {
	ok := ch.GasPriceSource == ""
	for _, s := range gasPriceSources {
		ok = ok || ch.GasPriceSource == s
	}
	if !ok {
		return &keyError{"gas_price_source", fmt.Sprintf("%q: use auto (the chain's fee market where it has one, else gas_price), config, feemarket, osmosis or ethermint", ch.GasPriceSource)}
	}
	if m := ch.GasPriceMultiplier; m != 0 && (m < 1 || m > 10) {
		return &keyError{"gas_price_multiplier", fmt.Sprintf("%v: must be between 1 and 10 (default 1.1)", m)}
	}
	price, err := sdk.ParseDecCoin(ch.GasPrice)
	if err != nil {
		return &keyError{"gas_price", fmt.Sprintf("invalid coin %q: %v", ch.GasPrice, err)}
	}
	if ch.MaxGasPrice != "" {
		max, err := sdk.ParseDecCoin(ch.MaxGasPrice)
		if err != nil {
			return &keyError{"max_gas_price", fmt.Sprintf("invalid coin %q: %v", ch.MaxGasPrice, err)}
		}
		if max.Denom != price.Denom {
			return &keyError{"max_gas_price", fmt.Sprintf("%q: denomination differs from gas_price's (%s)", ch.MaxGasPrice, price.Denom)}
		}
		if max.Amount.LT(price.Amount) {
			return &keyError{"max_gas_price", fmt.Sprintf("%q is below gas_price %q", ch.MaxGasPrice, ch.GasPrice)}
		}
	}
	if ch.FeeGranter != "" {
		if _, err := sdk.GetFromBech32(ch.FeeGranter, ch.AccountPrefix); err != nil {
			return &keyError{"fee_granter", fmt.Sprintf("%q: not an account of prefix %q: %v", ch.FeeGranter, ch.AccountPrefix, err)}
		}
	}
	if n := utf8.RuneCountInString(ch.Memo); n > MaxMemo || !utf8.ValidString(ch.Memo) {
		return &keyError{"memo", fmt.Sprintf("%d characters: at most %d (the SDK's default max_memo_characters), valid UTF-8", n, MaxMemo)}
	}
	return nil
}
