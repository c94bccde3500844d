package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// TestMetricNames checks the series' names (Prometheus style, at least 30 of them) and that the
// Grafana dashboard charts only series the daemon exports.
func TestMetricNames(t *testing.T) {
	m := newMetrics(nil)
	names := map[string]bool{}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	ch := make(chan *prometheus.Desc, 10)
	for _, c := range m.all {
		go func() { c.Describe(ch); ch <- nil }()
		for d := <-ch; d != nil; d = <-ch {
			name := fq.FindStringSubmatch(d.String())[1]
			names[name] = true
			if !regexp.MustCompile(`^cityrelay_[a-z_]+$`).MatchString(name) {
				t.Errorf("series %s: want cityrelay_ and snake case", name)
			}
		}
	}
	if len(names) < 30 {
		t.Errorf("%d series, want at least 30", len(names))
	}
	dash, err := os.ReadFile("../../scripts/grafana/cityrelay.json")
	if err != nil {
		t.Fatal(err)
	}
	charted := map[string]bool{}
	for _, name := range regexp.MustCompile(`cityrelay_[a-z_]+`).FindAllString(string(dash), -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if !names[base] {
			t.Errorf("the dashboard charts %s, which the daemon does not export", name)
		}
		charted[base] = true
	}
	for name := range names {
		if !charted[name] {
			t.Errorf("the dashboard does not chart %s", name)
		}
	}
	t.Logf("%d cityrelay series, all charted by the dashboard", len(names))
}

// fakeWitnessed is a light client's witness record.
type fakeWitnessed []light.WitnessStatus

func (f fakeWitnessed) Witnesses() []light.WitnessStatus { return f }

