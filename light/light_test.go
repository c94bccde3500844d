package light_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cmtlight "github.com/cometbft/cometbft/light"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
)

// A 2-chain devnet, plus a fork of seoul-1 (same chain id, its own validator) started separately:
// it serves different headers at the same heights, like a lying witness.
var net, fork *devnet.Devnet

func TestMain(m *testing.M) {
	testnet.Main(m, testnet.Shared{Net: &net, Options: devnet.Options{ChainIDs: []string{"seoul-1", "bucheon-1"}}},
		testnet.Shared{Net: &fork, Options: devnet.Options{ChainIDs: []string{"seoul-1"}}})
}

func opts(t *testing.T, chainID, primary string) light.Options {
	return light.Options{ChainID: chainID, Primary: primary, TrustingPeriod: time.Hour, TrustLatest: true,
		StoreDir: t.TempDir(), Logger: zerolog.New(zerolog.NewTestWriter(t))}
}

func TestVerifiesRealHeadersAndProofs(t *testing.T) {
	c := net.Chain("seoul-1")
	lc, err := light.New(context.Background(), opts(t, c.ChainID, c.RPCAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	ctx := context.Background()
	if err := c.WaitHeight(ctx, 10); err != nil {
		t.Fatal(err)
	}
	lb, err := lc.VerifyLatest(ctx)
	if err != nil {
		t.Fatalf("verify latest: %v", err)
	}
	if lb.ChainID != "seoul-1" || lb.Height < 10 {
		t.Fatalf("verified %s/%d", lb.ChainID, lb.Height)
	}

	// A real proof of the did module's params, read at h and checked against header h+1.
	cl, _ := rpchttp.New(c.RPCAddr, "/websocket")
	h := lb.Height - 1
	res, err := cl.ABCIQueryWithOptions(ctx, "store/did/key", []byte("params"), rpcOpts(h))
	if err != nil || len(res.Response.Value) == 0 {
		t.Fatalf("query: %v", err)
	}
	if err := lc.VerifyMembership(ctx, h, "did", []byte("params"), res.Response.Value, res.Response.ProofOps); err != nil {
		t.Fatalf("real proof refused: %v", err)
	}
	// The same proof for a tampered value does not match the verified app hash.
	bad := append([]byte{}, res.Response.Value...)
	bad[len(bad)-1] ^= 1
	if err := lc.VerifyMembership(ctx, h, "did", []byte("params"), bad, res.Response.ProofOps); !errors.Is(err, light.ErrProofInvalid) {
		t.Fatalf("tampered value: want ErrProofInvalid, got %v", err)
	}
	// Absence is proven too.
	res, err = cl.ABCIQueryWithOptions(ctx, "store/did/key", []byte("dids/did:city:seoul-1:nobody"), rpcOpts(h))
	if err != nil || len(res.Response.Value) != 0 {
		t.Fatalf("absent key query: %v", err)
	}
	if err := lc.VerifyMembership(ctx, h, "did", []byte("dids/did:city:seoul-1:nobody"), nil, res.Response.ProofOps); err != nil {
		t.Fatalf("absence proof refused: %v", err)
	}
}

func TestRefusesAnotherChain(t *testing.T) {
	// The config says bucheon-1, the RPC serves seoul-1.
	_, err := light.New(context.Background(), opts(t, "bucheon-1", net.Chain("seoul-1").RPCAddr))
	if err == nil {
		t.Fatal("a light client of bucheon-1 accepted seoul-1's headers")
	}
	if !strings.Contains(fmt.Sprint(err), `header belongs to another chain "seoul-1"`) {
		t.Fatalf("want a refusal of the other chain's header, got %v", err)
	}
}

func TestRefusesHeaderBeyondTrustingPeriod(t *testing.T) {
	c := net.Chain("bucheon-1")
	o := opts(t, c.ChainID, c.RPCAddr)
	clock := time.Now()
	o.Now = func() time.Time { return clock }
	lc, err := light.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	clock = clock.Add(2 * time.Hour) // the trusting period is one hour
	_, err = lc.VerifyLatest(context.Background())
	var expired cmtlight.ErrOldHeaderExpired
	if !errors.As(err, &expired) {
		t.Fatalf("want ErrOldHeaderExpired, got %v", err)
	}
}

func TestRefusesForgedSignature(t *testing.T) {
	c := net.Chain("seoul-1")
	lc, err := light.New(context.Background(), opts(t, c.ChainID, c.RPCAddr))
	if err != nil {
		t.Fatal(err)
	}
	lc.Close()
	// Reopen the same store behind a node that forges commit signatures.
	liar := httptest.NewServer(forgingProxy(t, c.RPCAddr))
	defer liar.Close()
	o := opts(t, c.ChainID, liar.URL)
	o.StoreDir = storeDirOf(t, lc)
	o.Witnesses = []string{c.RPCAddr}
	lc2, err := light.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer lc2.Close()
	if err := c.WaitHeight(context.Background(), lastHeight(t, c)+3); err != nil {
		t.Fatal(err)
	}
	lb, err := lc2.VerifyLatest(context.Background())
	if err == nil {
		t.Fatalf("a header with forged signatures was accepted at %d", lb.Height)
	}
	var ve *light.VerificationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "wrong signature") {
		t.Fatalf("want a verification error for the forged signature, got %v", err)
	}
}

// TestDetectsDivergentWitness: a witness serving, at h, a conflicting header signed by the chain's
// validators (a fork) is a divergence, with an evidence file holding both headers.
func TestDetectsDivergentWitness(t *testing.T) {
	ctx := context.Background()
	c := net.Chain("seoul-1")
	o := opts(t, c.ChainID, c.RPCAddr)
	root := storedRoot(t, ctx, o)
	h := root + 3
	forking, err := c.ForkingProxy(h, false)
	if err != nil {
		t.Fatal(err)
	}
	witness := httptest.NewServer(forking)
	defer witness.Close()
	o.Witnesses, o.EvidenceDir, o.TrustLatest = []string{witness.URL}, t.TempDir(), false
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if err := c.WaitHeight(ctx, h+1); err != nil {
		t.Fatal(err)
	}
	if _, err = lc.VerifyHeight(ctx, h); !errors.Is(err, light.ErrDivergence) {
		t.Fatalf("want ErrDivergence, got %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(o.EvidenceDir, "seoul-1-*.json"))
	if len(files) == 0 {
		t.Fatal("no evidence file written")
	}
	bz, _ := os.ReadFile(files[0])
	var ev map[string]any
	if json.Unmarshal(bz, &ev) != nil || ev["verified"] == nil || ev["conflicting"] == nil {
		t.Fatalf("evidence file %s lacks the two headers", files[0])
	}
}

func TestResumesFromStoreWithoutTrustOptions(t *testing.T) {
	c := net.Chain("bucheon-1")
	o := opts(t, c.ChainID, c.RPCAddr)
	lc, err := light.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := lc.TrustedHeight()
	lc.Close()
	o.TrustLatest = false
	lc, err = light.New(context.Background(), o)
	if err != nil {
		t.Fatalf("reopen without trust options: %v", err)
	}
	defer lc.Close()
	if got, _ := lc.TrustedHeight(); got < h {
		t.Fatalf("resumed at %d, had %d", got, h)
	}
	// An empty store with no trust root and no --trust-latest is refused.
	o.StoreDir = t.TempDir()
	if _, err := light.New(context.Background(), o); !errors.Is(err, light.ErrNoTrustRoot) {
		t.Fatalf("want ErrNoTrustRoot, got %v", err)
	}
}

// forgingProxy forwards to a real node but replaces every commit signature with garbage.
func forgingProxy(t *testing.T, target string) http.Handler {
	u, _ := url.Parse(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u.String()+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if bytes.Contains(body, []byte(`"commit"`)) || strings.HasSuffix(r.URL.Path, "/commit") {
			out = forgeSignatures(out)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	})
}

func forgeSignatures(bz []byte) []byte {
	var msg map[string]any
	if json.Unmarshal(bz, &msg) != nil {
		return bz
	}
	res, _ := msg["result"].(map[string]any)
	sh, _ := res["signed_header"].(map[string]any)
	commit, _ := sh["commit"].(map[string]any)
	sigs, _ := commit["signatures"].([]any)
	for _, s := range sigs {
		if m, ok := s.(map[string]any); ok && m["signature"] != nil {
			m["signature"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x42}, 64))
		}
	}
	out, _ := json.Marshal(msg)
	return out
}

// BenchmarkProofCheck checks a real ICS-23 proof (a did store value under the chain's multistore)
// against its app hash.
func BenchmarkProofCheck(b *testing.B) {
	c := net.Chain("seoul-1")
	cl, _ := rpchttp.New(c.RPCAddr, "/websocket")
	ctx := context.Background()
	st, _ := cl.Status(ctx)
	h := st.SyncInfo.LatestBlockHeight - 1
	res, err := cl.ABCIQueryWithOptions(ctx, "store/did/key", []byte("params"), rpcOpts(h))
	if err != nil {
		b.Fatal(err)
	}
	next := h + 1
	hdr, err := cl.Header(ctx, &next)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := light.VerifyProofAgainstAppHash(hdr.Header.AppHash, "did", []byte("params"), res.Response.Value, res.Response.ProofOps); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVerifyFreshRefusesAStaleView: a primary frozen in the past serves old, genuinely signed headers;
// VerifyFresh refuses to answer from them once they are older than the maximum age, and refuses even a
// young-looking one when a witness is further ahead than that.
func TestVerifyFreshRefusesAStaleView(t *testing.T) {
	ctx := context.Background()
	c := net.Chain("bucheon-1")
	freeze, frozenAt, err := devnet.FreezingProxy(ctx, c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	frozen := httptest.NewServer(freeze)
	defer frozen.Close()
	var mu sync.Mutex
	now := time.Now
	o := opts(t, c.ChainID, frozen.URL)
	o.Witnesses = []string{c.RPCAddr}
	o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now() }
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	lb, err := lc.VerifyFresh(ctx, time.Minute)
	if err != nil || lb.Height != frozenAt {
		t.Fatalf("fresh header at the frozen height %d: %v", frozenAt, err)
	}
	if err := c.WaitHeight(ctx, frozenAt+20); err != nil { // 4 s of blocks
		t.Fatal(err)
	}
	_, err = lc.VerifyFresh(ctx, 2*time.Second)
	if !errors.Is(err, light.ErrStale) || !strings.Contains(err.Error(), "old (max 2s)") {
		t.Fatalf("a frozen primary's old header: want ErrStale, got %v", err)
	}
	// Seen from a clock that says the frozen header is young, the witness still shows it is behind.
	mu.Lock()
	now = func() time.Time { return lb.Time.Add(time.Second) }
	mu.Unlock()
	_, err = lc.VerifyFresh(ctx, 2*time.Second)
	if !errors.Is(err, light.ErrStale) || !strings.Contains(err.Error(), "witness "+c.RPCAddr+" is at height") {
		t.Fatalf("a witness ahead of the primary: want ErrStale, got %v", err)
	}
}

// TestVerifyFreshIgnoresAWitnessAheadThatDoesNotVerify: the primary is frozen; the only witness is a
// node of another network with seoul-1's chain id and its own validator (the fork devnet), whose
// latest header is far ahead but not signed by the validators the client trusts. It does not make
// VerifyFresh refuse (ErrStale): it is a faulty witness (already at the root of trust, whose header it
// contradicted without verifying), ignored. An honest witness ahead still refuses
// (TestVerifyFreshRefusesAStaleView).
func TestVerifyFreshIgnoresAWitnessAheadThatDoesNotVerify(t *testing.T) {
	ctx := context.Background()
	c, other := net.Chain("seoul-1"), fork.Chain("seoul-1")
	freeze, frozenAt, err := devnet.FreezingProxy(ctx, c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	frozen := httptest.NewServer(freeze)
	defer frozen.Close()
	var mu sync.Mutex
	now := time.Now
	o := opts(t, c.ChainID, frozen.URL)
	o.Witnesses = []string{other.RPCAddr}
	o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now() }
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatalf("open with a witness of another network: %v", err)
	}
	defer lc.Close()
	if ws := lc.Witnesses(); ws[0].State != light.WitnessFaulty || ws[0].Faults != 1 || ws[0].Height != frozenAt {
		t.Fatalf("the other network's node at the root %d: %+v, want faulty", frozenAt, ws[0])
	}
	lb, err := lc.VerifyLatest(ctx)
	if err != nil || lb.Height != frozenAt {
		t.Fatalf("the frozen primary's newest header %d: %v", frozenAt, err)
	}
	if err := other.WaitHeight(ctx, frozenAt+20); err != nil { // 4 s of blocks
		t.Fatal(err)
	}
	// A clock that says the frozen header is young: only a witness ahead could make it stale.
	mu.Lock()
	now = func() time.Time { return lb.Time.Add(time.Second) }
	mu.Unlock()
	got, err := lc.VerifyFresh(ctx, 2*time.Second)
	if err != nil || got.Height != frozenAt {
		t.Fatalf("a fresh header with a faulty witness ahead: %v, want %d", err, frozenAt)
	}
	ws := lc.Witnesses()
	if ws[0].State != light.WitnessFaulty || ws[0].Faults != 2 || ws[0].Height < frozenAt+20 || !strings.Contains(ws[0].Error, "does not verify") {
		t.Fatalf("the faulty witness ahead: %+v", ws[0])
	}
	if err := lc.Halted(); err != nil {
		t.Fatalf("halted: %v", err)
	}
}

// TestWitnessStatusRecordsEachWitness: three real witnesses of seoul-1 — its own node under another
// name with credentials in the URL (agrees), a stopped one with an API key in its path and query (does
// not answer) and the fork (diverges) — each recorded with the height it was asked at, the
// divergence with its evidence file, and no credential in anything reported. Evidence from before a
// restart is still listed.
func TestWitnessStatusRecordsEachWitness(t *testing.T) {
	ctx := context.Background()
	c := net.Chain("seoul-1")
	u, err := url.Parse(c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	agreeing := "http://relayer:s3cret@localhost:" + u.Port() // the same node, another provider
	stopped := httptest.NewServer(http.NotFoundHandler())
	stopped.Close()
	silent := stopped.URL + "/v1/KEY42?apikey=Q9"
	secrets := []string{"relayer", "s3cret", "KEY42", "apikey", "Q9"}
	noSecret := func(what string, v any) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(fmt.Sprintf("%+v", v), s) {
				t.Errorf("%s shows %q: %+v", what, s, v)
			}
		}
	}

	o := opts(t, c.ChainID, c.RPCAddr)
	o.Witnesses = []string{silent, agreeing}
	o.EvidenceDir = t.TempDir()
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := lc.TrustedHeight()
	checkTwo := func(at int64) {
		t.Helper()
		ws := lc.Witnesses()
		noSecret("witnesses", ws)
		if len(ws) != 2 || ws[0].Witness != "http://"+stopped.Listener.Addr().String() || ws[0].State != light.WitnessNoAnswer || ws[0].Height != at ||
			ws[0].Error != "connection refused" || ws[0].Primary {
			t.Fatalf("the stopped witness at %d: %+v", at, ws)
		}
		if ws[1].Witness != "http://localhost:"+u.Port() || ws[1].State != light.WitnessAgrees || ws[1].Height != at || ws[1].At.IsZero() {
			t.Fatalf("the agreeing witness at %d: %+v", at, ws[1])
		}
	}
	checkTwo(root) // the root of trust is cross-checked
	// cometbft's detector drops the stopped witness from its list; ours still asks both, in order.
	if err := c.WaitHeight(ctx, root+2); err != nil {
		t.Fatal(err)
	}
	lb, err := lc.VerifyLatest(ctx)
	if err != nil || lb.Height <= root {
		t.Fatalf("verify latest after %d: %v", root, err)
	}
	checkTwo(lb.Height)
	if d := lc.Divergences(); len(d) != 0 {
		t.Fatalf("divergences before any: %+v", d)
	}
	lc.Close()

	// Reopened with a third witness serving, at h, a conflicting header signed by the chain's
	// validators (a fork): resumed from the store, nobody asked yet.
	h := lb.Height + 2
	forking, err := c.ForkingProxy(h, false)
	if err != nil {
		t.Fatal(err)
	}
	forkServer := httptest.NewServer(forking)
	defer forkServer.Close()
	forkRPC := forkServer.URL
	o.Witnesses = append(o.Witnesses, forkRPC)
	o.TrustLatest = false
	if lc, err = light.New(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, w := range lc.Witnesses() {
		if w.State != light.WitnessUnchecked || w.Height != 0 {
			t.Fatalf("a resumed client's witness before any check: %+v", w)
		}
	}
	if err := c.WaitHeight(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.VerifyHeight(ctx, h); !errors.Is(err, light.ErrDivergence) {
		t.Fatalf("header %d with the fork as a witness: want ErrDivergence, got %v", h, err)
	}
	ws := lc.Witnesses()
	noSecret("witnesses", ws)
	if len(ws) != 3 || ws[0].State != light.WitnessNoAnswer || ws[0].Height != h || ws[0].Error != "connection refused" {
		t.Fatalf("the stopped witness at %d: %+v", h, ws)
	}
	if ws[1].State != light.WitnessAgrees || ws[1].Height != h {
		t.Fatalf("the agreeing witness at %d: %+v", h, ws[1])
	}
	fw := ws[2]
	if fw.Witness != forkRPC || fw.State != light.WitnessDiverged || fw.Height != h || fw.Divergences != 1 || filepath.Dir(fw.Evidence) != o.EvidenceDir {
		t.Fatalf("the fork at %d: %+v", h, fw)
	}
	if _, err := os.Stat(fw.Evidence); err != nil {
		t.Fatalf("evidence file: %v", err)
	}
	ds := lc.Divergences()
	if len(ds) != 1 || ds[0].Height != h || ds[0].Witness != forkRPC || ds[0].Evidence != fw.Evidence || ds[0].Earlier {
		t.Fatalf("divergences: %+v", ds)
	}
	lc.Close()

	// After a restart the evidence on disk is still listed, as earlier.
	if lc, err = light.New(ctx, o); err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	ds = lc.Divergences()
	if len(ds) != 1 || ds[0].Height != h || ds[0].Witness != forkRPC || ds[0].Evidence != fw.Evidence || !ds[0].Earlier {
		t.Fatalf("divergences after a restart: %+v", ds)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://relayer:s3cret@rpc.example.com:443/v1/KEY42?apikey=Q9#x": "https://rpc.example.com:443",
		"https://rpc.example.com/KEY42":                                   "https://rpc.example.com",
		"http://10.0.0.1:26657":                                           "http://10.0.0.1:26657",
		"tcp://user@10.0.0.1:26657/?token=Q9":                             "tcp://10.0.0.1:26657",
		"10.0.0.1:26657":                                                  "http://10.0.0.1:26657",
		"unix:///var/run/KEY42.sock":                                      "unix://",
		"http://KEY42 with spaces@%zz":                                    "<address>",
	} {
		if got := light.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDivergenceHaltsTheClient: once a witness diverges, the header cometbft already stored is
// forgotten and nothing from the chain is verified any more (not the newest header, not a stored
// one), across a restart too, until the halt file is removed; then the client resumes below the
// divergence and follows the honest chain.
func TestDivergenceHaltsTheClient(t *testing.T) {
	ctx := context.Background()
	c := net.Chain("seoul-1")
	o := opts(t, c.ChainID, c.RPCAddr)
	o.EvidenceDir = t.TempDir()
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := lc.TrustedHeight()
	lc.Close()

	// Resumed with an honest witness (the same node under another name) and one serving, at h, a
	// conflicting header signed by the chain's validators (a fork): cometbft's detector matches the
	// honest one and stores the header; our cross-check finds the other serving another header at
	// that height that verifies from the trusted state, refuses it and halts.
	u, err := url.Parse(c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	h := root + 2
	forking, err := c.ForkingProxy(h, false)
	if err != nil {
		t.Fatal(err)
	}
	forkServer := httptest.NewServer(forking)
	defer forkServer.Close()
	o.Witnesses = []string{"http://localhost:" + u.Port(), forkServer.URL}
	o.TrustLatest = false
	if lc, err = light.New(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHeight(ctx, h); err != nil {
		t.Fatal(err)
	}
	_, err = lc.VerifyHeight(ctx, h)
	if !errors.Is(err, light.ErrDivergence) || !errors.Is(err, light.ErrHalted) {
		t.Fatalf("header %d with the fork as a witness: want ErrDivergence and ErrHalted, got %v", h, err)
	}
	haltFile := filepath.Join(o.StoreDir, light.HaltFile)
	if !strings.Contains(err.Error(), haltFile) {
		t.Errorf("the error does not say which file to remove: %v", err)
	}
	if _, err := os.Stat(haltFile); err != nil {
		t.Fatalf("halt file: %v", err)
	}
	// Nothing is verified any more: not the header the witness contradicted (cometbft had stored it),
	// not the newest, not the root of trust.
	for what, verify := range map[string]func() error{
		"the diverged header": func() error { _, err := lc.VerifyHeight(ctx, h); return err },
		"the newest header":   func() error { _, err := lc.VerifyLatest(ctx); return err },
		"a fresh header":      func() error { _, err := lc.VerifyFresh(ctx, time.Hour); return err },
		"the root":            func() error { _, err := lc.VerifyHeight(ctx, root); return err },
		"an app hash":         func() error { _, err := lc.AppHashAt(ctx, root); return err },
	} {
		if err := verify(); !errors.Is(err, light.ErrHalted) {
			t.Errorf("%s while halted: %v, want ErrHalted", what, err)
		}
	}
	if th, _ := lc.TrustedHeight(); th >= h {
		t.Errorf("the store still trusts height %d, at or above the divergence at %d", th, h)
	}
	lc.Close()

	// A restart, even without the lying witness, stays halted while the file is there.
	o.Witnesses = nil
	if lc, err = light.New(ctx, o); err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if _, err := lc.VerifyLatest(ctx); !errors.Is(err, light.ErrHalted) {
		t.Fatalf("reopened with the halt file: %v, want ErrHalted", err)
	}

	// The operator checked the evidence and removed the file: the same client resumes below the
	// divergence, without a restart, and verifies the honest chain past it.
	if err := os.Remove(haltFile); err != nil {
		t.Fatal(err)
	}
	if err := lc.Halted(); err != nil {
		t.Fatalf("halted after the file was removed: %v", err)
	}
	if th, _ := lc.TrustedHeight(); th >= h {
		t.Errorf("resumed at %d, want below the divergence at %d", th, h)
	}
	lb, err := lc.VerifyHeight(ctx, h)
	if err != nil {
		t.Fatalf("after the halt file was removed: %v", err)
	}
	want := committed(t, c, h)
	if !bytes.Equal(lb.Hash(), want.Hash()) {
		t.Errorf("header %d: %X, the honest chain's is %X", h, lb.Hash(), want.Hash())
	}
}

// TestSignedForkHaltsAndHandsOverBothHeaders: a witness serves, at the primary's newest height, a
// conflicting header signed by the chain's validator key (a fork). cometbft's detector verifies it
// and refuses the header without returning it; the client still writes the evidence, halts, and
// hands both headers to OnDivergence once. The validators below the fork stay readable through the
// Fork (to build misbehaviour), not through the halted client.
// signedForkSetup is a client of seoul-1 whose witness serves, at the primary's frozen newest height h,
// a conflicting header signed by the chain's validators, and the forks it hands over.
type signedForkSetup struct {
	c       *devnet.Chain
	o       light.Options
	lc      *light.Client
	root, h int64
	witness string
	forks   chan *light.Fork
}

func newSignedFork(t *testing.T, ctx context.Context) *signedForkSetup {
	t.Helper()
	c := net.Chain("seoul-1")
	o := opts(t, c.ChainID, c.RPCAddr)
	root := storedRoot(t, ctx, o)
	if err := c.WaitHeight(ctx, root+3); err != nil {
		t.Fatal(err)
	}
	// The primary's newest header stays at h, which the witness contradicts.
	frozen, h, err := devnet.FreezingProxy(ctx, c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	primary := httptest.NewServer(frozen)
	t.Cleanup(primary.Close)
	forking, err := c.ForkingProxy(h, false)
	if err != nil {
		t.Fatal(err)
	}
	witness := httptest.NewServer(forking)
	t.Cleanup(witness.Close)
	forks := make(chan *light.Fork, 2)
	o.Primary, o.Witnesses, o.TrustLatest = primary.URL, []string{witness.URL}, false
	o.OnDivergence = func(f *light.Fork) { forks <- f }
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return &signedForkSetup{c: c, o: o, lc: lc, root: root, h: h, witness: witness.URL, forks: forks}
}

// halt verifies the newest header against the forking witness: the client halts and hands over one fork.
func (s *signedForkSetup) halt(t *testing.T, ctx context.Context) *light.Fork {
	t.Helper()
	if _, err := s.lc.VerifyLatest(ctx); !errors.Is(err, light.ErrHalted) || !errors.Is(err, light.ErrDivergence) {
		t.Fatalf("newest header %d against a forking witness: want ErrHalted and ErrDivergence, got %v", s.h, err)
	}
	select {
	case f := <-s.forks:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no fork handed over")
	}
	return nil
}

func TestSignedForkHaltsAndHandsOverBothHeaders(t *testing.T) {
	ctx := context.Background()
	s := newSignedFork(t, ctx)
	c, o, lc, root, h, forks := s.c, s.o, s.lc, s.root, s.h, s.forks
	defer lc.Close()
	f := s.halt(t, ctx)
	want := committed(t, c, h)
	if f.Height != h || !bytes.Equal(f.Verified.Hash(), want.Hash()) || f.Conflicting.Height != h || bytes.Equal(f.Conflicting.Hash(), want.Hash()) ||
		f.Evidence == "" || f.Witness != light.RedactURL(s.witness) {
		t.Fatalf("fork at %d from %s (evidence %q): want the committed header %d and the witness's conflicting one", f.Height, f.Witness, f.Evidence, h)
	}
	if err := f.Conflicting.ValidatorSet.VerifyCommitLight(c.ChainID, f.Conflicting.Commit.BlockID, h, f.Conflicting.Commit); err != nil {
		t.Fatalf("the conflicting header is not validly signed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(o.StoreDir, light.HaltFile)); err != nil {
		t.Fatalf("halt file: %v", err)
	}
	rootVals := committed(t, c, root+1)
	if _, err := lc.ValidatorsAt(ctx, root+1, rootVals.ValidatorsHash); !errors.Is(err, light.ErrHalted) {
		t.Errorf("validators from the halted client: %v, want ErrHalted", err)
	}
	if vals, err := f.ValidatorsAt(ctx, root+1, rootVals.ValidatorsHash); err != nil || !bytes.Equal(vals.Hash(), rootVals.ValidatorsHash) {
		t.Errorf("validators below the fork through the Fork: %v", err)
	}
	if _, err := f.ValidatorsAt(ctx, root+1, want.AppHash); !errors.Is(err, light.ErrDivergence) {
		t.Errorf("validators through the Fork checked against another hash: %v, want ErrDivergence", err)
	}
	select {
	case again := <-forks:
		t.Fatalf("a second fork handed over at %d", again.Height)
	case <-time.After(200 * time.Millisecond):
	}
}

// A client that opens halted on a fork from before a restart hands that fork, read back from its
// evidence file, to its hook once (Options.OnDivergence or SetOnDivergence): what was done with it
// before may have failed. Without a readable evidence file it hands over nothing and stays halted.
func TestHaltFromBeforeARestartHandsOverItsForkOnce(t *testing.T) {
	ctx := context.Background()
	s := newSignedFork(t, ctx)
	first := s.halt(t, ctx)
	s.lc.Close()

	same := func(how string, f *light.Fork) {
		t.Helper()
		if f.ChainID != first.ChainID || f.Height != first.Height || f.Witness != first.Witness || f.Evidence != first.Evidence ||
			!bytes.Equal(f.Verified.Hash(), first.Verified.Hash()) || !bytes.Equal(f.Conflicting.Hash(), first.Conflicting.Hash()) ||
			!bytes.Equal(f.Verified.ValidatorSet.Hash(), first.Verified.ValidatorSet.Hash()) ||
			!bytes.Equal(f.Conflicting.ValidatorSet.Hash(), first.Conflicting.ValidatorSet.Hash()) ||
			!bytes.Equal(f.Conflicting.Commit.Hash(), first.Conflicting.Commit.Hash()) {
			t.Fatalf("%s: fork %s at %d (headers %X / %X) is not the first run's %s at %d (%X / %X)", how, f.ChainID, f.Height,
				f.Verified.Hash(), f.Conflicting.Hash(), first.ChainID, first.Height, first.Verified.Hash(), first.Conflicting.Hash())
		}
		// Still misbehaviour material: the conflicting header signed by the validators it carries, and
		// the validators below the fork at hand through the Fork.
		if err := f.Conflicting.ValidatorSet.VerifyCommitLight(s.c.ChainID, f.Conflicting.Commit.BlockID, s.h, f.Conflicting.Commit); err != nil {
			t.Fatalf("%s: the conflicting header read back is not validly signed: %v", how, err)
		}
		rootVals := committed(t, s.c, s.root+1)
		if vals, err := f.ValidatorsAt(ctx, s.root+1, rootVals.ValidatorsHash); err != nil || !bytes.Equal(vals.Hash(), rootVals.ValidatorsHash) {
			t.Fatalf("%s: validators below the fork through the replayed Fork: %v", how, err)
		}
	}
	exactlyOne := func(how string, forks chan *light.Fork) {
		t.Helper()
		select {
		case f := <-forks:
			same(how, f)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no fork handed over after a restart", how)
		}
		select {
		case again := <-forks:
			t.Fatalf("%s: a second fork handed over at %d", how, again.Height)
		case <-time.After(300 * time.Millisecond):
		}
	}
	reopen := func(o light.Options) *light.Client {
		t.Helper()
		lc, err := light.New(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := lc.Halted(); !errors.Is(err, light.ErrHalted) {
			t.Fatalf("reopened with the halt file there: %v, want ErrHalted", err)
		}
		return lc
	}

	// Options.OnDivergence.
	forks := make(chan *light.Fork, 2)
	o := s.o
	o.OnDivergence = func(f *light.Fork) { forks <- f }
	lc := reopen(o)
	exactlyOne("Options.OnDivergence", forks)
	lc.SetOnDivergence(func(f *light.Fork) { forks <- f }) // handed over already: not again
	select {
	case again := <-forks:
		t.Fatalf("a second fork handed over at %d after SetOnDivergence", again.Height)
	case <-time.After(300 * time.Millisecond):
	}
	lc.Close()

	// SetOnDivergence on a client opened without a hook.
	o.OnDivergence = nil
	lc = reopen(o)
	lc.SetOnDivergence(func(f *light.Fork) { forks <- f })
	exactlyOne("SetOnDivergence", forks)
	lc.Close()

	// No readable evidence: nothing handed over, still halted.
	if err := os.WriteFile(first.Evidence, []byte(`{"chain_id":"seoul-1","verified":`), 0o600); err != nil {
		t.Fatal(err)
	}
	o.OnDivergence = func(f *light.Fork) { forks <- f }
	lc = reopen(o)
	defer lc.Close()
	select {
	case f := <-forks:
		t.Fatalf("a fork handed over at %d without a readable evidence file", f.Height)
	case <-time.After(500 * time.Millisecond):
	}
	if _, err := lc.VerifyLatest(ctx); !errors.Is(err, light.ErrHalted) {
		t.Fatalf("reopened without readable evidence: %v, want ErrHalted", err)
	}
}

// TestLoneLyingWitnessDoesNotHalt: with one witness, serving at h a header whose signature does not
// verify, cometbft drops the witness and matches none; the client judges the witness's header, which
// does not verify from the trusted state: not a fork. No halt, no evidence, no fork handed over: the
// witness is marked faulty and only the verification of h fails (nothing confirmed it). A later
// header, which the witness serves honestly, verifies. A lone witness that does not answer only fails
// the verification too. (This reverses cbb9ceb's TestLoneLyingWitnessHalts: a header no trusted
// validator signed is no evidence of anything but the witness's fault.)
func TestLoneLyingWitnessDoesNotHalt(t *testing.T) {
	ctx := context.Background()
	c := net.Chain("seoul-1")
	o := opts(t, c.ChainID, c.RPCAddr)
	root := storedRoot(t, ctx, o)
	h := root + 3
	if err := c.WaitHeight(ctx, h+3); err != nil {
		t.Fatal(err)
	}

	// Unreachable: the verification fails, the client does not halt.
	stopped := httptest.NewServer(http.NotFoundHandler())
	stopped.Close()
	o.Witnesses, o.TrustLatest = []string{stopped.URL}, false
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.VerifyHeight(ctx, h); err == nil || errors.Is(err, light.ErrHalted) {
		t.Fatalf("with a lone witness that does not answer: %v, want a failure without a halt", err)
	}
	if err := lc.Halted(); err != nil {
		t.Fatalf("halted by a witness that does not answer: %v", err)
	}
	lc.Close()

	// Lying: a header at h signed with garbage.
	forking, err := c.ForkingProxy(h, true)
	if err != nil {
		t.Fatal(err)
	}
	liar := httptest.NewServer(forking)
	defer liar.Close()
	forks := make(chan *light.Fork, 1)
	o.Witnesses, o.EvidenceDir = []string{liar.URL}, t.TempDir()
	o.OnDivergence = func(f *light.Fork) { forks <- f }
	if lc, err = light.New(ctx, o); err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	_, err = lc.VerifyHeight(ctx, h)
	if err == nil || errors.Is(err, light.ErrHalted) || errors.Is(err, light.ErrDivergence) || !strings.Contains(err.Error(), "faulty") {
		t.Fatalf("with a lone lying witness: %v, want a failure naming the faulty witness, no halt, no divergence", err)
	}
	t.Logf("header %d with a lone lying witness: %v", h, err)
	if err := lc.Halted(); err != nil {
		t.Fatalf("halted by a lying witness: %v", err)
	}
	ws := lc.Witnesses()
	if len(ws) != 1 || ws[0].State != light.WitnessFaulty || ws[0].Height != h || ws[0].Faults != 1 || ws[0].Divergences != 0 ||
		!strings.Contains(ws[0].Error, "does not verify") {
		t.Fatalf("the lying witness after %d: %+v", h, ws)
	}
	if files, _ := filepath.Glob(filepath.Join(o.EvidenceDir, "*")); len(files) != 0 {
		t.Errorf("evidence files for a lying witness: %v", files)
	}
	if _, err := os.Stat(filepath.Join(o.StoreDir, light.HaltFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("halt file for a lying witness: %v", err)
	}
	if d := lc.Divergences(); len(d) != 0 {
		t.Errorf("divergences for a lying witness: %+v", d)
	}
	// A later header, which the same witness serves as the chain committed it, verifies.
	lb, err := lc.VerifyHeight(ctx, h+2)
	if err != nil {
		t.Fatalf("header %d after a lying witness at %d: %v", h+2, h, err)
	}
	if want := committed(t, c, h+2); !bytes.Equal(lb.Hash(), want.Hash()) {
		t.Fatalf("header %d: %X, the chain's is %X", h+2, lb.Hash(), want.Hash())
	}
	if ws := lc.Witnesses(); ws[0].State != light.WitnessAgrees || ws[0].Faults != 1 {
		t.Fatalf("the witness after it served %d honestly: %+v", h+2, ws[0])
	}
	select {
	case f := <-forks:
		t.Fatalf("a fork handed over for a lying witness at %d", f.Height)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestFaultyWitnessIsDroppedAndTheOthersCarryOn: witnesses are an honest node (the primary under
// another address) and a node of another network with seoul-1's chain id and its own validator (the
// fork devnet): every header it serves conflicts and none verifies from the trusted state. Each
// verification succeeds through the honest witness, without a halt or evidence; the liar is faulty,
// and dropped at its MaxWitnessFaults-th header: not asked any more. A restart re-admits it.
func TestFaultyWitnessIsDroppedAndTheOthersCarryOn(t *testing.T) {
	ctx := context.Background()
	c, other := net.Chain("seoul-1"), fork.Chain("seoul-1")
	o := opts(t, c.ChainID, c.RPCAddr)
	root := storedRoot(t, ctx, o)
	u, err := url.Parse(c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	forks := make(chan *light.Fork, 1)
	o.Witnesses, o.EvidenceDir, o.TrustLatest = []string{"http://localhost:" + u.Port(), other.RPCAddr}, t.TempDir(), false
	o.OnDivergence = func(f *light.Fork) { forks <- f }
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	h := root
	for i := 1; i <= light.MaxWitnessFaults+1; i++ {
		h += 2
		if err := c.WaitHeight(ctx, h); err != nil {
			t.Fatal(err)
		}
		if err := other.WaitHeight(ctx, h); err != nil {
			t.Fatal(err)
		}
		lb, err := lc.VerifyHeight(ctx, h)
		if err != nil {
			t.Fatalf("header %d (check %d) with an honest and a faulty witness: %v", h, i, err)
		}
		if want := committed(t, c, h); !bytes.Equal(lb.Hash(), want.Hash()) {
			t.Fatalf("header %d: %X, the chain's is %X", h, lb.Hash(), want.Hash())
		}
		ws := lc.Witnesses()
		if ws[0].State != light.WitnessAgrees || ws[0].Height != h {
			t.Fatalf("the honest witness at %d: %+v", h, ws[0])
		}
		liar := ws[1]
		switch {
		case i < light.MaxWitnessFaults:
			if liar.State != light.WitnessFaulty || liar.Faults != i || liar.Height != h {
				t.Fatalf("the faulty witness at %d (check %d): %+v", h, i, liar)
			}
		case i == light.MaxWitnessFaults:
			if liar.State != light.WitnessDropped || liar.Faults != i || liar.Height != h {
				t.Fatalf("the faulty witness at %d (check %d): %+v, want dropped", h, i, liar)
			}
		default: // dropped: not asked at h
			if liar.State != light.WitnessDropped || liar.Faults != light.MaxWitnessFaults || liar.Height != h-2 {
				t.Fatalf("the dropped witness at %d: %+v, want it not asked", h, liar)
			}
		}
		if liar.Divergences != 0 || liar.Evidence != "" {
			t.Fatalf("the faulty witness counted as a divergence: %+v", liar)
		}
	}
	if err := lc.Halted(); err != nil {
		t.Fatalf("halted by a faulty witness: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(o.EvidenceDir, "*")); len(files) != 0 {
		t.Errorf("evidence files for a faulty witness: %v", files)
	}
	if d := lc.Divergences(); len(d) != 0 {
		t.Errorf("divergences for a faulty witness: %+v", d)
	}
	if _, err := lc.VerifyFresh(ctx, time.Hour); err != nil {
		t.Errorf("a fresh header with a dropped witness: %v", err)
	}
	select {
	case f := <-forks:
		t.Fatalf("a fork handed over for a faulty witness at %d", f.Height)
	case <-time.After(200 * time.Millisecond):
	}
	lc.Close()

	// A restart re-admits it: asked again, faulty again, no halt.
	if lc, err = light.New(ctx, o); err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if ws := lc.Witnesses(); ws[1].State != light.WitnessUnchecked || ws[1].Faults != 0 {
		t.Fatalf("the witness after a restart: %+v, want unchecked", ws[1])
	}
	// Above anything stored (VerifyFresh may have stored a newer header): a stored header is not
	// cross-checked again.
	th, err := lc.TrustedHeight()
	if err != nil {
		t.Fatal(err)
	}
	h = max(h, th) + 2
	if err := c.WaitHeight(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := other.WaitHeight(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.VerifyHeight(ctx, h); err != nil {
		t.Fatalf("header %d after the restart: %v", h, err)
	}
	if ws := lc.Witnesses(); ws[1].State != light.WitnessFaulty || ws[1].Faults != 1 || ws[1].Height != h {
		t.Fatalf("the re-admitted witness at %d: %+v", h, ws[1])
	}
}

// storedRoot opens a light client with o (trusting the primary's latest header), closes it, and
// returns the height of the root it stored: the next client with o resumes from it.
func storedRoot(t *testing.T, ctx context.Context, o light.Options) int64 {
	t.Helper()
	lc, err := light.New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	root, _ := lc.TrustedHeight()
	return root
}

func TestRedactText(t *testing.T) {
	for _, c := range []struct{ in, secret string }{
		// An API key in the path.
		{`light client of seoul-1: post failed: Post "https://rpc.example.com/v1/KEY123/": EOF`, "KEY123"},
		// In user info and query.
		{`Get "http://user:pa55@10.0.0.1:26657/status?apikey=Q9": dial tcp 10.0.0.1:26657: connection refused`, "pa55"},
		{`Get "http://user:pa55@10.0.0.1:26657/status?apikey=Q9": dial tcp 10.0.0.1:26657: connection refused`, "Q9"},
		// A dialled address alone.
		{`dial tcp 10.0.0.1:26657: connection refused`, "10.0.0.1:26657"},
		// An address and port alone.
		{`the node at 10.0.0.7:9090 did not answer`, "10.0.0.7"},
	} {
		if out := light.RedactText(c.in); strings.Contains(out, c.secret) {
			t.Errorf("light.RedactText(%q) = %q keeps %q", c.in, out, c.secret)
		}
	}
}
