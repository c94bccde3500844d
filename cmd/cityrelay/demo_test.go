package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/cmd/cityrelay/internal/demo"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/console"
)

// demoOut collects a demo's stdout line by line.
type demoOut struct {
	mu    sync.Mutex
	lines []string
	more  chan struct{} // a line came or stdout ended
	ended bool
}

func (d *demoOut) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		d.mu.Lock()
		d.lines = append(d.lines, sc.Text())
		d.mu.Unlock()
		select {
		case d.more <- struct{}{}:
		default:
		}
	}
	d.mu.Lock()
	d.ended = true
	d.mu.Unlock()
	close(d.more)
}

func (d *demoOut) text() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n")
}

// await returns the submatches of the first line from index from on that matches re, and the index
// after it; it fails the test when none comes within d or stdout ends.
func (d *demoOut) await(t *testing.T, re *regexp.Regexp, from int, within time.Duration) ([]string, int) {
	t.Helper()
	deadline := time.After(within)
	for {
		d.mu.Lock()
		for i := from; i < len(d.lines); i++ {
			if m := re.FindStringSubmatch(d.lines[i]); m != nil {
				d.mu.Unlock()
				return m, i + 1
			}
		}
		ended := d.ended
		d.mu.Unlock()
		if ended {
			t.Fatalf("demo's stdout ended without a line matching %s:\n%s", re, d.text())
		}
		select {
		case <-d.more:
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("no line matching %s within %s:\n%s", re, within, d.text())
		}
	}
}

// last returns the submatches of the last line from index from on that matches re (nil: none).
func (d *demoOut) last(re *regexp.Regexp, from int) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.lines) - 1; i >= from; i-- {
		if m := re.FindStringSubmatch(d.lines[i]); m != nil {
			return m
		}
	}
	return nil
}

// getJSON GETs url and decodes a 200 reply into v.
func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	bz, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, bz)
	}
	return json.Unmarshal(bz, v)
}

