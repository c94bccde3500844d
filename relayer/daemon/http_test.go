package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cityrelay/cityrelay/relayer/config"
)

// serve runs newServer over h on a loopback port for the test and returns its address.
func serve(t *testing.T, h http.Handler, l limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(h, l, newMetrics(nil))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func TestSlowLorisIsCut(t *testing.T) {
	l := defaultLimits()
	l.ReadHeader = 500 * time.Millisecond
	addr := serve(t, http.HandlerFunc(healthz), l)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Trickle a request's headers a byte every 100ms: the server must close the connection once
	// ReadHeader has passed, long before the headers end.
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
	start := time.Now()
	cut := false
	for i := 0; i < len(req); i++ {
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			cut = true
			break
		}
		time.Sleep(100 * time.Millisecond)
		if time.Since(start) > 5*time.Second {
			break
		}
		// A closed connection shows on read too (EOF) before a write fails.
		_ = conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := conn.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			cut = true
			break
		}
	}
	if !cut {
		t.Fatalf("a connection trickling its headers was still open after %s", time.Since(start))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cut after %s, want about the read-header timeout (%s)", d, l.ReadHeader)
	}
}

// isTimeout reports whether err is a read timeout (the connection is still open).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestOversizeRequestsAreRefused(t *testing.T) {
	l := defaultLimits()
	var read atomic.Int64
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		read.Add(n)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(http.StatusOK)
	}), l)
	big := bytes.Repeat([]byte("x"), int(l.MaxBodyBytes)+1)

	// Declared length over the cap: refused before the handler runs.
	resp, err := http.Post("http://"+addr+"/v1/anything", "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared over-size body: status %d, want 413", resp.StatusCode)
	}
	if read.Load() != 0 {
		t.Errorf("the handler read %d bytes of a refused body", read.Load())
	}

	// Chunked (no length): the handler's read stops at the cap.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/anything", io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked over-size body: status %d, want 413", resp.StatusCode)
	}
	if read.Load() > l.MaxBodyBytes {
		t.Errorf("the handler read %d bytes, cap %d", read.Load(), l.MaxBodyBytes)
	}

	// Headers over the cap: 431.
	req, _ = http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("h", 2*l.MaxHeaderBytes))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("over-size headers: status %d, want 431", resp.StatusCode)
	}
}

func TestRequestDeadline(t *testing.T) {
	l := defaultLimits()
	l.Request = 200 * time.Millisecond
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			http.Error(w, "deadline", http.StatusServiceUnavailable)
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusOK)
		}
	}), l)
	start := time.Now()
	resp, err := http.Get("http://" + addr + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 2*time.Second {
		t.Fatalf("a slow handler answered %d after %s; want its context ended at the request deadline", resp.StatusCode, time.Since(start))
	}
}

// countingHeaders is a header source that counts its verifications and takes a while for each.
type countingHeaders struct {
	n   atomic.Int64
	err error
	now time.Time
}

func (c *countingHeaders) VerifyFresh(ctx context.Context, _ time.Duration) (*cmttypes.LightBlock, error) {
	c.n.Add(1)
	time.Sleep(50 * time.Millisecond)
	if c.err != nil {
		return nil, c.err
	}
	return &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &cmttypes.Header{Height: 7, Time: c.now}}}, nil
}

func TestFreshHeadersShared(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	lc := &countingHeaders{now: now.Add(-time.Second)}
	f := &freshHeaders{lc: lc, share: 2 * time.Second, now: func() time.Time { return now }, verifyTimeout: time.Second}
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if lb, err := f.VerifyFresh(context.Background(), time.Minute); err != nil || lb.Height != 7 {
				t.Errorf("VerifyFresh: %v %v", lb, err)
			}
		}()
	}
	wg.Wait()
	if n := lc.n.Load(); n != 1 {
		t.Errorf("200 concurrent requests made %d verifications, want 1", n)
	}
	// Within the sharing window: served from the shared header.
	now = now.Add(time.Second)
	_, _ = f.VerifyFresh(context.Background(), time.Minute)
	// A caller wanting a younger header than the shared one gets its own verification.
	_, _ = f.VerifyFresh(context.Background(), time.Second)
	if n := lc.n.Load(); n != 2 {
		t.Errorf("verifications %d, want 2", n)
	}
	// Past the window: verified again; a failure is shared as well.
	now = now.Add(3 * time.Second)
	lc.err = errors.New("dial tcp 127.0.0.1:26657: connection refused")
	for range 3 {
		if _, err := f.VerifyFresh(context.Background(), time.Minute); err == nil {
			t.Fatal("want the verification's error")
		}
	}
	if n := lc.n.Load(); n != 3 {
		t.Errorf("verifications %d, want 3 (a failure shared for the window)", n)
	}
}

// blockingHeaders fails every verification with an error naming a secret-bearing RPC URL, after
// release is closed.
type blockingHeaders struct{ release chan struct{} }

const secretRPC = "https://relayer:s3cret@rpc.example.com/v1/APIKEY42"

