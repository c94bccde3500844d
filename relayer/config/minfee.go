package config

import (
	"fmt"
	"strings"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ParseMinFees parses a min_fees value: ICS-29 recv fee minimums as a coin list ("700ucity" or
// "700ucity,10uatom"). A packet meets it when its recv fee holds at least one of the coins (Hermes'
// packet_filter.min_fees recv list). Empty is no minimum.
func ParseMinFees(s string) (sdk.Coins, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	coins, err := sdk.ParseCoinsNormalized(s)
	if err != nil {
		return nil, fmt.Errorf("%q: want coins such as \"700ucity\" or \"700ucity,10uatom\": %w", s, err)
	}
	if !coins.IsAllPositive() {
		return nil, fmt.Errorf("%q: every minimum must be positive", s)
	}
	return coins, nil
}

// RecvMinFees is the minimum recv fee of packets sent from end e's channel: the end's min_fees, else
// its chain's (chain nil or without one: no minimum).
func (e PathEnd) RecvMinFees(chain *Chain) (sdk.Coins, error) {
	if e.MinFees != "" {
		return ParseMinFees(e.MinFees)
	}
	if chain != nil {
		return ParseMinFees(chain.MinFees)
	}
	return nil, nil
}
