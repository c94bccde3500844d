package daemon

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/classify"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// metrics are the daemon's Prometheus series, on their own registry (no global state). Names follow
// Prometheus style: a unit suffix, counters end in _total. The pipeline, the relayer and the chains
// report through callbacks and decorators set here; no library package registers a series.
type metrics struct {
	reg *prometheus.Registry
	// all are the cityrelay_ collectors (registered with the Go and process collectors).
	all []prometheus.Collector

	// Packets.
	observed  *prometheus.CounterVec
	relayed   *prometheus.CounterVec
	failed    *prometheus.CounterVec
	retried   *prometheus.CounterVec
	deadTotal *prometheus.CounterVec
	latency   *prometheus.HistogramVec

	// Transactions.
	txSubmitted   *prometheus.CounterVec
	txRefused     *prometheus.CounterVec
	simulateErrs  *prometheus.CounterVec
	gasUsed       *prometheus.CounterVec
	gasWanted     *prometheus.CounterVec
	fees          *prometheus.CounterVec
	msgsPerTx     *prometheus.HistogramVec
	clientUpdates *prometheus.CounterVec
	// handshakes counts the channel handshakes others started (handshakes.go).
	handshakes  *prometheus.CounterVec
	build       *prometheus.HistogramVec
	broadcast   *prometheus.HistogramVec
	commit      *prometheus.HistogramVec
	signerQueue *prometheus.HistogramVec
	balance     *prometheus.GaugeVec

	// Light clients and IBC clients.
	lightHeight  *prometheus.GaugeVec
	lightAge     *prometheus.GaugeVec
	lightLag     *prometheus.GaugeVec
	lightErrors  *prometheus.CounterVec
	headerVerify *prometheus.HistogramVec
	proofCheck   prometheus.Histogram
	trustingLeft *prometheus.GaugeVec
	witnesses    *witnessCollector
	// gas is the chains' gas pricing (price used, refusals above the cap, raises).
	gas *gasCollector
	// Misbehaviour submitted (or not) after a fork.
	mbSubmitted *prometheus.CounterVec
	mbFailed    *prometheus.CounterVec

	// EVM cities: registry logs the primary withheld, status rechecks and the changes they found.
	evmLogsMissing *prometheus.CounterVec
	evmRechecks    *prometheus.CounterVec
	evmChanges     *prometheus.CounterVec

	// Scanners, queues and NATS.
	scanLag      *prometheus.GaugeVec
	scanHeight   *prometheus.GaugeVec
	scanned      *prometheus.CounterVec
	backlog      *prometheus.GaugeVec
	unrelayed    *prometheus.GaugeVec
	unrelayedAck *prometheus.GaugeVec
	queue        *prometheus.GaugeVec
	natsPending  *prometheus.GaugeVec
	natsAckPend  *prometheus.GaugeVec
	redelivered  *prometheus.GaugeVec
	deadLetters  *prometheus.GaugeVec
	restarts     *prometheus.CounterVec
	natsUp       prometheus.Gauge
	healthy      prometheus.Gauge

	// The verification endpoint.
	attRequests  *prometheus.CounterVec
	attSeconds   *prometheus.HistogramVec
	attInFlight  prometheus.Gauge
	rejected     *prometheus.CounterVec
	headerShared *prometheus.CounterVec

	// Label values from outside (a packet's service type, a node's refusal codes, a balance's
	// denominations) are bounded: see observedWork, failedWork, txFailed and gaugeBalance.
	// services are the service types named in class labels (nil: classify.ServiceTypes).
	services map[string]bool
	// refusals and reasons cap the distinct codespace/code pairs a node's answers can add.
	refusals, reasons *labelCap
}

// maxRefusalLabels is how many distinct codespace/code pairs (and refusal reasons built from them)
// the series keep; further ones are counted under "other".
const maxRefusalLabels = 64

// labelOther is the label value of whatever a bounded label no longer names one by one.
const labelOther = "other"

