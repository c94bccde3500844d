package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestVersion: the version names the module versions cityrelay speaks with.
func TestVersion(t *testing.T) {
	out := mustCLI(t, "", "version")
	for _, want := range []string{"cityrelay ", "go:           go1.", "ibc-go:       v8.", "cosmos-sdk:   v0.50.", "cometbft:     v0.38.",
		"go-ethereum:  v1.", "nats.go:      v1.", "nats-server:  v2."} {
		if !strings.Contains(out, want) {
			t.Fatalf("version does not say %q:\n%s", want, out)
		}
	}
}

// TestPrintVersion: a build with vcs stamping shows the commit (marked when the tree was modified)
// and its time; a replaced module shows its replacement.
func TestPrintVersion(t *testing.T) {
	var buf bytes.Buffer
	printVersion(&buf, &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "7118dc3abc"}, {Key: "vcs.time", Value: "2026-11-29T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}},
		Deps: []*debug.Module{{Path: "github.com/cosmos/ibc-go/v8", Version: "v8.8.0"},
			{Path: "github.com/cometbft/cometbft", Version: "v0.38.11", Replace: &debug.Module{Path: "github.com/example/cometbft", Version: "v0.38.11-x"}}}})
	want := "cityrelay v1.2.0\ncommit:       7118dc3abc (modified)\ncommit time:  2026-11-29T10:00:00Z\ngo:           go1.26.8\n" +
		"ibc-go:       v8.8.0\ncometbft:     github.com/example/cometbft v0.38.11-x\n"
	if buf.String() != want {
		t.Fatalf("version:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestConsoleLogToAFileHasNoColour: console logs written to a file (or a pipe) carry no ANSI codes.
func TestConsoleLogToAFileHasNoColour(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "relay.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := config.Default()
	cfg.Global.LogFormat = "console"
	var buf bytes.Buffer
	for _, w := range []interface{ Write([]byte) (int, error) }{f, &buf} {
		l := logger(cfg, w)
		l.Info().Str("chain", "seoul-1").Int64("height", 7).Msg("block scanned")
		l.Error().Msg("something failed")
	}
	bz, _ := os.ReadFile(f.Name())
	for what, b := range map[string][]byte{"file": bz, "buffer": buf.Bytes()} {
		if !bytes.Contains(b, []byte("block scanned")) || bytes.Contains(b, []byte("\x1b[")) {
			t.Fatalf("console log to a %s: %q", what, b)
		}
	}
}

// TestOperatorTools, on one devnet with two transfer paths between seoul-1 and bucheon-1: `keys
// balance` shows the relayer's balance; `tx transfer` sends an ICS-20 transfer that `tx flush`
// delivers (the receiver holds the ibc/ voucher); `start BOGUS` fails naming the path; `start xfer`
// relays xfer's packets and not xfer2's; its console log, written to a file, has no colour codes.
func TestOperatorTools(t *testing.T) {
	begin := time.Now()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	home, h := devnetHome(t, net.Chains)
	out := mustCLI(t, "", append(h, "keys", "balance", "seoul-1")...)
	if !strings.Contains(out, seoul.Relayer.Address) || !strings.Contains(out, "\tucity\n") {
		t.Fatalf("keys balance seoul-1:\n%s", out)
	}
	if _, err := cli(t, "", append(h, "keys", "balance", "gwangju-1")...); err == nil || !strings.Contains(err.Error(), "gwangju-1") {
		t.Fatalf("keys balance of an unknown chain: %v", err)
	}

	// Heights printed are real ones: no "height 0" meaning "latest" or "none".
	noHeightZero := func(what, out string) {
		t.Helper()
		if strings.Contains(out, "height 0 ") || strings.Contains(out, "height=0") || strings.Contains(out, "header 0 ") {
			t.Fatalf("%s prints a height 0:\n%s", what, out)
		}
	}
	for _, name := range []string{"xfer", "xfer2"} {
		mustCLI(t, "", append(h, "paths", "new", name, "--src", "seoul-1", "--dst", "bucheon-1", "--src-port", "transfer", "--dst-port", "transfer", "--version", "ics20-1")...)
		out := mustCLI(t, "", append(h, "tx", "link", name, "--trust-latest")...)
		if strings.Count(out, " height ") != 10 {
			t.Fatalf("link %s:\n%s", name, out)
		}
		noHeightZero("tx link", out)
	}
	noHeightZero("tx update-clients", mustCLI(t, "", append(h, "tx", "update-clients", "xfer")...))
	noHeightZero("query clients", mustCLI(t, "", append(h, "query", "clients", "xfer")...))
	t.Logf("devnet up, two transfer paths linked in %s", time.Since(begin).Round(time.Millisecond))

	if _, err := cli(t, "", append(h, "start", "xfer", "bogus", "nowhere")...); err == nil || !strings.Contains(err.Error(), "bogus, nowhere") {
		t.Fatalf("start with unknown paths: %v", err)
	}
	if _, err := cli(t, "", append(h, "tx", "transfer", "seoul-1", "wego-1", "5ucity", "--path", "xfer")...); err == nil || !strings.Contains(err.Error(), "not seoul-1 and wego-1") {
		t.Fatalf("transfer to a chain the path does not join: %v", err)
	}

	// A transfer relayed by flush: the relayer's key on bucheon-1 (the default receiver) holds the voucher.
	out = mustCLI(t, "", append(h, "tx", "transfer", "seoul-1", "bucheon-1", "100ucity", "--path", "xfer", "--timeout", "5m")...)
	if !strings.Contains(out, "sequence 1 ") || !strings.Contains(out, "to "+bucheon.Relayer.Address+" on bucheon-1") {
		t.Fatalf("tx transfer:\n%s", out)
	}
	out = mustCLI(t, "", append(h, "tx", "flush", "xfer")...)
	if !strings.Contains(out, "seoul-1 -> bucheon-1: 1 packets pending, 1 received; 1 acknowledgements pending, 1 acknowledged") {
		t.Fatalf("flush:\n%s", out)
	}
	vouchers := func() map[string]string {
		t.Helper()
		out := mustCLI(t, "", append(h, "keys", "balance", "bucheon-1")...)
		got := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			if amount, denom, ok := strings.Cut(l, "\t"); ok && strings.HasPrefix(denom, "ibc/") {
				got[denom] = amount
			}
		}
		return got
	}
	v := vouchers()
	var xferDenom string
	for d, a := range v {
		xferDenom = d
		if len(v) != 1 || a != "100" {
			t.Fatalf("vouchers after flush: %v", v)
		}
	}

	// The daemon for xfer only, in-process, its console log to a file.
	editConfig(t, home, func(cfg *config.Config) {
		cfg.Global.LogFormat = "console"
		cfg.Metrics.Listen = "127.0.0.1:0"
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
	root.SetArgs(append(h, "start", "xfer"))
	root.SetOut(logFile)
	root.SetErr(logFile)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("daemon did not stop within 30s")
		}
	}()
	waitLog(t, logPath, "relayer started", 0)

	mustCLI(t, "", append(h, "tx", "transfer", "seoul-1", "bucheon-1", "7ucity", "--path", "xfer2")...)
	sentOut := mustCLI(t, "", append(h, "tx", "transfer", "seoul-1", "bucheon-1", "50ucity", "--path", "xfer")...)
	deadline := time.Now().Add(time.Minute)
	for vouchers()[xferDenom] != "150" {
		if time.Now().After(deadline) {
			bz, _ := os.ReadFile(logPath)
			t.Fatalf("the daemon did not relay the transfer on xfer within a minute: %v\n%s", vouchers(), bz)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// Both packets were sent before either could be relayed: a daemon for both would have delivered
	// xfer2's by now, give it the time of a few more blocks.
	time.Sleep(2 * time.Second)
	if v := vouchers(); len(v) != 1 {
		t.Fatalf("start xfer relayed another path: vouchers %v", v)
	}
	bz, _ := os.ReadFile(logPath)
	// The work queue's tools reach the daemon's embedded NATS (its URL is in the log): the relayed
	// transfer's lifecycle reads confirmed, and nothing was dead-lettered.
	natsURL := regexp.MustCompile(`embedded nats-server with jetstream.*url=(nats://127\.0\.0\.1:\d+)`).FindSubmatch(bz)
	sent := regexp.MustCompile(`packet transfer/(channel-\d+) sequence (\d+)`).FindStringSubmatch(sentOut)
	if natsURL == nil || sent == nil {
		t.Fatalf("no embedded NATS URL in the daemon's log or no sequence in the transfer's output:\n%s\n%s", bz, sentOut)
	}
	if out := mustCLI(t, "", append(h, "query", "dead-letters", "--nats", string(natsURL[1]))...); !strings.Contains(out, "0 dead letters") {
		t.Fatalf("query dead-letters: %s", out)
	}
	lifecycle := mustCLI(t, "", append(h, "query", "packet", "seoul-1/"+sent[1]+"/"+sent[2], "--nats", string(natsURL[1]))...)
	if !regexp.MustCompile(`(?m)^recv\s+confirmed\s+transfer tx [0-9A-F]+`).MatchString(lifecycle) {
		t.Fatalf("query packet seoul-1/%s/%s:\n%s", sent[1], sent[2], lifecycle)
	}
	if _, err := cli(t, "", append(h, "query", "packet", "seoul-1/"+sent[1]+"/999999", "--nats", string(natsURL[1]))...); err == nil || !strings.Contains(err.Error(), "no lifecycle") {
		t.Fatalf("query packet of a sequence never sent: %v", err)
	}
	if !bytes.Contains(bz, []byte("relayer started")) || !bytes.Contains(bz, []byte("paths=1")) || bytes.Contains(bz, []byte("\x1b[")) {
		t.Fatalf("daemon console log (want paths=1, no colour codes):\n%q", bz)
	}
	noHeightZero("the daemon's log", string(bz))
	t.Logf("done in %s", time.Since(begin).Round(time.Millisecond))
}

// devnetHome is a relayer home set up from the CLI as an operator does for a devnet: the config, each
// chain, and the devnet's relayer key on each. It returns the home and its --home flag.
func devnetHome(t *testing.T, chains []*devnet.Chain) (string, []string) {
	t.Helper()
	h := operatorHome(t, chains, testnet.HomeOptions{})
	return h.Dir, h.Flag
}

// editConfig changes the config under home with f and saves it.
func editConfig(t *testing.T, home string, f func(*config.Config)) {
	t.Helper()
	path := filepath.Join(home, "config.toml")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	f(cfg)
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
}
