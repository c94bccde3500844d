package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// transferPath sets up a home with the ICS-20 path xfer (seoul-1 -> bucheon-1) linked, and returns
// the home, its --home flag and the path's channel on each chain.
func transferPath(t *testing.T, net *devnet.Devnet) (home string, h []string, seoulCh, bucheonCh string) {
	t.Helper()
	home, h = devnetHome(t, net.Chains)
	mustCLI(t, "", append(h, "paths", "new", "xfer", "--src", "seoul-1", "--dst", "bucheon-1", "--src-port", "transfer", "--dst-port", "transfer", "--version", "ics20-1")...)
	mustCLI(t, "", append(h, "tx", "link", "xfer", "--trust-latest")...)
	cfg, err := config.Load(filepath.Join(home, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return home, h, cfg.Paths["xfer"].Src.ChannelID, cfg.Paths["xfer"].Dst.ChannelID
}

// sendTransfers sends n transfers of 1ucity on xfer with the given timeout and returns their sequences.
func sendTransfers(t *testing.T, h []string, n int, timeout string) []uint64 {
	t.Helper()
	var seqs []uint64
	re := regexp.MustCompile(`sequence (\d+) `)
	for range n {
		out := mustCLI(t, "", append(h, "tx", "transfer", "seoul-1", "bucheon-1", "1ucity", "--path", "xfer", "--timeout", timeout)...)
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no sequence in tx transfer's output:\n%s", out)
		}
		var s uint64
		fmt.Sscan(m[1], &s)
		seqs = append(seqs, s)
	}
	return seqs
}

// packetState is what the chains hold of the packets seoul-1 sent on xfer: the sequences whose
// commitments are still on seoul-1 (not acknowledged or timed out) and, of those, the ones bucheon-1
// has received (their receipts).
func packetState(t *testing.T, seoul, bucheon *cosmos.Client, seoulCh, bucheonCh string, sent []uint64) (committed, received []uint64) {
	t.Helper()
	ctx := context.Background()
	committed, err := seoul.PacketCommitments(ctx, "transfer", seoulCh)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(committed)
	unreceived, err := bucheon.UnreceivedPackets(ctx, "transfer", bucheonCh, sent)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sent {
		if !slices.Contains(unreceived, s) {
			received = append(received, s)
		}
	}
	return committed, received
}

// TestFlushChosenSequences: of six transfers pending on xfer (one of them timed out), `tx flush
// --sequences 2,4,6-7` relays exactly 2 and 4 (received on bucheon-1 and acknowledged on seoul-1),
// times 6 out on seoul-1, reports 7 as not pending, and leaves 1, 3 and 5 pending (committed on seoul-1,
// not received on bucheon-1). A malformed list is refused naming the bad item, before anything is sent.
func TestFlushChosenSequences(t *testing.T) {
	begin := time.Now()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	_, h, seoulCh, bucheonCh := transferPath(t, net)
	seoul, bucheon := testnet.Client(t, net.Chain("seoul-1"), devnet.AdminKey), testnet.Client(t, net.Chain("bucheon-1"), devnet.AdminKey)

	sent := sendTransfers(t, h, 5, "10m")
	sent = append(sent, sendTransfers(t, h, 1, "3s")...)
	timesOut := time.Now().Add(3 * time.Second)
	if !slices.Equal(sent, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("sequences sent: %v", sent)
	}
	for bad, want := range map[string]string{
		"2,,4": "--sequences: item 2: bad sequence list: empty item",
		"0":    "--sequences: item 1: bad sequence list: \"0\": sequences start at 1",
		"4-2":  `--sequences: item 1: bad sequence list: "4-2": range end below its start`,
		"2;4":  `--sequences: item 1: bad sequence list: "2;4"`,
		"":     "--sequences: bad sequence list: no sequence given",
	} {
		if _, err := cli(t, "", append(h, "tx", "flush", "xfer", "--sequences", bad)...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("flush --sequences %q: %v; want %q", bad, err, want)
		}
	}
	if c, r := packetState(t, seoul, bucheon, seoulCh, bucheonCh, sent); len(c) != 6 || len(r) != 0 {
		t.Fatalf("a refused flush relayed something: committed %v, received %v", c, r)
	}
	// Packet 6 times out on bucheon-1's clock: wait for a block a second past it.
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := bucheon.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.SyncInfo.LatestBlockTime.After(timesOut.Add(time.Second)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bucheon-1 made no block past packet 6's timeout within a minute")
		}
		time.Sleep(500 * time.Millisecond)
	}

	out := mustCLI(t, "", append(h, "tx", "flush", "xfer", "--sequences", "2,4,6-7")...)
	for _, want := range []string{
		"seoul-1 -> bucheon-1: 3 packets pending, 2 received; 2 acknowledgements pending, 2 acknowledged; 0 already done; 0 refused; 1 timed out",
		"not pending from seoul-1: 7\n",
		"bucheon-1 -> seoul-1: 0 packets pending, 0 received; 0 acknowledgements pending, 0 acknowledged",
		"not pending from bucheon-1: 2,4,6-7\n",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("flush --sequences 2,4,6-7: want %q in:\n%s", want, out)
		}
	}
	committed, received := packetState(t, seoul, bucheon, seoulCh, bucheonCh, sent)
	if !slices.Equal(committed, []uint64{1, 3, 5}) || !slices.Equal(received, []uint64{2, 4}) {
		t.Fatalf("after flush --sequences 2,4,6-7: committed on seoul-1 %v (want 1,3,5), received on bucheon-1 %v (want 2,4)", committed, received)
	}
	// Named again: nothing left to do for them; the others are untouched.
	out = mustCLI(t, "", append(h, "tx", "flush", "xfer", "--sequences", "2,4,6")...)
	if !strings.Contains(out, "seoul-1 -> bucheon-1: 0 packets pending, 0 received; 0 acknowledgements pending") || !strings.Contains(out, "not pending from seoul-1: 2,4,6\n") {
		t.Fatalf("flush of sequences already relayed:\n%s", out)
	}
	if c, _ := packetState(t, seoul, bucheon, seoulCh, bucheonCh, sent); !slices.Equal(c, []uint64{1, 3, 5}) {
		t.Fatalf("committed after a second flush: %v", c)
	}
	t.Logf("done in %s", time.Since(begin).Round(time.Millisecond))
}