// labelCap keeps the first max distinct values of a label that comes from outside (a node's codespace
// and code, which a lying node chooses freely); any further value is "other". A value is also
// "other" when it is long or has characters outside [A-Za-z0-9 ._/:-].
type labelCap struct {
	mu   sync.Mutex
	max  int
	seen map[string]bool
}

func newLabelCap(max int) *labelCap { return &labelCap{max: max, seen: map[string]bool{}} }

func (c *labelCap) value(v string) string {
	if len(v) > 64 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._/:-") != "" {
		return labelOther
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[v] {
		return v
	}
	if len(c.seen) >= c.max {
		return labelOther
	}
	c.seen[v] = true
	return v
}

// knownServices sets the service types named in class labels (metrics.service_types).
func (m *metrics) knownServices(types []string) {
	if len(types) == 0 {
		m.services = nil
		return
	}
	m.services = map[string]bool{}
	for _, t := range types {
		m.services[t] = true
	}
}

// Buckets. Relay txs commit in one or two blocks (a block every 1-6 s); a build (proofs, simulation,
// signing) of a 500-message batch takes about a second; a header verification is milliseconds
// unless a node is slow; a proof check is tens of microseconds.
var (
	txBuckets    = prometheus.ExponentialBuckets(0.01, 2, 12)    // 10 ms .. 20 s
	verifyBucket = prometheus.ExponentialBuckets(0.001, 2, 14)   // 1 ms .. 8 s
	proofBuckets = prometheus.ExponentialBuckets(0.00001, 2, 14) // 10 µs .. 80 ms
	msgBuckets   = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}
)

