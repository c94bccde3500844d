package daemon

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/relayer"
)

// gasCollector exports the chain clients' gas pricing as it is when scraped:
// cityrelay_gas_price{chain,denom,source} (the price per gas of the last tx signed, and where it came
// from: config, feemarket, osmosis, ethermint or raised), cityrelay_gas_price_above_cap_total{chain}
// (txs not sent: the price asked was above max_gas_price), cityrelay_gas_price_raised_total{chain}
// (txs a node refused for an insufficient fee, signed again at its minimum) and
// cityrelay_gas_price_query_errors_total{chain} (fee market queries that failed). Every label value
// comes from the config or a fixed list: a node's answers add no series.
type gasCollector struct {
	price, aboveCap, raised, queryErrors *prometheus.Desc
	mu                                   sync.Mutex
	chains                               map[string]chains.GasPricer
}

func newGasCollector() *gasCollector {
	return &gasCollector{
		price: prometheus.NewDesc("cityrelay_gas_price", "Gas price of the chain's last relayer tx, per gas unit, by where it came from (config, feemarket, osmosis, ethermint, raised: a node's minimum).",
			[]string{"chain", "denom", "source"}, nil),
		aboveCap: prometheus.NewDesc("cityrelay_gas_price_above_cap_total", "Relayer txs not sent because the gas price the chain asked was above max_gas_price (the work is retried).",
			[]string{"chain"}, nil),
		raised: prometheus.NewDesc("cityrelay_gas_price_raised_total", "Relayer txs a node refused for an insufficient fee, signed again at the minimum it named.",
			[]string{"chain"}, nil),
		queryErrors: prometheus.NewDesc("cityrelay_gas_price_query_errors_total", "Fee market gas price queries that failed (the configured gas_price was used).",
			[]string{"chain"}, nil),
		chains: map[string]chains.GasPricer{},
	}
}

// add exports the gas pricing of every path end's chain client that has one.
func (g *gasCollector) add(paths []*relayer.Path) {
	for _, p := range paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			if gp, ok := e.Chain.(chains.GasPricer); ok {
				g.addChain(gp)
			}
		}
	}
}

func (g *gasCollector) addChain(gp chains.GasPricer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.chains[gp.ChainID()] = gp
}

func (g *gasCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.price
	ch <- g.aboveCap
	ch <- g.raised
	ch <- g.queryErrors
}

func (g *gasCollector) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, gp := range g.chains {
		s := gp.GasPriceStats()
		ch <- prometheus.MustNewConstMetric(g.price, prometheus.GaugeValue, s.Price, id, s.Denom, s.Source)
		ch <- prometheus.MustNewConstMetric(g.aboveCap, prometheus.CounterValue, float64(s.AboveCap), id)
		ch <- prometheus.MustNewConstMetric(g.raised, prometheus.CounterValue, float64(s.Raised), id)
		ch <- prometheus.MustNewConstMetric(g.queryErrors, prometheus.CounterValue, float64(s.QueryErrors), id)
	}
}
