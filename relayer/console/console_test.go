package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/config"
)

const token = "s3cret-token"

// server is a console over a real in-process NATS with the relayer's streams and buckets, no chains.
func server(t *testing.T, adminToken string) (*httptest.Server, jetstream.JetStream) {
	t.Helper()
	return serverWith(t, Options{AdminToken: adminToken})
}

// serverWith is server with o's AdminToken and Witnesses.
func serverWith(t *testing.T, o Options) (*httptest.Server, jetstream.JetStream) {
	t.Helper()
	nc := testnet.NATS(t)
	js := testnet.JetStreamOn(t, nc, time.Minute)
	cfg := config.Default()
	cfg.Paths["seoul-bucheon"] = &config.Path{Src: config.PathEnd{Chain: "seoul-1", PortID: "did", ChannelID: "channel-0"},
		Dst: config.PathEnd{Chain: "bucheon-1", PortID: "did", ChannelID: "channel-3"}}
	c, err := New(Options{Config: cfg, NC: nc, AdminToken: o.AdminToken, Witnesses: o.Witnesses, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	mux := http.NewServeMux()
	c.Mount(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs, js
}

func work(seq uint64, kind string) *packets.Work {
	w := &packets.Work{Kind: kind, Path: "seoul-bucheon", From: "seoul-1", To: "bucheon-1", Height: 40 + int64(seq), Class: "other",
		Packet: packets.Packet{Sequence: seq, SourcePort: "did", SourceChannel: "channel-0", DestPort: "did", DestChannel: "channel-3", Data: []byte("x")}}
	if kind == packets.KindAck {
		w.From, w.To, w.Ack, w.Height = "bucheon-1", "seoul-1", []byte("ok"), 90
	}
	return w
}

func deadLetter(t *testing.T, js jetstream.JetStream, w *packets.Work, reason string) {
	t.Helper()
	bz, err := w.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(packets.DeadSubject(w.To, w.Path))
	m.Data, m.Header = bz, nats.Header{packets.ReasonHeader: []string{reason}}
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func call(t *testing.T, method, u string, form url.Values, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	bz, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(bz)
}

func TestPagesAreEmbedded(t *testing.T) {
	hs, _ := server(t, "")
	for path, want := range map[string]string{
		"/":                         `<script src="/console/static/app.js">`,
		"/console/static/app.js":    "/console/api/overview",
		"/console/static/style.css": ".verdict",
	} {
		code, body := call(t, "GET", hs.URL+path, nil, "")
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want %q in\n%.300s", path, code, want, body)
		}
	}
	// Nothing refers to another host: the console works offline.
	_, body := call(t, "GET", hs.URL+"/", nil, "")
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("the page loads something from elsewhere:\n%s", body)
	}
}

// Admin actions need the token: none, a wrong one, or admin disabled (no token configured) are 401;
// read-only routes never need it; admin routes answer POST only.
func TestAdminNeedsTheToken(t *testing.T) {
	hs, js := server(t, token)
	deadLetter(t, js, work(7, packets.KindRecv), "tx code 5: insufficient funds")
	for _, auth := range []string{"", "wrong", token + "x"} {
		if code, body := call(t, "POST", hs.URL+"/console/admin/requeue", url.Values{"seq": {"1"}}, auth); code != http.StatusUnauthorized {
			t.Errorf("requeue with token %q: %d %s", auth, code, body)
		}
		if code, _ := call(t, "POST", hs.URL+"/console/admin/log-level", url.Values{"level": {"debug"}}, auth); code != http.StatusUnauthorized {
			t.Errorf("log level with token %q: %d", auth, code)
		}
	}
	if code, _ := call(t, "GET", hs.URL+"/console/admin/requeue?seq=1", nil, token); code != http.StatusMethodNotAllowed {
		t.Errorf("GET on an admin route: %d", code)
	}
	if code, _ := call(t, "GET", hs.URL+"/console/api/dead-letters", nil, ""); code != 200 {
		t.Errorf("read-only route without a token: %d", code)
	}

	disabled, _ := server(t, "")
	if code, _ := call(t, "POST", disabled.URL+"/console/admin/requeue", url.Values{"seq": {"1"}}, ""); code != http.StatusUnauthorized {
		t.Errorf("requeue with admin disabled: %d", code)
	}
}

func TestDeadLettersAndRequeue(t *testing.T) {
	hs, js := server(t, token)
	w := work(7, packets.KindRecv)
	deadLetter(t, js, w, "tx code 5: insufficient funds")
	code, body := call(t, "GET", hs.URL+"/console/api/dead-letters", nil, "")
	var dead []DeadLetter
	if code != 200 || json.Unmarshal([]byte(body), &dead) != nil || len(dead) != 1 {
		t.Fatalf("dead letters: %d %s", code, body)
	}
	if d := dead[0]; d.Reason != "tx code 5: insufficient funds" || d.Work != w.MsgID() || !d.Requeuable || d.To != "bucheon-1" {
		t.Fatalf("dead letter: %+v", d)
	}
	if code, body := call(t, "POST", hs.URL+"/console/admin/requeue", url.Values{"seq": {"x"}}, token); code != http.StatusBadRequest {
		t.Fatalf("requeue of a malformed seq: %d %s", code, body)
	}
	if code, body := call(t, "POST", hs.URL+"/console/admin/requeue", url.Values{"seq": {"1"}}, token); code != 200 || !strings.Contains(body, w.MsgID()) {
		t.Fatalf("requeue with the token: %d %s", code, body)
	}
	s, _ := js.Stream(context.Background(), packets.WorkStream)
	if info, _ := s.Info(context.Background()); info.State.Msgs != 1 {
		t.Fatalf("work stream after requeue: %d messages", info.State.Msgs)
	}
	if _, body := call(t, "GET", hs.URL+"/console/api/dead-letters", nil, ""); strings.TrimSpace(body) != "[]" {
		t.Fatalf("dead letters after requeue: %s", body)
	}
	if code, _ := call(t, "POST", hs.URL+"/console/admin/requeue", url.Values{"seq": {"1"}}, token); code != http.StatusConflict {
		t.Fatalf("second requeue of the same letter: %d", code)
	}
}

func TestLogLevel(t *testing.T) {
	hs, _ := server(t, token)
	defer zerolog.SetGlobalLevel(zerolog.GlobalLevel())
	if code, body := call(t, "POST", hs.URL+"/console/admin/log-level", url.Values{"level": {"warn"}}, token); code != 200 || zerolog.GlobalLevel() != zerolog.WarnLevel {
		t.Fatalf("set warn: %d %s, level %s", code, body, zerolog.GlobalLevel())
	}
	if code, _ := call(t, "POST", hs.URL+"/console/admin/log-level", url.Values{"level": {"loud"}}, token); code != http.StatusBadRequest {
		t.Fatalf("unknown level: %d", code)
	}
	_, body := call(t, "GET", hs.URL+"/console/api/overview", nil, "")
	if !strings.Contains(body, `"log_level":"warn"`) {
		t.Fatalf("overview does not show the level: %s", body)
	}
}

// A packet's lifecycle is found by source chain, channel and sequence, with the heights the work
// items told and the states and txs the lifecycle bucket holds.
func TestPacketLifecycle(t *testing.T) {
	hs, js := server(t, token)
	ctx := context.Background()
	for _, w := range []*packets.Work{work(7, packets.KindRecv), work(7, packets.KindAck)} {
		bz, _ := w.Encode()
		if err := js.Conn().Publish(w.Subject(), bz); err != nil {
			t.Fatal(err)
		}
	}
	kv, _ := js.KeyValue(ctx, packets.PacketBucket)
	put := func(w *packets.Work, l packets.Lifecycle) {
		bz, _ := json.Marshal(l)
		if _, err := kv.Put(ctx, packets.LifecycleKey(w.MsgID()), bz); err != nil {
			t.Fatal(err)
		}
	}
	put(work(7, packets.KindRecv), packets.Lifecycle{State: "confirmed", Tx: "AAAA", AtUnix: 1000})
	put(work(7, packets.KindAck), packets.Lifecycle{State: "confirmed", Tx: "BBBB", AtUnix: 1010})
	// A forged send_packet for the same sequence, in an earlier block, failed after the packet was
	// delivered: the console shows the delivery, and the forgery beside it.
	forged := work(7, packets.KindRecv)
	forged.Height, forged.Packet.Data = 45, []byte("forged")
	const never = "packet channel-0/7: no commitment on seoul-1 at 46 and not timed out: never sent (never committed by the chain: a forged send_packet event)"
	put(forged, packets.Lifecycle{State: "failed", Reason: never, AtUnix: 1020})
	q := "/console/api/packets?chain=seoul-1&channel=channel-0&seq=7"
	var got []Packet
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) { // the index is fed asynchronously by the subscription
		code, body := call(t, "GET", hs.URL+q, nil, "")
		if code != 200 || json.Unmarshal([]byte(body), &got) != nil {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		if got[0].Steps[1].Height != 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p := got[0]
	want := []Step{
		{Name: "sent", Done: true, Chain: "seoul-1", Height: 47},
		{Name: "delivered", Done: true, State: "confirmed", Chain: "bucheon-1", Height: 90, Tx: "AAAA", At: time.Unix(1000, 0).UTC()},
		{Name: "acknowledged", Done: true, State: "confirmed", Chain: "seoul-1", Tx: "BBBB", At: time.Unix(1010, 0).UTC()},
	}
	if len(p.Steps) != 3 || p.Dest != "bucheon-1" || p.Path != "seoul-bucheon" {
		t.Fatalf("packet: %+v", p)
	}
	if len(p.Refused) != 1 || p.Refused[0].Name != packets.KindRecv || p.Refused[0].State != "failed" || p.Refused[0].Reason != never {
		t.Errorf("refused items: %+v, want the forgery", p.Refused)
	}
	for i, s := range want {
		g := p.Steps[i]
		g.At = g.At.UTC()
		if i == 0 {
			g.At = time.Time{} // when the index saw it
		}
		if g != s {
			t.Errorf("step %d: got %+v, want %+v", i, g, s)
		}
	}
	if code, _ := call(t, "GET", hs.URL+"/console/api/packets?chain=seoul-1&channel=channel-0&seq=8", nil, ""); code != http.StatusNotFound {
		t.Errorf("unknown packet: %d", code)
	}
	if code, _ := call(t, "GET", hs.URL+"/console/api/packets?chain=seoul-1", nil, ""); code != http.StatusBadRequest {
		t.Errorf("incomplete query: %d", code)
	}
	if code, _ := call(t, "GET", hs.URL+"/console/api/packets?id="+strings.Repeat("ab", 32), nil, ""); code != http.StatusNotFound {
		t.Errorf("unknown attestation: %d", code)
	}
}

// Without a verified answer the card says "cannot verify", never a negative verdict, and shows no
// node address.
func TestVerifyCannotVerify(t *testing.T) {
	hs, _ := server(t, token)
	for _, q := range []string{"chain=gwangju-1&origin=seoul-1&id=" + strings.Repeat("ab", 32), "chain=&origin=&id="} {
		code, body := call(t, "GET", hs.URL+"/console/api/verify?"+q, nil, "")
		var c Card
		if code != 200 || json.Unmarshal([]byte(body), &c) != nil || c.Verdict != "cannot verify" || c.Result != nil {
			t.Errorf("verify %s: %d %s", q, code, body)
		}
	}
	if got := light.RedactText(`post failed: Post "http://10.0.0.1:26657/?apikey=x": dial tcp 10.0.0.1:26657: refused`); strings.Contains(got, "10.0.0.1") || strings.Contains(got, "apikey") {
		t.Errorf("redact left an address: %s", got)
	}
}

func TestOverviewOverNATS(t *testing.T) {
	hs, js := server(t, token)
	deadLetter(t, js, work(7, packets.KindRecv), "x")
	code, body := call(t, "GET", hs.URL+"/console/api/overview", nil, "")
	var o Overview
	if code != 200 || json.Unmarshal([]byte(body), &o) != nil {
		t.Fatalf("overview: %d %s", code, body)
	}
	if !o.NATS.Connected || o.NATS.DeadLetters != 1 || !o.Admin || len(o.Paths) != 1 || o.Paths[0].Ends[1].Channel != "channel-3" || o.Paths[0].Ends[0].TrustingLeft != -1 {
		t.Fatalf("overview: %+v", o)
	}
}

// fakeWitnessed is a light client's witness record.
type fakeWitnessed struct {
	ws     []light.WitnessStatus
	ds     []light.Divergence
	halted error
}

func (f fakeWitnessed) Witnesses() []light.WitnessStatus { return f.ws }
func (f fakeWitnessed) Divergences() []light.Divergence  { return f.ds }
func (f fakeWitnessed) Halted() error                    { return f.halted }

// The overview shows each chain's witnesses and divergences: addresses as scheme://host:port, evidence
// files by name, the newest divergences only; no credential, path, query or home directory. Addresses
// come raw from the fake, so the console's own reduction is what is tested.
func TestOverviewShowsWitnesses(t *testing.T) {
	const (
		keyed    = "https://relayer:s3cret@rpc.example.com:443/v1/KEY42?apikey=Q9"
		evidence = "/home/operator/.cityrelay/light/seoul-1/evidence/seoul-1-90-1700000000000000000.json"
	)
	at := time.Unix(1_800_000_000, 0)
	seoul := fakeWitnessed{ws: []light.WitnessStatus{
		{Witness: keyed, State: light.WitnessAgrees, Height: 120, At: at},
		{Witness: "http://witness-2.example.com:26657#2", State: light.WitnessNoAnswer, Height: 120, At: at,
			Error: `post failed: Post "http://ops:pw@10.0.0.9:26657/KEY42?apikey=Q9": EOF`},
		{Witness: "tcp://ops:pw@10.0.0.7:26657/KEY42", State: light.WitnessDiverged, Height: 90, At: at, Evidence: evidence, Divergences: 1},
	}}
	seoul.ds = append(seoul.ds, light.Divergence{Height: 90, Witness: "tcp://ops:pw@10.0.0.7:26657/KEY42", At: at, Evidence: evidence})
	seoul.halted = fmt.Errorf("%w: witness tcp://ops:pw@10.0.0.7:26657/KEY42 at height 90 (evidence %s)", light.ErrHalted, evidence)
	for i := range 6 {
		seoul.ds = append(seoul.ds, light.Divergence{Height: int64(80 - i), Witness: keyed, At: at.Add(-time.Hour), Evidence: fmt.Sprintf("/var/lib/x/seoul-1-%d-1.json", 80-i), Earlier: true})
	}
	bucheon := fakeWitnessed{ws: []light.WitnessStatus{{Witness: "http://bucheon-node:26657", Primary: true, State: light.WitnessAgrees, Height: 55, At: at}}}
	hs, _ := serverWith(t, Options{Witnesses: func(_ context.Context, chain string) (Witnessed, error) {
		if chain == "seoul-1" {
			return seoul, nil
		}
		return bucheon, nil
	}})
	code, body := call(t, "GET", hs.URL+"/console/api/overview", nil, "")
	var o Overview
	if code != 200 || json.Unmarshal([]byte(body), &o) != nil || len(o.Chains) != 2 {
		t.Fatalf("overview: %d %s", code, body)
	}
	for _, secret := range []string{"s3cret", "relayer:", "ops:", "pw@", "KEY42", "apikey", "Q9", "/home/operator", "/var/lib"} {
		if strings.Contains(body, secret) {
			t.Errorf("the overview shows %q:\n%s", secret, body)
		}
	}
	b, s := o.Chains[0], o.Chains[1] // sorted: bucheon-1, seoul-1
	if len(b.Witnesses) != 1 || !b.Witnesses[0].Primary || b.Witnesses[0].Witness != "http://bucheon-node:26657" || len(b.Divergences) != 0 || b.Halted != "" {
		t.Errorf("bucheon-1 (no witness configured): %+v %+v %q", b.Witnesses, b.Divergences, b.Halted)
	}
	// A halted light client says so, and what the operator does, without the error's addresses.
	if !strings.Contains(s.Halted, "halted after a divergence") || !strings.Contains(s.Halted, light.HaltFile) {
		t.Errorf("seoul-1 halted: %q", s.Halted)
	}
	want := []WitnessView{
		{Witness: "https://rpc.example.com:443", State: "agrees", Height: 120, At: at.UTC()},
		{Witness: "http://witness-2.example.com:26657#2", State: "no answer", Height: 120, At: at.UTC(), Error: `post failed: Post "<address>": EOF`},
		{Witness: "tcp://10.0.0.7:26657", State: "diverged", Height: 90, At: at.UTC(), Evidence: "seoul-1-90-1700000000000000000.json"},
	}
	if len(s.Witnesses) != len(want) {
		t.Fatalf("seoul-1 witnesses: %+v", s.Witnesses)
	}
	for i, w := range want {
		if g := s.Witnesses[i]; g != w {
			t.Errorf("seoul-1 witness %d: got %+v, want %+v", i, g, w)
		}
	}
	if len(s.Divergences) != maxDivergenceViews {
		t.Fatalf("seoul-1 divergences: %d, want the newest %d: %+v", len(s.Divergences), maxDivergenceViews, s.Divergences)
	}
	if d := s.Divergences[0]; d != (DivergenceView{Height: 90, Witness: "tcp://10.0.0.7:26657", At: at.UTC(), Evidence: "seoul-1-90-1700000000000000000.json"}) {
		t.Errorf("newest divergence: %+v", d)
	}
	if d := s.Divergences[1]; !d.Earlier || d.Height != 80 || d.Evidence != "seoul-1-80-1.json" || d.Witness != "https://rpc.example.com:443" {
		t.Errorf("an earlier divergence: %+v", d)
	}
}

// A packet is found by the attestation id it carries from the packet bucket alone, as after a restart
// or on another instance sharing the NATS (this console's own index saw no work item), with the
// heights and chains of every step: the send from the bucket's entry, the delivery and the
// acknowledgement from their confirmed lifecycles. The search by sequence shows the same heights.
func TestAttestationSearchFromBucket(t *testing.T) {
	hs, js := server(t, token)
	ctx := context.Background()
	kv, _ := js.KeyValue(ctx, packets.PacketBucket)
	put := func(key string, v any) {
		bz, _ := json.Marshal(v)
		if _, err := kv.Put(ctx, key, bz); err != nil {
			t.Fatal(err)
		}
	}
	id := strings.Repeat("c0", 32)
	// The attestation (seq 7) and its revocation (seq 9): one id, two packets. Seq 9 is not relayed yet.
	for _, a := range []packets.Attested{
		{ID: id, Chain: "seoul-1", Port: "did", Channel: "channel-0", Sequence: 7, Dest: "bucheon-1", Path: "seoul-bucheon", Class: "attestation", Height: 47, AtUnix: 990},
		{ID: id, Chain: "seoul-1", Port: "did", Channel: "channel-0", Sequence: 9, Dest: "bucheon-1", Path: "seoul-bucheon", Class: "revocation", Height: 60, AtUnix: 1100},
	} {
		put(packets.AttestedKey(id, fmt.Sprintf("seoul-1/did/channel-0/%d", a.Sequence)), a)
	}
	// Another attestation's entry: not found by this id.
	put(packets.AttestedKey(strings.Repeat("c1", 32), "seoul-1/did/channel-0/8"), packets.Attested{ID: strings.Repeat("c1", 32),
		Chain: "seoul-1", Port: "did", Channel: "channel-0", Sequence: 8, Dest: "bucheon-1", Height: 50})
	put(packets.LifecycleKey("seoul-1/did/channel-0/7/recv"), packets.Lifecycle{State: "confirmed", Tx: "AAAA", Height: 91, Chain: "bucheon-1", AtUnix: 1000})
	put(packets.LifecycleKey("seoul-1/did/channel-0/7/ack"), packets.Lifecycle{State: "confirmed", Tx: "BBBB", Height: 95, Chain: "seoul-1", AtUnix: 1010})
	put(packets.LifecycleKey("seoul-1/did/channel-0/9/recv"), packets.Lifecycle{State: "observed", AtUnix: 1100})

	get := func(q string) []Packet {
		t.Helper()
		code, body := call(t, "GET", hs.URL+"/console/api/packets?"+q, nil, "")
		var got []Packet
		if code != 200 || json.Unmarshal([]byte(body), &got) != nil {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		return got
	}
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	utc := func(steps []Step) []Step {
		for i := range steps {
			steps[i].At = steps[i].At.UTC()
		}
		return steps
	}
	got := get("id=" + strings.ToUpper(id)) // ids are matched in lowercase
	if len(got) != 2 {
		t.Fatalf("by id: %d packets, want the attestation and the revocation: %+v", len(got), got)
	}
	relayed := []Step{
		{Name: "sent", Done: true, Chain: "seoul-1", Height: 47, At: at(990)},
		{Name: "delivered", Done: true, State: "confirmed", Chain: "bucheon-1", Height: 91, Tx: "AAAA", At: at(1000)},
		{Name: "acknowledged", Done: true, State: "confirmed", Chain: "seoul-1", Height: 95, Tx: "BBBB", At: at(1010)},
	}
	p := got[0]
	if p.Key != "seoul-1/did/channel-0/7" || p.Dest != "bucheon-1" || p.Path != "seoul-bucheon" || p.Class != "attestation" || p.AttestationID != id {
		t.Fatalf("packet: %+v", p)
	}
	if s := utc(p.Steps); fmt.Sprint(s) != fmt.Sprint(relayed) {
		t.Errorf("steps:\n got %+v\nwant %+v", s, relayed)
	}
	pending := []Step{
		{Name: "sent", Done: true, State: "observed", Chain: "seoul-1", Height: 60, At: at(1100)},
		{Name: "delivered", Chain: "bucheon-1"},
		{Name: "acknowledged", Chain: "seoul-1"},
	}
	if r := got[1]; r.Sequence != 9 || r.Class != "revocation" || fmt.Sprint(utc(r.Steps)) != fmt.Sprint(pending) {
		t.Errorf("revocation: %+v\nwant steps %+v", r, pending)
	}

	// By sequence, without the index: the delivery's and the acknowledgement's heights still show.
	bySeq := get("chain=seoul-1&channel=channel-0&seq=7")
	if len(bySeq) != 1 || fmt.Sprint(utc(bySeq[0].Steps[1:])) != fmt.Sprint(relayed[1:]) {
		t.Errorf("by sequence: %+v\nwant steps %+v", bySeq, relayed[1:])
	}
	// A packet the clearing pass found (no send height known) whose lifecycle records are gone: still
	// found by its id, sent, not yet delivered.
	cleared := strings.Repeat("c3", 32)
	put(packets.AttestedKey(cleared, "seoul-1/did/channel-0/12"), packets.Attested{ID: cleared, Chain: "seoul-1", Port: "did", Channel: "channel-0",
		Sequence: 12, Dest: "bucheon-1", Path: "seoul-bucheon", Class: "attestation", AtUnix: 1200})
	want := []Step{{Name: "sent", Done: true, Chain: "seoul-1", At: at(1200)}, {Name: "delivered", Chain: "bucheon-1"}, {Name: "acknowledged", Chain: "seoul-1"}}
	if c := get("id=" + cleared); len(c) != 1 || c[0].Sequence != 12 || fmt.Sprint(utc(c[0].Steps)) != fmt.Sprint(want) {
		t.Errorf("cleared packet: %+v\nwant steps %+v", c, want)
	}
	for _, q := range []string{"id=" + strings.Repeat("c2", 32), "id=c0.>", "id=*"} {
		if code, body := call(t, "GET", hs.URL+"/console/api/packets?"+url.PathEscape(q), nil, ""); code != http.StatusNotFound || !strings.Contains(body, "kept for an hour") {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}