func newMetrics(nc *nats.Conn) *metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	}
	m := &metrics{
		reg:      prometheus.NewRegistry(),
		refusals: newLabelCap(maxRefusalLabels),
		reasons:  newLabelCap(maxRefusalLabels),
		observed: counter("cityrelay_packets_observed_total", "Work items published by the scanners.", "path", "kind", "class"),
		relayed:  counter("cityrelay_packets_relayed_total", "Packets delivered in committed txs.", "path", "kind"),
		failed: counter("cityrelay_packets_failed_total", "Work items whose delivery failed: refused by the chain (tx codespace/code), too large alone, or dead-lettered (dead); forged: an event naming another counterparty than its channel's, skipped. Retries are counted apart.",
			"path", "kind", "reason"),
		retried: counter("cityrelay_packets_retried_total", "Work items handed back to be tried again for a passing reason (transient: a node unreachable or behind, a state not verified yet; height ahead; out of order: after a gap on an ORDERED channel end): not failures.",
			"path", "kind", "reason"),
		deadTotal: counter("cityrelay_dead_letters_total", "Work items dead-lettered (retrying cannot deliver them).", "path", "kind"),
		latency: histogram("cityrelay_send_to_recv_seconds", "From the scanner seeing a send to the recv tx's commit.",
			prometheus.ExponentialBuckets(0.1, 2, 10), "path"),

		txSubmitted:   counter("cityrelay_tx_submitted_total", "Relay txs committed.", "chain"),
		txRefused:     counter("cityrelay_tx_failed_total", "Relay txs refused by the chain, by codespace and code (codespace \"\" code 0: not a refusal: unreachable node, timeout).", "chain", "codespace", "code"),
		simulateErrs:  counter("cityrelay_simulate_errors_total", "Relay txs whose gas simulation failed (nothing broadcast).", "chain"),
		gasUsed:       counter("cityrelay_gas_used_total", "Gas used by committed relay txs.", "chain"),
		gasWanted:     counter("cityrelay_gas_wanted_total", "Gas limit asked for by committed relay txs.", "chain"),
		fees:          counter("cityrelay_fees_paid_total", "Fees paid by committed relay txs, in the fee denomination's base unit.", "chain", "denom"),
		msgsPerTx:     histogram("cityrelay_msgs_per_tx", "Messages in a committed relay tx (client update included).", msgBuckets, "chain"),
		clientUpdates: counter("cityrelay_client_updates_total", "Client updates committed (in relay txs and by the refresh).", "chain"),
		build:         histogram("cityrelay_batch_build_seconds", "Building a relay tx: proofs queried and checked, gas simulated, signed.", txBuckets, "chain"),
		broadcast:     histogram("cityrelay_batch_broadcast_seconds", "Broadcasting a signed relay tx (until the node's CheckTx answers).", txBuckets, "chain"),
		commit:        histogram("cityrelay_batch_commit_seconds", "From a relay tx's broadcast to its commit.", txBuckets, "chain"),
		signerQueue:   histogram("cityrelay_signer_queue_seconds", "Waiting for the key's signer (other txs of the key ahead).", txBuckets, "chain"),
		balance:       gauge("cityrelay_wallet_balance", "Balance of the relayer's key, in the gas price denomination.", "chain", "denom"),

		lightHeight:  gauge("cityrelay_light_client_height", "Newest header the light client verified.", "chain"),
		lightAge:     gauge("cityrelay_light_client_header_age_seconds", "Age of the newest header the light client verified (stale past 2 minutes).", "chain"),
		lightLag:     gauge("cityrelay_light_client_lag_blocks", "Blocks between the node's newest block and the light client's newest verified header.", "chain"),
		lightErrors:  counter("cityrelay_light_client_errors_total", "Header verifications that failed (unreachable node, divergence, expired trust).", "chain"),
		headerVerify: histogram("cityrelay_header_verification_seconds", "Verifying a header (latest or at a height) with the light client.", verifyBucket, "chain"),
		proofCheck: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cityrelay_proof_check_seconds",
			Help: "Checking one ICS-23 proof against a verified app hash.", Buckets: proofBuckets}),
		trustingLeft: gauge("cityrelay_client_trusting_period_left_seconds", "Time left before an IBC client's latest consensus state leaves its trusting period.", "path", "chain", "client"),
		witnesses:    newWitnessCollector(),
		gas:          newGasCollector(),
		mbSubmitted: counter("cityrelay_misbehaviour_submitted_total",
			"Misbehaviour submitted after a light client halted on a validly signed conflicting header (a fork): it froze the client (on chain) of the forked chain.", "chain", "client"),
		mbFailed: counter("cityrelay_misbehaviour_failed_total",
			"Misbehaviour of a fork that could not be submitted to the client (on chain) of the forked chain: the client is not frozen (see the log).", "chain", "client"),

		evmLogsMissing: counter("cityrelay_evm_logs_missing_total",
			"Registry events an EVM city's primary left out of its eth_getLogs answers: found in a witness's answer, or shown by a verified header's logsBloom.", "city"),
		evmRechecks: counter("cityrelay_evm_status_rechecks_total", "Status rechecks run: the EVM city's records on the chain re-proven from its registry.", "city", "chain"),
		evmChanges: counter("cityrelay_evm_status_changes_found_total",
			"Status changes a recheck found that the chain's records lacked (each queued for delivery): changes whose logs no node returned in time.", "city", "chain"),

		scanLag:      gauge("cityrelay_scanner_lag_blocks", "Blocks between the chain's newest verified header and the scanner's cursor.", "chain"),
		scanHeight:   gauge("cityrelay_scanner_height", "Newest block a scanner finished.", "chain"),
		scanned:      counter("cityrelay_blocks_scanned_total", "Blocks the scanners finished.", "chain"),
		backlog:      gauge("cityrelay_backlog", "Work items of a path not settled yet (waiting or in flight, both directions).", "path"),
		unrelayed:    gauge("cityrelay_unrelayed_packets", "Recv work waiting in the work stream, per path and destination chain.", "path", "chain"),
		unrelayedAck: gauge("cityrelay_unrelayed_acks", "Ack work waiting in the work stream, per path and destination chain.", "path", "chain"),
		queue:        gauge("cityrelay_queue_depth", "Work items waiting for a submitter, per destination channel end.", "chain", "channel"),
		natsPending:  gauge("cityrelay_nats_pending", "Messages a submitter's consumer has not delivered yet.", "consumer"),
		natsAckPend:  gauge("cityrelay_nats_ack_pending", "Messages delivered to a submitter and not acknowledged yet.", "consumer"),
		redelivered:  gauge("cityrelay_nats_redeliveries", "Messages of a consumer delivered more than once and not acknowledged yet.", "consumer"),
		deadLetters:  gauge("cityrelay_dead_letters", "Dead letters kept in the dead-letter stream.", "stream"),
		restarts:     counter("cityrelay_pipeline_part_restarts_total", "Failures of a scanner, submitter or clearing, each followed by a restart.", "part"),
		natsUp:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "cityrelay_nats_connected", Help: "1 while the NATS connection is up."}),
		healthy:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "cityrelay_healthy", Help: "1 when /readyz finds nothing wrong."}),

		attRequests:  counter("cityrelay_attestation_requests_total", "Verification requests answered, by HTTP status code.", "chain", "code"),
		attSeconds:   histogram("cityrelay_attestation_verify_seconds", "Answering a verification request.", verifyBucket, "chain"),
		attInFlight:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "cityrelay_attestation_in_flight", Help: "Verification requests being answered."}),
		rejected:     counter("cityrelay_http_rejected_total", "HTTP requests refused: busy (503, no verification slot), over_budget (503, verify.max_per_second), over_client_share (503, one client past verify.max_per_client), too_large (413).", "reason"),
		headerShared: counter("cityrelay_header_cache_hits_total", "Verification requests answered from a header another request verified moments before.", "chain"),
		handshakes: counter("cityrelay_channel_handshakes_total", "Channel handshakes others started on a relayed path's connection: opened by the daemon, failed, filtered or over_limit.",
			"path", "result"),
	}
	m.all = append(m.all, m.observed, m.relayed, m.failed, m.retried, m.deadTotal, m.latency,
		m.txSubmitted, m.txRefused, m.simulateErrs, m.gasUsed, m.gasWanted, m.fees, m.msgsPerTx, m.clientUpdates,
		m.build, m.broadcast, m.commit, m.signerQueue, m.balance,
		m.lightHeight, m.lightAge, m.lightLag, m.lightErrors, m.headerVerify, m.proofCheck, m.trustingLeft, m.witnesses, m.gas, m.mbSubmitted, m.mbFailed,
		m.evmLogsMissing, m.evmRechecks, m.evmChanges,
		m.scanLag, m.scanHeight, m.scanned, m.backlog, m.unrelayed, m.unrelayedAck, m.queue, m.natsPending, m.natsAckPend,
		m.redelivered, m.deadLetters, m.restarts, m.natsUp, m.healthy,
		m.attRequests, m.attSeconds, m.attInFlight, m.rejected, m.headerShared, m.handshakes,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cityrelay_nats_reconnects_total", Help: "Reconnections of the NATS connection."},
			func() float64 {
				if nc == nil {
					return 0
				}
				return float64(nc.Stats().Reconnects)
			}))
	m.reg.MustRegister(m.all...)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// zero exports each chain's and path's counters at 0 from the start, so a dashboard (and rate())
