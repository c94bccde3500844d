package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// requireBrowserEnv, set to 1 (as .ci/run does), makes a missing chromium fail the browser test
// instead of skipping it: CI must never pass without having driven the console in a browser.
const requireBrowserEnv = "CITYRELAY_REQUIRE_BROWSER"

// requireBrowser is the path of chromium. Without one, the test fails under requireBrowserEnv and is
// skipped otherwise, after telling the user once, on the terminal go test runs in (go test shows a
// passing package's output only with -v), what did not run and how to run it.
func requireBrowser(t *testing.T) string {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err == nil {
		return browser
	}
	const how = "the web console's browser test (TestConsoleInBrowser) did not run: chromium is not on PATH. " +
		"To run it: apt-get install chromium, then go test -run TestConsoleInBrowser ./cmd/cityrelay (CI always runs it)"
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatalf("chromium is required when %s=1: %v", requireBrowserEnv, err)
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, "cityrelay: note: "+how)
		tty.Close()
	}
	t.Skip(how)
	return ""
}

// writeScreenshotsEnv, set to 1, also writes the overview and verification screenshots to docs/ (the
// README shows them).
const writeScreenshotsEnv = "CITYRELAY_WRITE_SCREENSHOTS"

// TestConsoleInBrowser drives the web console of a running `cityrelay start` with headless Chromium
// on a two-city devnet: live heights and Seoul's witness agreeing on the overview (its address's
// credentials not shown), an attestation's packet found by id and shown delivered and acknowledged,
// the verification card valid, then revoked, then "cannot verify" with the chain's node stopped, and
// a re-queue refused without the admin token. Screenshots go to the test's temp dir.
func TestConsoleInBrowser(t *testing.T) {
	browser := requireBrowser(t)
	started := time.Now()
	ctx := context.Background()
	bin := testnet.Build(t, ".")
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	oh := operatorHome(t, net.Chains, testnet.HomeOptions{})
	home := oh.Dir
	oh.Must("", "paths", "new", "seoul-bucheon", "--src", "seoul-1", "--dst", "bucheon-1")
	oh.LinkCities(net, "seoul-bucheon")
	cfgPath := filepath.Join(home, "config.toml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const tokenEnv, token = "CITYRELAY_TEST_CONSOLE_TOKEN", "console-test-token"
	cfg.Global.LogFormat = "json"
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.Console.AdminTokenEnv = tokenEnv
	// Seoul's own node under another name, with credentials in the address, as its witness.
	seoulRPC, err := url.Parse(seoul.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	const witnessSecret = "w1tness-s3cret"
	cfg.Chains["seoul-1"].Witnesses = []string{"http://relayer:" + witnessSecret + "@localhost:" + seoulRPC.Port()}
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	t.Setenv(tokenEnv, token) // the daemon inherits it
	logPath := filepath.Join(home, "daemon.log")
	daemon := startDaemon(t, bin, home, logPath)
	waitLog(t, logPath, "relayer started", 0)
	base := "http://" + lastField(t, logPath, "metrics, health and verification on http", "addr")
	t.Logf("devnet, link and daemon ready in %s", time.Since(started).Round(time.Millisecond))

	shots := t.TempDir()
	bctx := browse(t, browser)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second) // no step waits forever
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if os.Getenv(writeScreenshotsEnv) == "1" && (name == "console-overview.png" || name == "console-verify.png") {
			if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// eventually runs check until it returns "" (each time after actions), or fails with its last answer.
	eventually := func(what string, within time.Duration, actions []chromedp.Action[chromedp.Void], check func() string) {
		t.Helper()
		deadline, last := time.Now().Add(within), ""
		for time.Now().Before(deadline) {
			run(what, actions...)
			if last = check(); last == "" {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
		screenshot("failed.png")
		t.Fatalf("%s: not within %s: %s (screenshots in %s)", what, within, last, shots)
	}
	text := func(sel string) string {
		ctx, cancel := context.WithTimeout(bctx, 5*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}

	// Overview: both chains and the path, with heights that move between two reads.
	pageStart := time.Now()
	run("open the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-chain="bucheon-1"] [data-k="node-height"]`)))
	fcp, _ := chromedp.Run(bctx, chromedp.Evaluate[float64](`(performance.getEntriesByName("first-contentful-paint")[0] || {startTime: -1}).startTime`))
	t.Logf("overview rendered with live data %s after navigation (first contentful paint %.0f ms)", time.Since(pageStart).Round(time.Millisecond), fcp)
	height := func() int64 {
		n, _ := strconv.ParseInt(text(`[data-chain="seoul-1"] [data-k="node-height"]`), 10, 64)
		return n
	}
	first := height()
	eventually("live height", 15*time.Second, nil, func() string {
		if now := height(); first == 0 || now <= first {
			return "seoul-1 height " + strconv.FormatInt(now, 10) + " after " + strconv.FormatInt(first, 10)
		}
		return ""
	})
	// The daemon's CPU with no page open, then with the overview open (polling every 2 s).
	open := cpuShare(t, daemon.cmd.Process.Pid, 6*time.Second)
	run("close the page", chromedp.Navigate("about:blank"))
	closed := cpuShare(t, daemon.cmd.Process.Pid, 6*time.Second)
	run("reopen the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-path="seoul-bucheon"]`)))
	t.Logf("daemon CPU over 6 s: %.1f%% of a core with the overview open, %.1f%% with no page open", open, closed)
	pc := cfg.Paths["seoul-bucheon"]
	eventually("path on the overview", 10*time.Second, nil, func() string {
		p := text(`[data-path="seoul-bucheon"]`)
		if !strings.Contains(p, pc.Src.ChannelID) || !strings.Contains(p, pc.Dst.ChannelID) || !strings.Contains(p, "OPEN") {
			return p
		}
		return ""
	})
	// Seoul's witness agrees, shown by host and port only; Bucheon has none.
	eventually("witness line", 30*time.Second, nil, func() string {
		w := text(`[data-chain="seoul-1"] [data-k="witnesses"]`)
		if !strings.Contains(w, "1 witness agrees at") || !strings.Contains(text(`[data-chain="bucheon-1"]`), "no witness configured") {
			return "seoul-1: " + w + "; bucheon-1: " + text(`[data-chain="bucheon-1"]`)
		}
		return ""
	})
	if page := text(`body`); strings.Contains(page, witnessSecret) || strings.Contains(page, "relayer:") {
		t.Fatalf("the page shows the witness's credentials:\n%s", page)
	}

	// An attestation from Seoul to Bucheon, relayed by the daemon, found by its id.
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{7}, 32)
	sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "residency-card", digest, now-10, now+3600, 1)
	sig, _ := seoul.Issuer.Sign(sb)
	id := didtypes.AttestationID(sb)
	if _, err := admin.Send(ctx, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
		SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 10, ValidUntil: now + 3600, IssuerSeq: 1, Signature: sig},
		&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: pc.Src.ChannelID, AttestationId: id}); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	run("open packets", chromedp.Navigate(base+"/#packets"), chromedp.WaitVisible(chromedp.CSS(`#q-id`)), chromedp.SetValue(chromedp.CSS(`#q-id`), id))
	eventually("packet delivered and acknowledged", 60*time.Second, []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(`#find-id button`)), chromedp.Sleep(300 * time.Millisecond)}, func() string {
		ok, _ := chromedp.Run(bctx, chromedp.Evaluate[bool](`!!document.querySelector('li.done[data-step="delivered"]') && !!document.querySelector('li.done[data-step="acknowledged"]')`))
		if !ok {
			return text(`#packet-result`)
		}
		return ""
	})
	t.Logf("attestation delivered and acknowledged, shown %s after sending: %s", time.Since(sent).Round(time.Millisecond), text(`#packet-result`))
	// Each step shows the height and the chain it happened at: sent and acknowledged on Seoul, delivered
	// on Bucheon.
	for step, chain := range map[string]string{"sent": "seoul-1", "delivered": "bucheon-1", "acknowledged": "seoul-1"} {
		li := `li[data-step="` + step + `"]`
		if n, _ := strconv.ParseInt(text(li+` [data-k="height"]`), 10, 64); n <= 0 || !strings.Contains(text(li), " on "+chain) {
			t.Errorf("step %s must show its height on %s: %q", step, chain, text(li))
		}
	}
	screenshot("console-packet.png")

	// The overview counts the path's packets over the last hour and names its last relay tx.
	run("back to the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-path="seoul-bucheon"]`)))
	eventually("last hour and last relay tx on the path", 10*time.Second, nil, func() string {
		relayed, last := text(`[data-path="seoul-bucheon"] [data-k="relayed-hour"]`), text(`[data-path="seoul-bucheon"] [data-k="last-relay"]`)
		if relayed == "" || relayed == "0" || !strings.Contains(last, "at height") || !strings.Contains(text(`[data-path="seoul-bucheon"]`), "relayed · last") {
			return "relayed " + relayed + "; last relay " + last
		}
		return ""
	})
	screenshot("console-overview.png")

	// On a phone (375 px wide): the overview fits the width, nothing scrolls sideways.
	run("overview on a phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-path="seoul-bucheon"]`)))
	if over, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); err != nil || over > 0 {
		screenshot("console-phone.png")
		t.Errorf("the overview is %d px wider than a phone's screen (%v)", over, err)
	}
	screenshot("console-phone.png")
	run("back to a desktop", chromedp.EmulateReset())

	// The verification card: valid.
	verifyAs := func(chain string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.SetValue(chromedp.CSS(`#v-chain`), chain), chromedp.SetValue(chromedp.CSS(`#v-origin`), "seoul-1"),
			chromedp.SetValue(chromedp.CSS(`#v-id`), id), chromedp.Click(chromedp.CSS(`#verify-form button`)),
			chromedp.WaitNotPresent(chromedp.CSS(`#card p.muted`))}
	}
	verdict := func(want string) func() string {
		return func() string {
			if got := strings.ToLower(text(`#verdict`)); got != want { // the card shows it in capitals
				return "verdict " + got + ": " + text(`#card`)
			}
			return ""
		}
	}
	run("open verify", chromedp.Click(chromedp.CSS(`nav a[data-tab="verify"]`)), chromedp.WaitVisible(chromedp.CSS(`#v-id`)),
		chromedp.WaitReady(chromedp.CSS(`#v-chain option`)))
	eventually("verify valid", 30*time.Second, verifyAs("bucheon-1"), verdict("valid"))
	if card := text(`#verdict-card`); !strings.Contains(card, seoul.Citizen.DID) || !strings.Contains(card, seoul.Issuer.DID) || !strings.Contains(card, "residency-card") {
		t.Fatalf("the card must show issuer, subject and type:\n%s", card)
	}
	screenshot("console-verify.png")

	// Revoked in Seoul, the revocation relayed: revoked.
	rsig, _ := seoul.Issuer.Sign(didtypes.RevocationSignBytes("seoul-1", id, seoul.Issuer.DID, "key-1", didtypes.ATTESTATION_STATUS_REVOKED, 2))
	if _, err := admin.Send(ctx, &didtypes.MsgSetAttestationStatus{Submitter: seoul.Admin.Address, AttestationId: id, IssuerMethod: "key-1",
		NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: 2, Signature: rsig},
		&didtypes.MsgSendRevocation{Sender: seoul.Admin.Address, SourceChannel: pc.Src.ChannelID, AttestationId: id}); err != nil {
		t.Fatal(err)
	}
	eventually("verify revoked", 60*time.Second, verifyAs("bucheon-1"), verdict("revoked"))
	screenshot("console-revoked.png")

	// A dead letter, re-queued without the token: refused.
	nc := dialEmbedded(t, logPath, cfg.NATS.EmbeddedStore(home))
	w := &packets.Work{Kind: packets.KindRecv, Path: "seoul-bucheon", From: "seoul-1", To: "bucheon-1", Height: 5, Class: "other",
		Packet: packets.Packet{Sequence: 999, SourcePort: "did", SourceChannel: pc.Src.ChannelID, DestPort: "did", DestChannel: pc.Dst.ChannelID, Data: []byte("x")}}
	bz, _ := w.Encode()
	m := nats.NewMsg(packets.DeadSubject(w.To, w.Path))
	m.Data, m.Header = bz, nats.Header{packets.ReasonHeader: []string{"test: a letter to refuse"}}
	if err := nc.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	run("re-queue without the token", chromedp.Click(chromedp.CSS(`nav a[data-tab="packets"]`)), chromedp.WaitVisible(chromedp.CSS(`button.requeue`)),
		chromedp.Click(chromedp.CSS(`button.requeue`)))
	eventually("re-queue refused", 10*time.Second, nil, func() string {
		if r := text(`#admin-result`); !strings.Contains(r, "refused (401)") {
			return r
		}
		return ""
	})
	if !strings.Contains(text(`#dead`), "a letter to refuse") {
		t.Fatalf("the refused letter must still be listed: %s", text(`#dead`))
	}
	screenshot("console-requeue-refused.png")
	resp, err := http.PostForm(base+"/console/admin/requeue", url.Values{"seq": {"1"}})
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST requeue without a token: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	// Bucheon's node stopped: cannot verify (never a negative answer).
	if err := bucheon.Stop(); err != nil {
		t.Fatal(err)
	}
	run("open verify", chromedp.Click(chromedp.CSS(`nav a[data-tab="verify"]`)), chromedp.WaitVisible(chromedp.CSS(`#v-id`)))
	eventually("cannot verify", 60*time.Second, verifyAs("bucheon-1"), verdict("cannot verify"))
	if card := text(`#verdict-card`); strings.Contains(card, strings.TrimPrefix(bucheon.RPCAddr, "tcp://")) || strings.Contains(card, "127.0.0.1:") {
		t.Fatalf("the card shows a node address:\n%s", card)
	}
	screenshot("console-cannot-verify.png")
	t.Logf("screenshots in %s; whole test %s", shots, time.Since(started).Round(time.Millisecond))
}

// browse starts headless Chromium (no sandbox: tests may run as root) and accepts every
// confirmation dialog, as an operator who clicks OK.
func browse(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1100, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A dialog blocks the click that opened it: another goroutine answers it. It ends with bctx.
	dialogs := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return bctx
}

// dialEmbedded connects to the daemon's embedded NATS (its URL is in the log, its token in its store).
func dialEmbedded(t *testing.T, logPath, store string) *nats.Conn {
	t.Helper()
	tok, err := packets.EmbeddedToken(store)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(lastField(t, logPath, "embedded nats-server with jetstream", "url"), nats.Token(tok))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// cpuShare is the CPU process pid uses over d, in percent of one core (from /proc/<pid>/stat).
func cpuShare(t *testing.T, pid int, d time.Duration) float64 {
	t.Helper()
	ticks := func() float64 {
		bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		// Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
		f := strings.Fields(string(bz[bytes.LastIndexByte(bz, ')')+2:]))
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		return u + s
	}
	start, t0 := ticks(), time.Now()
	time.Sleep(d)
	const clockTicks = 100 // USER_HZ on Linux
	return (ticks() - start) / clockTicks / time.Since(t0).Seconds() * 100
}
