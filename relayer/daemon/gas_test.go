package daemon

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cityrelay/cityrelay/chains"
)

type fakePricer struct {
	id string
	s  chains.GasPriceStats
}

func (f fakePricer) ChainID() string                     { return f.id }
func (f fakePricer) GasPriceStats() chains.GasPriceStats { return f.s }

// The gas price series: the price of each chain's last tx with its source, and the counts of txs
// refused above the cap, raised to a node's minimum, and failed price queries.
func TestGasPriceSeries(t *testing.T) {
	m := newMetrics(nil)
	m.gas.addChain(fakePricer{"seoul-1", chains.GasPriceStats{Denom: "ucity", Price: 0.0044, Source: chains.GasPriceFeemarket, QueryErrors: 2}})
	m.gas.addChain(fakePricer{"bucheon-1", chains.GasPriceStats{Denom: "ucity", Price: 0.01, Source: chains.GasPriceRaised, AboveCap: 3, Raised: 1}})
	want := `
# HELP cityrelay_gas_price Gas price of the chain's last relayer tx, per gas unit, by where it came from (config, feemarket, osmosis, ethermint, raised: a node's minimum).
# TYPE cityrelay_gas_price gauge
cityrelay_gas_price{chain="bucheon-1",denom="ucity",source="raised"} 0.01
cityrelay_gas_price{chain="seoul-1",denom="ucity",source="feemarket"} 0.0044
# HELP cityrelay_gas_price_above_cap_total Relayer txs not sent because the gas price the chain asked was above max_gas_price (the work is retried).
# TYPE cityrelay_gas_price_above_cap_total counter
cityrelay_gas_price_above_cap_total{chain="bucheon-1"} 3
cityrelay_gas_price_above_cap_total{chain="seoul-1"} 0
# HELP cityrelay_gas_price_raised_total Relayer txs a node refused for an insufficient fee, signed again at the minimum it named.
# TYPE cityrelay_gas_price_raised_total counter
cityrelay_gas_price_raised_total{chain="bucheon-1"} 1
cityrelay_gas_price_raised_total{chain="seoul-1"} 0
# HELP cityrelay_gas_price_query_errors_total Fee market gas price queries that failed (the configured gas_price was used).
# TYPE cityrelay_gas_price_query_errors_total counter
cityrelay_gas_price_query_errors_total{chain="bucheon-1"} 0
cityrelay_gas_price_query_errors_total{chain="seoul-1"} 2
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "cityrelay_gas_price", "cityrelay_gas_price_above_cap_total",
		"cityrelay_gas_price_raised_total", "cityrelay_gas_price_query_errors_total"); err != nil {
		t.Fatal(err)
	}
	if got := m.workReason("gas price above cap"); got != "gas price above cap" {
		t.Fatalf("retry reason label %q", got)
	}
}