// TestDemoServesTheConsole runs `cityrelay demo` (not --once) as a child process with its own home,
// told to serve on a port this test holds: it must say so in its first lines and serve the console
// and /metrics on the free port it printed, with the three cities, the EVM city and packets relayed;
// verification in its console works (through the daemon's gate), the trickle of citizen activity goes
// on, and SIGINT stops it cleanly.
func TestDemoServesTheConsole(t *testing.T) {
	bin := testnet.Build(t, ".")
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	cmd := exec.Command(bin, "demo", "--home", t.TempDir(), "--listen", held.Addr().String(), "--trickle-every", "2s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	out := &demoOut{more: make(chan struct{}, 1)}
	go func() {
		out.read(stdout)
		exited <- cmd.Wait()
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	// The first lines: the held port is taken, the console moves to a free one, and its URL.
	m, next := out.await(t, regexp.MustCompile(`^(\S+) is taken: the console uses (127\.0\.0\.1:(\d+)) instead$`), 0, 30*time.Second)
	if m[1] != held.Addr().String() {
		t.Fatalf("demo says %s is taken, want the held %s", m[1], held.Addr())
	}
	used := m[2]
	if used == held.Addr().String() {
		t.Fatalf("demo uses the held port %s", used)
	}
	m, next = out.await(t, regexp.MustCompile(`^open (http://\S+/) to watch the relayer .*Ctrl-C stops$`), next, 5*time.Second)
	url := m[1]
	if url != "http://"+used+"/" {
		t.Fatalf("URL %s is not on the address the demo said it uses (%s)", url, used)
	}
	if next > 3 {
		t.Fatalf("the URL is on line %d, not in the first lines:\n%s", next, out.text())
	}

	// The overview: every city and a path with packets relayed.
	var ov console.Overview
	var servedAfter time.Duration
	deadline := time.Now().Add(5 * time.Minute)
	for {
		err := getJSON(url+"console/api/overview", &ov)
		if err == nil && servedAfter == 0 {
			servedAfter = time.Since(start)
		}
		relayed := 0.0
		for _, p := range ov.Paths {
			relayed = max(relayed, p.Relayed)
		}
		chains := map[string]bool{}
		for _, c := range ov.Chains {
			chains[c.ChainID] = c.LightHeight > 0
		}
		if err == nil && chains[demo.Seoul] && chains[demo.Bucheon] && chains[demo.Member] && len(ov.Paths) == 3 && relayed > 0 &&
			len(ov.EvmCities) == 1 && ov.EvmCities[0].City == demo.Gimpo {
			t.Logf("console served %s after start; packets relayed seen %s after start (paths %s %v, %s %v)", servedAfter.Round(time.Millisecond),
				time.Since(start).Round(time.Millisecond), ov.Paths[0].Name, ov.Paths[0].Relayed, ov.Paths[1].Name, ov.Paths[1].Relayed)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("overview never showed %s, %s, %s with light heights, 3 paths with packets relayed and %s (last error %v): %+v\nstdout:\n%s\nstderr:\n%s",
				demo.Seoul, demo.Bucheon, demo.Member, demo.Gimpo, err, ov, out.text(), stderr.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<title>cityrelay console</title>") {
		t.Fatalf("GET %s: %s, not the console page:\n%.300s", url, resp.Status, page)
	}
	metrics := httpGet(t, url+"metrics")
	if !regexp.MustCompile(`(?m)^cityrelay_packets_relayed_total\{kind="recv",path="seoul-1<->bucheon-1"\} [1-9]`).MatchString(metrics) {
		t.Fatalf("/metrics shows no recv relayed on seoul-1<->bucheon-1:\n%s", grepLines(metrics, "cityrelay_packets_relayed_total"))
	}

	// The story forwards an attestation from Seoul to Bucheon through the hub wego-1 (issue 22): Bucheon
	// records it with its route, and Seoul's delivery record reads delivered.
	_, _ = out.await(t, regexp.MustCompile(`ok\s+forwarded attestation recorded on bucheon-1 via wego-1`), 0, 3*time.Minute)
	// The story's closing summary names the URL; then the trickle: an attestation issued after the
	// story is found by the packet search and verified valid in Bucheon through the console.
	_, next = out.await(t, regexp.MustCompile(`^open `+regexp.QuoteMeta(url)+` to watch the relayer; Ctrl-C stops$`), next, 3*time.Minute)
	// The newest attestation of the trickle is never the one it revokes: verify the newest.
	issued := regexp.MustCompile(`ok\s+issue \S+ -> .* verify on bucheon-1 or wego-1 with origin seoul-1 and id ([0-9a-f]{64})$`)
	m, _ = out.await(t, issued, next, time.Minute)
	id := m[1]
	var verified struct {
		Verdict string `json:"verdict"`
		Result  struct {
			Status string `json:"status"`
			ID     string `json:"id"`
		} `json:"result"`
	}
	var found []console.Packet
	deadline = time.Now().Add(time.Minute)
	for {
		if m := out.last(issued, next); m != nil {
			id = m[1]
		}
		verr := getJSON(url+"console/api/verify?chain=bucheon-1&origin=seoul-1&id="+id, &verified)
		perr := getJSON(url+"console/api/packets?id="+id, &found)
		if verr == nil && verified.Verdict == "valid" && verified.Result.ID == id && perr == nil && len(found) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("attestation %s: verify %+v (%v), packets %+v (%v)", id, verified, verr, found, perr)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, p := range found {
		if p.AttestationID != id || p.Chain != "seoul-1" {
			t.Fatalf("packet search for %s found %+v", id, p)
		}
	}

	// SIGINT stops it cleanly, naming the URL in its last words.
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("demo exited with %v after SIGINT:\nstdout:\n%s\nstderr:\n%s", err, out.text(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not stop within 30s of SIGINT:\n%s", out.text())
	}
	t.Logf("stopped %s after SIGINT", time.Since(sent).Round(time.Millisecond))
	if !regexp.MustCompile(`(?m)^stopped after \S+: the trickle issued [1-9]\d* attestations, .*\(0 steps failed\); the console was ` +
		regexp.QuoteMeta(url) + `$`).MatchString(out.text()) {
		t.Fatalf("no closing line with the URL:\n%s", out.text())
	}
	if strings.Contains(out.text(), "FAILED") {
		t.Fatalf("a step failed:\n%s", out.text())
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDemoListenMovesOffTakenPort: the demo's default address 127.0.0.1:9464, taken (held here, or by
// whatever holds it already), gives another free loopback port, which serves; an address off
// loopback is refused.
func TestDemoListenMovesOffTakenPort(t *testing.T) {
	if demo.DefaultListen != "127.0.0.1:9464" {
		t.Fatalf("default %s", demo.DefaultListen)
	}
	if held, err := net.Listen("tcp", demo.DefaultListen); err == nil {
		defer held.Close()
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatal(err)
	}
	ln, taken, err := demo.Listen(demo.DefaultListen)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	if !taken || addr.Port == 9464 || !addr.IP.IsLoopback() {
		t.Fatalf("taken %v, listening on %s", taken, addr)
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "served") }))
	}()
	if got := httpGet(t, "http://"+addr.String()+"/"); got != "served" {
		t.Fatalf("the free port answered %q", got)
	}
	for _, bad := range []string{"0.0.0.0:9464", "192.0.2.1:9464", ":9464"} {
		if _, _, err := demo.Listen(bad); !errors.Is(err, demo.ErrNotLoopback) {
			t.Fatalf("Listen(%q): %v, want ErrNotLoopback", bad, err)
		}
	}
}
