package daemon

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
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
