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
	lightAge    *prometheus.GaugeVec
	scanLag     *prometheus.GaugeVec
	restarts    *prometheus.CounterVec
	natsUp      prometheus.Gauge
	healthy     prometheus.Gauge
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
			Help: "Work items waiting for a submitter, per destination channel end."}, []string{"chain", "channel"}),
		balance: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_wallet_balance",
			Help: "Balance of the relayer's key, in the gas price denomination."}, []string{"chain", "denom"}),
		lightAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_light_client_header_age_seconds",
			Help: "Age of the newest header the light client verified (stale past 2 minutes)."}, []string{"chain"}),
		scanLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cityrelay_scanner_lag_blocks",
			Help: "Blocks between the chain's newest verified header and the scanner's cursor."}, []string{"chain"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cityrelay_pipeline_part_restarts_total",
			Help: "Failures of a scanner, submitter or clearing, each followed by a restart."}, []string{"part"}),
		natsUp: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cityrelay_nats_connected",
			Help: "1 while the NATS connection is up."}),
		healthy: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cityrelay_healthy",
			Help: "1 when /healthz finds nothing wrong."}),
	}
	m.reg.MustRegister(m.observed, m.relayed, m.failed, m.latency, m.lightHeight, m.expiry, m.queue, m.balance,
		m.lightAge, m.scanLag, m.restarts, m.natsUp, m.healthy)
	return m
}
