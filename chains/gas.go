package chains

import "errors"

// ErrGasPriceAboveCap marks a tx not broadcast because the gas price the chain asks for (its fee
// market's price, or the minimum a node named when it refused a tx for an insufficient fee) is above
// the chain's max_gas_price. Nothing was sent; the items are not at fault: retry them later (the price
// may fall, or the operator may raise the cap).
var ErrGasPriceAboveCap = errors.New("gas price above max_gas_price")

// Sources of the gas price a tx paid (GasPriceStats.Source).
const (
	// GasPriceConfigured is the chain's configured gas_price.
	GasPriceConfigured = "config"
	// GasPriceFeemarket is the price of the chain's x/feemarket (skip-mev feemarket GasPrice query).
	GasPriceFeemarket = "feemarket"
	// GasPriceOsmosis is Osmosis's EIP-1559 base fee (txfees GetEipBaseFee query).
	GasPriceOsmosis = "osmosis"
	// GasPriceEthermint is an Ethermint chain's x/feemarket base fee (BaseFee query).
	GasPriceEthermint = "ethermint"
	// GasPriceRaised is the minimum a node named when it refused a tx for an insufficient fee.
	GasPriceRaised = "raised"
)

// GasPriceStats is what a chain client's gas pricing did so far.
type GasPriceStats struct {
	// Denom and Price are the gas price of the last tx signed (Price per gas unit, in Denom); Source
	// says where it came from (GasPriceConfigured, GasPriceFeemarket, ... GasPriceRaised).
	Denom  string
	Price  float64
	Source string
	// AboveCap counts txs not broadcast because the price asked for was above max_gas_price.
	AboveCap uint64
	// Raised counts txs refused for an insufficient fee and signed again at the node's minimum.
	Raised uint64
	// QueryErrors counts price queries that failed (the configured price was used instead).
	QueryErrors uint64
}

// GasPricer reports a chain client's gas pricing (for metrics).
type GasPricer interface {
	ChainID() string
	GasPriceStats() GasPriceStats
}