// TestDaemonExcludedSequencesAndAdminClear: with excluded_sequences = "2,4" on xfer's seoul-1 end and a
// clear every 2 s, a running daemon relays transfers 1, 3 and 5 and leaves 2 and 4 pending (each
// skip logged once and counted), through several clears. The admin clear refuses a request without
// the token, with a wrong one, for an unknown path and with a malformed list (each counted); with the
// token, `tx flush --daemon --sequences 2` has the daemon relay 2 through its own pipeline (received and
// acknowledged: the daemon never relayed it on its own) and not 4. With the daemon stopped, `tx flush`
// leaves 4 alone (excluded) and `tx flush --sequences 4` relays it.
func TestDaemonExcludedSequencesAndAdminClear(t *testing.T) {
	begin := time.Now()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	home, h, seoulCh, bucheonCh := transferPath(t, net)
	seoul, bucheon := testnet.Client(t, net.Chain("seoul-1"), devnet.AdminKey), testnet.Client(t, net.Chain("bucheon-1"), devnet.AdminKey)
	const tokenEnv, token = "CITYRELAY_TEST_ADMIN_TOKEN", "s3cret-admin-token"
	t.Setenv(tokenEnv, token)
	addr := freeAddr(t)
	editConfig(t, home, func(cfg *config.Config) {
		cfg.Paths["xfer"].Src.ExcludedSequences = "2,4"
		cfg.Metrics.Listen = addr
		cfg.Console.Enabled = false // the admin clear is served without the console
		cfg.Console.AdminTokenEnv = tokenEnv
		cfg.Relay.ClearInterval = config.Duration{Duration: 2 * time.Second}
		cfg.Global.LogLevel = "debug" // the clears that find only excluded work say so at debug level
		cfg.Global.LogFormat = "json"
	})

	logPath := filepath.Join(home, "daemon.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	root := newRootCmd()
	root.SetArgs(append(h, "start"))
	root.SetOut(logFile)
	root.SetErr(logFile)
	go func() { done <- root.ExecuteContext(ctx) }()
	stopDaemon := func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("daemon did not stop within 30s")
		}
	}
	defer func() {
		if ctx.Err() == nil {
			stopDaemon()
		}
	}()
	waitLog(t, logPath, "relayer started", 0)

	sent := sendTransfers(t, h, 5, "10m")
	waitState := func(what string, wantCommitted, wantReceived []uint64) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			c, r := packetState(t, seoul, bucheon, seoulCh, bucheonCh, sent)
			if slices.Equal(c, wantCommitted) && slices.Equal(r, wantReceived) {
				return
			}
			if time.Now().After(deadline) {
				bz, _ := os.ReadFile(logPath)
				t.Fatalf("%s: committed on seoul-1 %v (want %v), received on bucheon-1 %v (want %v)\n%s", what, c, wantCommitted, r, wantReceived, bz)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitState("the daemon relays the sequences not excluded", []uint64{2, 4}, []uint64{1, 3, 5})
	// Three more clears at least (every 2 s) find 2 and 4 pending and skip them again.
	const onlyExcluded = `"clearing: only excluded work pending"`
	clears := strings.Count(readFile(t, logPath), onlyExcluded)
	time.Sleep(7 * time.Second)
	bz := readFile(t, logPath)
	if n := strings.Count(bz, onlyExcluded); n < clears+3 {
		t.Fatalf("want 3 clears or more while waiting, got %d:\n%s", n-clears, bz)
	}
	if c, r := packetState(t, seoul, bucheon, seoulCh, bucheonCh, sent); !slices.Equal(c, []uint64{2, 4}) || len(r) != 3 {
		t.Fatalf("the daemon relayed an excluded sequence: committed %v, received %v", c, r)
	}
	for _, seq := range []string{"2", "4"} {
		var n int
		for _, l := range strings.Split(bz, "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && strings.HasPrefix(fmt.Sprint(m["message"]), "excluded sequence skipped") &&
				fmt.Sprint(m["seq"]) == seq && m["chain"] == "seoul-1" && m["path"] == "xfer" && m["channel"] == seoulCh && m["kind"] == "recv" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("sequence %s: logged %d times as excluded, want once:\n%s", seq, n, bz)
		}
	}
	if got := metricSums(t, addr, map[string][]string{"cityrelay_packets_excluded_total": {`path="xfer"`, `chain="seoul-1"`, `kind="recv"`}}); got["cityrelay_packets_excluded_total"] != 2 {
		t.Fatalf("cityrelay_packets_excluded_total: %v, want 2", got)
	}

	// The admin clear's refusals.
	post := func(auth, query string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/console/admin/clear?"+query, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body strings.Builder
		_, _ = fmt.Fprint(&body, readAll(resp))
		return resp.StatusCode, body.String()
	}
	for _, c := range []struct {
		auth, query string
		code        int
		want        string
	}{
		{"", "path=xfer&sequences=2", http.StatusUnauthorized, "admin token required"},
		{"Bearer wrong-token", "path=xfer&sequences=2", http.StatusUnauthorized, "wrong admin token"},
		{"Bearer " + token, "path=nowhere", http.StatusNotFound, `\"nowhere\" is not a path this daemon relays`},
		{"Bearer " + token, "path=xfer&sequences=2,,4", http.StatusBadRequest, "item 2: bad sequence list: empty item"},
	} {
		if code, body := post(c.auth, c.query); code != c.code || !strings.Contains(body, c.want) {
			t.Fatalf("POST clear %q with %q: %d %s; want %d %q", c.query, c.auth, code, body, c.code, c.want)
		}
	}
	if _, err := cli(t, "", append(h, "tx", "flush", "xfer", "--daemon", "--daemon-url", "http://"+addr, "--sequences", "x")...); err == nil || !strings.Contains(err.Error(), `"x" is not a sequence number`) {
		t.Fatalf("flush --daemon with a bad list: %v", err)
	}
	// The CLI finds the daemon at metrics.listen, with the token from console.admin_token_env's variable.
	out := mustCLI(t, "", append(h, "tx", "flush", "xfer", "--daemon", "--sequences", "2")...)
	if !strings.Contains(out, "seoul-1 -> bucheon-1: the daemon queued 1 packets and 0 acknowledgements") || !strings.Contains(out, "not pending from bucheon-1: 2\n") {
		t.Fatalf("flush --daemon --sequences 2:\n%s", out)
	}
	waitState("the admin clear of 2 (received, then its acknowledgement relayed by the daemon)", []uint64{4}, []uint64{1, 2, 3, 5})
	time.Sleep(3 * time.Second) // a clear or more: 4 stays excluded
	if c, _ := packetState(t, seoul, bucheon, seoulCh, bucheonCh, sent); !slices.Equal(c, []uint64{4}) {
		t.Fatalf("after the admin clear of 2: committed %v, want [4]", c)
	}
	got := metricSums(t, addr, map[string][]string{
		`cityrelay_admin_clear_requests_total{result="ok"}`: nil, `cityrelay_admin_clear_requests_total{result="no_token"}`: nil,
		`cityrelay_admin_clear_requests_total{result="bad_token"}`: nil, `cityrelay_admin_clear_requests_total{result="unknown_path"}`: nil,
		`cityrelay_admin_clear_requests_total{result="bad_request"}`: nil,
	})
	for k, v := range got {
		if v != 1 {
			t.Errorf("%s = %v, want 1", k, v)
		}
	}
	if len(got) != 5 {
		t.Fatalf("admin clear counts: %v", got)
	}
	stopDaemon()

	// Without the daemon: a plain flush leaves 4 alone, a flush naming it relays it.
	out = mustCLI(t, "", append(h, "tx", "flush", "xfer")...)
	if !strings.Contains(out, "seoul-1 -> bucheon-1: 0 packets pending, 0 received") || !strings.Contains(out, "excluded (excluded_sequences of seoul-1, not relayed): 4\n") {
		t.Fatalf("flush with 4 excluded:\n%s", out)
	}
	out = mustCLI(t, "", append(h, "tx", "flush", "xfer", "--sequences", "4")...)
	if !strings.Contains(out, "seoul-1 -> bucheon-1: 1 packets pending, 1 received; 1 acknowledgements pending, 1 acknowledged") {
		t.Fatalf("flush --sequences 4:\n%s", out)
	}
	committed, received := packetState(t, seoul, bucheon, seoulCh, bucheonCh, sent)
	if len(committed) != 0 || !slices.Equal(received, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("at the end: committed %v, received %v", committed, received)
	}
	t.Logf("done in %s", time.Since(begin).Round(time.Millisecond))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	bz, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(bz)
}

func readAll(resp *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
