package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/relayer/pipeline"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// TestAdminClearHandler drives the admin clear's HTTP side over a stand-in for pipeline.Clear (the
// e2e test in cmd/cityrelay runs the real one): every refusal is its own status and counted, the
// token is required and compared, the path must be relayed, the list is parsed strictly, one clear
// runs per path, and a finished clear answers its report.
func TestAdminClearHandler(t *testing.T) {
	release := make(chan struct{})
	var (
		mu    sync.Mutex
		asked []string
	)
	run := func(ctx context.Context, path string, only sequences.Set) (*pipeline.ClearReport, error) {
		mu.Lock()
		asked = append(asked, path+":"+only.String())
		mu.Unlock()
		if path == "slow" {
			<-release
		}
		if path == "down" {
			return nil, errors.New("node unreachable")
		}
		return &pipeline.ClearReport{Path: path, Directions: []pipeline.ClearDirection{
			{From: "a-1", To: "b-1", Packets: 2, NotPending: sequences.List(7)}, {From: "b-1", To: "a-1", Acks: 1, Excluded: sequences.List(3, 4)}}}, nil
	}
	m := newClearMetrics(prometheus.NewRegistry())
	a := &adminClear{ctx: context.Background(), token: "tok", paths: map[string]bool{"p": true, "slow": true, "down": true}, run: run, m: m,
		log: zerolog.Nop(), running: map[string]bool{}}
	do := func(h http.Handler, auth, query string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, ClearRoute+"?"+query, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	disabled := &adminClear{ctx: context.Background(), paths: a.paths, run: run, m: m, log: zerolog.Nop(), running: map[string]bool{}}
	for _, c := range []struct {
		h           http.Handler
		auth, query string
		code        int
		want        string
	}{
		{disabled, "Bearer tok", "path=p", http.StatusForbidden, "admin actions are disabled"},
		{disabled, "Bearer ", "path=p", http.StatusForbidden, "admin actions are disabled"},
		{a, "", "path=p", http.StatusUnauthorized, "admin token required"},
		{a, "Bearer ", "path=p", http.StatusUnauthorized, "admin token required"},
		{a, "Basic tok", "path=p", http.StatusUnauthorized, "admin token required"},
		{a, "Bearer tok2", "path=p", http.StatusUnauthorized, "wrong admin token"},
		{a, "Bearer to", "path=p", http.StatusUnauthorized, "wrong admin token"},
		{a, "Bearer tok", "", http.StatusBadRequest, "path required"},
		{a, "Bearer tok", "path=p&sequences=5-3", http.StatusBadRequest, `item 1: bad sequence list: \"5-3\": range end below its start`},
		{a, "Bearer tok", "path=q", http.StatusNotFound, `\"q\" is not a path this daemon relays`},
		{a, "Bearer tok", "path=down", http.StatusBadGateway, "node unreachable"},
	} {
		if code, body := do(c.h, c.auth, c.query); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%q with %q: %d %s; want %d %q", c.query, c.auth, code, body, c.code, c.want)
		}
	}
	code, body := do(a, "Bearer tok", "path=p&sequences=9-12,5")
	var rep ClearResponse
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rep) != nil || rep.Sequences != "5,9-12" || len(rep.Directions) != 2 ||
		rep.Directions[0] != (ClearDirection{From: "a-1", To: "b-1", Packets: 2, NotPending: "7"}) || rep.Directions[1].Excluded != "3-4" {
		t.Fatalf("clear: %d %s", code, body)
	}
	// A clear of slow is running: a second one is refused, other paths are not held up.
	done := make(chan int, 1)
	go func() { c, _ := do(a, "Bearer tok", "path=slow"); done <- c }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		busy := a.running["slow"]
		a.mu.Unlock()
		if busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow clear never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body := do(a, "Bearer tok", "path=slow"); code != http.StatusConflict || !strings.Contains(body, "a clear of slow is running") {
		t.Fatalf("second clear of slow: %d %s", code, body)
	}
	if code, _ := do(a, "Bearer tok", "path=p"); code != http.StatusOK {
		t.Fatalf("clear of p while slow runs: %d", code)
	}
	close(release)
	if c := <-done; c != http.StatusOK {
		t.Fatalf("slow clear: %d", c)
	}
	for result, want := range map[string]float64{clearDisabled: 2, clearNoToken: 3, clearBadToken: 2, clearBadRequest: 2, clearUnknownPath: 1,
		clearFailed: 1, clearOK: 3, clearBusy: 1, clearAccepted: 0} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(result)); got != want {
			t.Errorf("requests{result=%q} = %v, want %v", result, got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(asked, " ") != "down: p:5,9-12 slow: p:" {
		t.Errorf("clears run: %q (a refused request must run none)", asked)
	}
}