// sees a series before its first event. tx_failed_total{codespace="",code="0"} is the bucket of
// failures that are not a chain's refusal.
func (m *metrics) zero(cfg *config.Config, paths []*relayer.Path) {
	for id := range cfg.Chains {
		for _, c := range []*prometheus.CounterVec{m.txSubmitted, m.simulateErrs, m.gasUsed, m.gasWanted, m.clientUpdates, m.lightErrors, m.scanned} {
			c.WithLabelValues(id)
		}
		m.txRefused.WithLabelValues(id, "", "0")
	}
	for _, p := range paths {
		for _, kind := range []string{packets.KindRecv, packets.KindAck, packets.KindTimeout} {
			m.relayed.WithLabelValues(p.Name, kind)
			m.deadTotal.WithLabelValues(p.Name, kind)
		}
		for _, e := range []*relayer.End{p.A, p.B} {
			m.mbSubmitted.WithLabelValues(e.ChainID(), e.ClientID)
			m.mbFailed.WithLabelValues(e.ChainID(), e.ClientID)
		}
	}
	m.rejected.WithLabelValues("busy")
	m.rejected.WithLabelValues("over_budget")
	m.rejected.WithLabelValues("over_client_share")
	m.rejected.WithLabelValues("too_large")
}

// delivered records a committed relay tx (pipeline.Options.OnDelivered).
func (m *metrics) delivered(d pipeline.Delivered) {
	m.relayed.WithLabelValues(d.Path, d.Kind).Add(float64(len(d.Sequences)))
	if d.Kind == packets.KindRecv {
		m.latency.WithLabelValues(d.Path).Observe(d.Latency.Seconds())
	}
	if d.Tx != nil {
		m.tx(d.To, d.Tx)
	}
}

