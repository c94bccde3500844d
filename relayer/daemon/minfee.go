package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// withMinFees counts the packets the pipeline skips for a recv fee below their sending end's
// min_fees (at 0 from the start for every path end that has a minimum).
func withMinFees(o *pipeline.Options, paths []*relayer.Path, reg prometheus.Registerer) {
	below := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_packets_below_min_fee_total",
		Help: "Packets not relayed because their escrowed ICS-29 recv fee is below the sending end's min_fees, each counted once; chain is the sending chain."},
		[]string{"path", "chain"})
	reg.MustRegister(below)
	o.OnBelowMinFee = func(path, chain string) { below.WithLabelValues(path, chain).Inc() }
	for _, p := range paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			if len(e.MinFees) > 0 {
				below.WithLabelValues(p.Name, e.ChainID())
			}
		}
	}
}
