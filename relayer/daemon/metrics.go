package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the daemon's Prometheus series, on their own registry (no global state).
type metrics struct {
	reg         *prometheus.Registry
	observed    *prometheus.CounterVec
	relayed     *prometheus.CounterVec
	failed      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	lightHeight *prometheus.GaugeVec
	expiry      *prometheus.GaugeVec
	queue       *prometheus.GaugeVec
	balance     *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		observed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_packets_observed_total",
			Help: "Work items published by the scanners."}, []string{"path", "kind", "class"}),
		relayed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_packets_relayed_total",
			Help: "Packets delivered in committed txs."}, []string{"path", "kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_packets_failed_total",
			Help: "Work items whose delivery failed, by reason (transient, tx codespace/code, dead)."}, []string{"path", "kind", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cityrelay_send_to_recv_seconds",
			Help: "From the scanner seeing a send to the recv tx's commit.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 10)}, []string{"path"}),
		lightHeight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_light_client_height",
			Help: "Newest header the light client verified."}, []string{"chain"}),
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_client_expiry_seconds",
			Help: "Time left before an IBC client's latest consensus state leaves its trusting period."}, []string{"path", "chain", "client"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_queue_depth",
			Help: "Work items waiting for a submitter, per destination chain."}, []string{"chain"}),
		balance: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_wallet_balance",
			Help: "Balance of the relayer's key, in the gas price denomination."}, []string{"chain", "denom"}),
	}
	m.reg.MustRegister(m.observed, m.relayed, m.failed, m.latency, m.lightHeight, m.expiry, m.queue, m.balance)
	return m
}