// tx records a committed tx on chain: counts, gas, fee and where its time went.
func (m *metrics) tx(chain string, tx *relayer.TxInfo) {
	m.txSubmitted.WithLabelValues(chain).Inc()
	m.gasUsed.WithLabelValues(chain).Add(float64(tx.GasUsed))
	m.gasWanted.WithLabelValues(chain).Add(float64(tx.GasWanted))
	if tx.Fee.Denom != "" {
		m.fees.WithLabelValues(chain, tx.Fee.Denom).Add(float64(tx.Fee.Amount))
	}
	if tx.Msgs > 0 {
		m.msgsPerTx.WithLabelValues(chain).Observe(float64(tx.Msgs))
	}
	m.clientUpdates.WithLabelValues(chain).Add(float64(tx.ClientUpdates))
	t := tx.Timing
	m.build.WithLabelValues(chain).Observe((tx.Prove + t.Simulate + t.Sign).Seconds())
	m.broadcast.WithLabelValues(chain).Observe(t.Broadcast.Seconds())
	m.commit.WithLabelValues(chain).Observe(t.Commit.Seconds())
	m.signerQueue.WithLabelValues(chain).Observe(t.Queue.Seconds())
}

// misbehaviour logs and counts what became of a fork of forked (relayer.FreezeClients's reports).
func (m *metrics) misbehaviour(log zerolog.Logger, forked string, height int64, reports []relayer.MisbehaviourReport) {
	if len(reports) == 0 {
		log.Warn().Str("forked", forked).Int64("height", height).Msg("light client halted on a fork: no configured path has a client of the chain to freeze")
	}
	for _, r := range reports {
		ev := func(e *zerolog.Event) *zerolog.Event {
			return e.Str("forked", forked).Str("chain", r.Chain).Str("path", r.Path).Str("client", r.ClientID).Int64("height", r.Height)
		}
		switch {
		case r.Err == nil:
			m.mbSubmitted.WithLabelValues(r.Chain, r.ClientID).Inc()
			m.tx(r.Chain, r.Tx)
			ev(log.Warn()).Str("tx", r.Tx.Hash).Int64("tx_height", r.Tx.Height).
				Msg("fork: misbehaviour submitted, the client of the forked chain is frozen (once the fork is resolved, the registry admin registers a new client)")
		case errors.Is(r.Err, relayer.ErrNotMisbehaviour):
			ev(log.Warn()).Err(r.Err).Msg("the witness's conflicting header is not misbehaviour (a lying witness, not a fork): nothing submitted")
		case errors.Is(r.Err, relayer.ErrClientFrozen):
			ev(log.Info()).Msg("fork: the client of the forked chain is frozen already")
		default:
			m.mbFailed.WithLabelValues(r.Chain, r.ClientID).Inc()
			ev(log.Error()).Err(r.Err).Msg("fork: misbehaviour could not be submitted; the client of the forked chain is NOT frozen")
		}
	}
}

// observedWork records a work item a scanner published (pipeline.Options.OnObserved).
// The class is bounded: a service type not in m.services is counted as service:other.
func (m *metrics) observedWork(w *packets.Work) {
	m.observed.WithLabelValues(w.Path, w.Kind, classify.MetricClass(w.Class, m.services)).Inc()
}

// workReason bounds a failed or retried work item's reason: the pipeline's and the EVM bridge's fixed
// reasons as they are, a refusal's "tx <codespace>/<code>" within the first maxRefusalLabels, anything
// else "other".
func (m *metrics) workReason(reason string) string {
	switch reason {
	case "forged", "dead", "too large", "transient", "height ahead", "refused", "gas price above cap", "out of order", "close confirm":
		return reason
	}
	if strings.HasPrefix(reason, "tx ") {
		return m.reasons.value(reason)
	}
	return labelOther
}