func (b blockingHeaders) VerifyFresh(ctx context.Context, _ time.Duration) (*cmttypes.LightBlock, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, errors.New(`light seoul-1: post failed: Post "` + secretRPC + `": dial tcp 10.1.2.3:443: connection refused`)
}

func TestAttestationsBoundedAndSecretFree(t *testing.T) {
	l := defaultLimits()
	l.Verifications, l.SlotWait = 1, 100*time.Millisecond
	cfg := &config.Config{Verify: config.Verify{MaxHeaderAge: config.Duration{Duration: time.Minute}}, Chains: map[string]*config.Chain{"seoul-1": {}}}
	release := make(chan struct{})
	v := &verifiers{byChain: map[string]*verifier{"seoul-1": {headers: &freshHeaders{lc: blockingHeaders{release}, now: time.Now,
		verifyTimeout: 5 * time.Second}}}}
	m := newMetrics(nil)
	routes, _ := mux(newSite(m, newHealth(), Options{Config: cfg}, nil, v, l, nil))
	addr := serve(t, routes, l)
	url := "http://" + addr + "/v1/attestations/seoul-1/seoul-1/" + strings.Repeat("ab", 32)

	type answer struct {
		code  int
		body  string
		retry string
	}
	get := func(u string) answer {
		resp, err := http.Get(u)
		if err != nil {
			t.Error(err)
			return answer{}
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, string(b), resp.Header.Get("Retry-After")}
	}
	first := make(chan answer)
	go func() { first <- get(url) }()
	// The first request holds the only slot: the next is refused with Retry-After.
	for deadline := time.Now().Add(5 * time.Second); testutil.ToFloat64(m.attInFlight) < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the first request never took its slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
	busy := get(url)
	if busy.code != http.StatusServiceUnavailable || busy.retry != "1" {
		t.Fatalf("with every slot taken: %d Retry-After %q %s", busy.code, busy.retry, busy.body)
	}
	close(release)
	a := <-first
	if a.code != http.StatusServiceUnavailable {
		t.Fatalf("failed verification: status %d %s", a.code, a.body)
	}
	for _, secret := range []string{secretRPC, "s3cret", "APIKEY42", "rpc.example.com", "10.1.2.3"} {
		if strings.Contains(a.body, secret) {
			t.Errorf("error reply echoes %q: %s", secret, a.body)
		}
	}
	if !strings.Contains(a.body, "could-not-verify") {
		t.Errorf("error reply: %s", a.body)
	}
	// Bad input is the client's error; an unknown chain is not found.
	if b := get("http://" + addr + "/v1/attestations/seoul-1/seoul-1/zz"); b.code != http.StatusBadRequest {
		t.Errorf("malformed id: %d %s", b.code, b.body)
	}
	if b := get("http://" + addr + "/v1/attestations/nowhere-1/seoul-1/" + strings.Repeat("ab", 32)); b.code != http.StatusNotFound {
		t.Errorf("unknown chain: %d %s", b.code, b.body)
	}
	// /readyz names the chain's failure without the address.
	r := get("http://" + addr + "/readyz")
	if r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, "light client of seoul-1") {
		t.Errorf("readyz: %d %s", r.code, r.body)
	}
	for _, secret := range []string{"s3cret", "APIKEY42", "10.1.2.3"} {
		if strings.Contains(r.body, secret) {
			t.Errorf("readyz echoes %q: %s", secret, r.body)
		}
	}
}

func TestVerificationBudget(t *testing.T) {
	l := defaultLimits()
	l.Verifications, l.SlotWait = 4, 200*time.Millisecond
	m := newMetrics(nil)
	g := newGate(l, 2, 0, m) // 2 a second, a burst of 4
	ctx := context.Background()
	for i := range 4 {
		release, err := g.enter(ctx)
		if err != nil {
			t.Fatalf("verification %d of the burst: %v", i, err)
		}
		release()
	}
	// The next token comes in 500 ms, past the 200 ms a request may wait: refused at once.
	start := time.Now()
	if _, err := g.enter(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("over the budget: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > l.SlotWait {
		t.Errorf("refusal over the budget took %s, want at once", d)
	}
	if n := testutil.ToFloat64(m.rejected.WithLabelValues("over_budget")); n != 1 {
		t.Errorf("over_budget refusals counted %v, want 1", n)
	}
	if n := testutil.ToFloat64(m.attInFlight); n != 0 {
		t.Errorf("%v verifications in flight after every release, want 0", n)
	}
	// Once a token has come, one is admitted again.
	time.Sleep(600 * time.Millisecond)
	release, err := g.enter(ctx)
	if err != nil {
		t.Fatalf("after the budget refilled: %v", err)
	}
	release()

	// No budget (0): only the slots bound it.
	free := newGate(l, 0, 0, m)
	for i := range 20 {
		release, err := free.enter(ctx)
		if err != nil {
			t.Fatalf("verification %d without a budget: %v", i, err)
		}
		release()
	}
}