// The witness series: one agrees and one faulty gauge per checked witness (none for an unchecked one or
// a primary standing in), labelled by the reduced address; divergences counted per chain, 0 from the
// start (a faulty witness is no divergence).
func TestWitnessSeries(t *testing.T) {
	m := newMetrics(nil)
	m.witnesses.add("seoul-1", fakeWitnessed{
		{Witness: "https://rpc.example.com:443", State: light.WitnessAgrees, Height: 9},
		{Witness: "http://10.0.0.9:26657", State: light.WitnessNoAnswer, Height: 9},
		{Witness: "http://10.0.0.7:26657", State: light.WitnessDiverged, Height: 8, Divergences: 2},
		{Witness: "http://10.0.0.8:26657", State: light.WitnessUnchecked},
		{Witness: "http://10.0.0.5:26657", State: light.WitnessFaulty, Height: 9, Faults: 1},
		{Witness: "http://10.0.0.6:26657", State: light.WitnessDropped, Height: 7, Faults: 3},
	})
	m.witnesses.add("bucheon-1", fakeWitnessed{{Witness: "http://bucheon:26657", Primary: true, State: light.WitnessAgrees, Height: 4}})
	want := `
# HELP cityrelay_divergences_total Witness headers that differed from the verified one (each refused, with an evidence file).
# TYPE cityrelay_divergences_total counter
cityrelay_divergences_total{chain="bucheon-1"} 0
cityrelay_divergences_total{chain="seoul-1"} 2
# HELP cityrelay_witness_agrees 1 when the witness served the light client's verified header at its last cross-check, 0 when it did not answer or diverged.
# TYPE cityrelay_witness_agrees gauge
cityrelay_witness_agrees{chain="seoul-1",witness="http://10.0.0.5:26657"} 0
cityrelay_witness_agrees{chain="seoul-1",witness="http://10.0.0.6:26657"} 0
cityrelay_witness_agrees{chain="seoul-1",witness="http://10.0.0.7:26657"} 0
cityrelay_witness_agrees{chain="seoul-1",witness="http://10.0.0.9:26657"} 0
cityrelay_witness_agrees{chain="seoul-1",witness="https://rpc.example.com:443"} 1
# HELP cityrelay_witness_faulty 1 when the witness's last conflicting header did not verify from the trusted state (not a fork: it lies), or it was dropped after light.MaxWitnessFaults such headers (a restart re-admits it).
# TYPE cityrelay_witness_faulty gauge
cityrelay_witness_faulty{chain="seoul-1",witness="http://10.0.0.5:26657"} 1
cityrelay_witness_faulty{chain="seoul-1",witness="http://10.0.0.6:26657"} 1
cityrelay_witness_faulty{chain="seoul-1",witness="http://10.0.0.7:26657"} 0
cityrelay_witness_faulty{chain="seoul-1",witness="http://10.0.0.9:26657"} 0
cityrelay_witness_faulty{chain="seoul-1",witness="https://rpc.example.com:443"} 0
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "cityrelay_witness_agrees", "cityrelay_divergences_total", "cityrelay_witness_faulty"); err != nil {
		t.Fatal(err)
	}
}

// The misbehaviour series and log of a fork: a submission counts under the frozen client's chain and
// id (and as a tx), a lying witness's header and a client frozen already count nowhere, a failed
// submission counts as failed; each is logged with the forked chain, path, client, height (and tx).
func TestMisbehaviourSeries(t *testing.T) {
	m := newMetrics(nil)
	var logged bytes.Buffer
	log := zerolog.New(&logged)
	m.misbehaviour(log, "seoul-1", 50, []relayer.MisbehaviourReport{
		{Path: "seoul-bucheon", Chain: "bucheon-1", ClientID: "07-tendermint-0", Height: 50, Tx: &relayer.TxInfo{Hash: "ABCD", Height: 52, GasUsed: 90000}},
		{Path: "seoul-wego", Chain: "wego-1", ClientID: "07-tendermint-3", Height: 50, Err: fmt.Errorf("x: %w", relayer.ErrNotMisbehaviour)},
		{Path: "seoul-gwangju", Chain: "gwangju-1", ClientID: "07-tendermint-1", Height: 50, Err: fmt.Errorf("x: %w", relayer.ErrClientFrozen)},
		{Path: "seoul-busan", Chain: "busan-1", ClientID: "07-tendermint-2", Height: 50, Err: errors.New("node unreachable")},
	})
	want := `
# HELP cityrelay_misbehaviour_failed_total Misbehaviour of a fork that could not be submitted to the client (on chain) of the forked chain: the client is not frozen (see the log).
# TYPE cityrelay_misbehaviour_failed_total counter
cityrelay_misbehaviour_failed_total{chain="busan-1",client="07-tendermint-2"} 1
# HELP cityrelay_misbehaviour_submitted_total Misbehaviour submitted after a light client halted on a validly signed conflicting header (a fork): it froze the client (on chain) of the forked chain.
# TYPE cityrelay_misbehaviour_submitted_total counter
cityrelay_misbehaviour_submitted_total{chain="bucheon-1",client="07-tendermint-0"} 1
# HELP cityrelay_tx_submitted_total Relay txs committed.
# TYPE cityrelay_tx_submitted_total counter
cityrelay_tx_submitted_total{chain="bucheon-1"} 1
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(want), "cityrelay_misbehaviour_submitted_total", "cityrelay_misbehaviour_failed_total",
		"cityrelay_tx_submitted_total"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a log line per report, got %d:\n%s", len(lines), logged.String())
	}
	for i, want := range []string{`"level":"warn","forked":"seoul-1","chain":"bucheon-1","path":"seoul-bucheon","client":"07-tendermint-0","height":50,"tx":"ABCD"`,
		`"level":"warn","forked":"seoul-1","chain":"wego-1"`, `"level":"info","forked":"seoul-1","chain":"gwangju-1"`, `"level":"error","forked":"seoul-1","chain":"busan-1"`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("log line %d: %s, want %s", i, lines[i], want)
		}
	}

	// A fork no path has a client of is logged.
	logged.Reset()
	m.misbehaviour(log, "wego-1", 9, nil)
	if !strings.Contains(logged.String(), "no configured path has a client") {
		t.Errorf("a fork with nothing to freeze: %s", logged.String())
	}
}