// retriedWork records work handed back to be tried again (pipeline.Options.OnRetried): not a failure.
func (m *metrics) retriedWork(path, kind, reason string, n int) {
	m.retried.WithLabelValues(path, kind, m.workReason(reason)).Add(float64(n))
}

// failedWork records work that failed (pipeline.Options.OnFailed): refused or dead-lettered.
func (m *metrics) failedWork(path, kind, reason string, n int) {
	m.failed.WithLabelValues(path, kind, m.workReason(reason)).Add(float64(n))
	if reason == "dead" {
		m.deadTotal.WithLabelValues(path, kind).Add(float64(n))
	}
}

// txFailed records a failed delivery tx (pipeline.Options.OnTxFailed): a chain's refusal by its
// codespace and code, a failed simulation, or anything else under codespace "" code 0.
func (m *metrics) txFailed(chain string, err error) {
	if errors.Is(err, chains.ErrSimulation) {
		m.simulateErrs.WithLabelValues(chain).Inc()
	}
	var txErr *chains.TxError
	if errors.As(err, &txErr) {
		// The node reports the codespace and code: a lying one could name a new pair each time.
		codespace, code := txErr.Codespace, strconv.FormatUint(uint64(txErr.Code), 10)
		if m.refusals.value(codespace+"/"+code) == labelOther {
			codespace, code = labelOther, labelOther
		}
		m.txRefused.WithLabelValues(chain, codespace, code).Inc()
		return
	}
	m.txRefused.WithLabelValues(chain, "", "0").Inc()
}

// checkProof is check timed (relayer.Relayer.Check).
func (m *metrics) checkProof(check relayer.ProofChecker) relayer.ProofChecker {
	return func(appHash []byte, storeKey string, key, value []byte, ops *cmtcrypto.ProofOps) error {
		start := time.Now()
		err := check(appHash, storeKey, key, value, ops)
		m.proofCheck.Observe(time.Since(start).Seconds())
		return err
	}
}

// timedHeaders is a header source whose verifications are timed and counted.
type timedHeaders struct {
	relayer.HeaderVerifier
	chain string
	m     *metrics
}

func (t timedHeaders) observe(start time.Time, lb *cmttypes.LightBlock, err error) {
	t.m.headerVerify.WithLabelValues(t.chain).Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.lightErrors.WithLabelValues(t.chain).Inc()
		return
	}
	t.m.lightHeight.WithLabelValues(t.chain).Set(float64(lb.Height))
}

func (t timedHeaders) VerifyLatest(ctx context.Context) (*cmttypes.LightBlock, error) {
	start := time.Now()
	lb, err := t.HeaderVerifier.VerifyLatest(ctx)
	t.observe(start, lb, err)
	return lb, err
}

func (t timedHeaders) VerifyHeight(ctx context.Context, h int64) (*cmttypes.LightBlock, error) {
	start := time.Now()
	lb, err := t.HeaderVerifier.VerifyHeight(ctx, h)
	t.m.headerVerify.WithLabelValues(t.chain).Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.lightErrors.WithLabelValues(t.chain).Inc()
	}
	return lb, err
}

// VerifyHeightWithin is VerifyHeight bounded below the store (relayer.BoundedVerifier), where the
// wrapped verifier is; timed like VerifyHeight.
func (t timedHeaders) VerifyHeightWithin(ctx context.Context, h, maxBack int64) (*cmttypes.LightBlock, error) {
	b, ok := t.HeaderVerifier.(relayer.BoundedVerifier)
	if !ok {
		return t.VerifyHeight(ctx, h)
	}
	start := time.Now()
	lb, err := b.VerifyHeightWithin(ctx, h, maxBack)
	t.m.headerVerify.WithLabelValues(t.chain).Observe(time.Since(start).Seconds())
	if err != nil {
		t.m.lightErrors.WithLabelValues(t.chain).Inc()
	}
	return lb, err
}

// instrument times the header verifications of every end of paths.
func (m *metrics) instrument(paths []*relayer.Path) {
	for _, p := range paths {
		for _, e := range []*relayer.End{p.A, p.B} {
			if _, done := e.Light.(timedHeaders); !done {
				e.Light = timedHeaders{HeaderVerifier: e.Light, chain: e.ChainID(), m: m}
			}
		}
	}
}

// witnessed is a light client's record of its witnesses (light.Client).
type witnessed interface {
	Witnesses() []light.WitnessStatus
}

// witnessCollector exports the light clients' witness records as they are when scraped:
// cityrelay_witness_agrees{chain,witness} (1 the witness served the verified header at its last
// check, 0 it did not answer or diverged; no series before its first check, nor for a primary standing
// in as its own witness), cityrelay_witness_faulty{chain,witness} (1 its last conflicting header did
// not verify from the trusted state, or it is dropped; the same series) and
// cityrelay_divergences_total{chain} (divergences since the daemon started). EVM cities' witnesses are
// in it too, with the city as the chain.
// The witness label is the configured address reduced to scheme://host:port (light.RedactURL): as
// many series as configured witnesses, and no credential in a label.
type witnessCollector struct {
	agrees, divergences, faulty *prometheus.Desc
	mu                          sync.Mutex
	clients                     map[string]witnessed
}

func newWitnessCollector() *witnessCollector {
	return &witnessCollector{
		agrees: prometheus.NewDesc("cityrelay_witness_agrees",
			"1 when the witness served the light client's verified header at its last cross-check, 0 when it did not answer or diverged.",
			[]string{"chain", "witness"}, nil),
		divergences: prometheus.NewDesc("cityrelay_divergences_total",
			"Witness headers that differed from the verified one (each refused, with an evidence file).", []string{"chain"}, nil),
		faulty: prometheus.NewDesc("cityrelay_witness_faulty",
			"1 when the witness's last conflicting header did not verify from the trusted state (not a fork: it lies), or it was dropped after light.MaxWitnessFaults such headers (a restart re-admits it).",
			[]string{"chain", "witness"}, nil),
		clients: map[string]witnessed{},
	}
}

// add exports chain's light client's witnesses.
func (w *witnessCollector) add(chain string, lc witnessed) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clients[chain] = lc
}

// reasons are /readyz's lines for the witnesses that are faulty or dropped: the chain still verifies
// through the others, but with less cross-checking than configured until an operator acts.
func (w *witnessCollector) reasons() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for chain, lc := range w.clients {
		for _, s := range lc.Witnesses() {
			switch s.State {
			case light.WitnessFaulty:
				out = append(out, fmt.Sprintf("witness %s of %s: faulty, served header %d that does not verify from the trusted state (%d of %d faults before it is dropped)",
					s.Witness, chain, s.Height, s.Faults, light.MaxWitnessFaults))
			case light.WitnessDropped:
				out = append(out, fmt.Sprintf("witness %s of %s: dropped after %d headers that do not verify from the trusted state; restart the daemon to re-admit it",
					s.Witness, chain, s.Faults))
			}
		}
	}
	return out
}

func (w *witnessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- w.agrees
	ch <- w.divergences
	ch <- w.faulty
}

func (w *witnessCollector) Collect(ch chan<- prometheus.Metric) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for chain, lc := range w.clients {
		n := 0
		for _, s := range lc.Witnesses() {
			n += s.Divergences
			if s.Primary || s.State == light.WitnessUnchecked {
				continue
			}
			ch <- prometheus.MustNewConstMetric(w.agrees, prometheus.GaugeValue, b2f(s.State == light.WitnessAgrees), chain, s.Witness)
			ch <- prometheus.MustNewConstMetric(w.faulty, prometheus.GaugeValue, b2f(s.State == light.WitnessFaulty || s.State == light.WitnessDropped), chain, s.Witness)
		}
		ch <- prometheus.MustNewConstMetric(w.divergences, prometheus.CounterValue, float64(n), chain)
	}
}
