package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/types/query"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// startNATSServer runs a plain `nats-server -js` (no cluster) as a child process, built from the
// nats-server module in go.mod, on a free loopback port with its store in a temporary directory. It
// returns the client URL once the server takes clients; the server is stopped (SIGTERM, then waited
// for) when the test ends.
func startNATSServer(t *testing.T) string {
	t.Helper()
	bin := testnet.Build(t, "github.com/nats-io/nats-server/v2")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	logPath := filepath.Join(t.TempDir(), "nats-server.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", t.TempDir())
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		f.Close()
	})
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
			return url
		}
		if time.Now().After(deadline) {
			bz, _ := os.ReadFile(logPath)
			t.Fatalf("nats-server at %s not ready: %v\n%s", url, err, bz)
		}
	}
}

// linkedHome is a relayer home set up from the CLI with the devnet's relayer key (mnemonic picks
// which) on every chain of net; with link, the did path seoul-bucheon-1 between seoul-1 and bucheon-1
// is linked (clients, connection, both city registries, channel).
func linkedHome(t *testing.T, net *devnet.Devnet, mnemonic func(*devnet.Chain) string, link bool) (string, []string) {
	t.Helper()
	h := operatorHome(t, net.Chains, testnet.HomeOptions{Mnemonic: mnemonic})
	if link {
		h.Must("", "paths", "new", "seoul-bucheon-1", "--src", "seoul-1", "--dst", "bucheon-1")
		h.LinkCities(net, "seoul-bucheon-1")
	}
	return h.Dir, h.Flag
}

// unacked counts the packets chain c sent on channel that are not acknowledged yet.
func unacked(t *testing.T, cl *cosmos.Client, channel string) int {
	t.Helper()
	var resp channeltypes.QueryPacketCommitmentsResponse
	if err := cl.QueryGRPC(context.Background(), "/ibc.core.channel.v1.Query/PacketCommitments", &channeltypes.QueryPacketCommitmentsRequest{
		PortId: didtypes.PortID, ChannelId: channel, Pagination: &query.PageRequest{Limit: 5000}}, &resp, 0); err != nil {
		return -1
	}
	return len(resp.Commitments)
}

// waitAcked waits until every packet seoul-1 sent on channel is acknowledged (its commitment deleted).
func waitAcked(t *testing.T, cl *cosmos.Client, channel string, within time.Duration, logs ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := unacked(t, cl, channel)
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d packets unacknowledged after %s; logs in %v", n, within, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// metricSums reads the daemon's /metrics and sums each family's samples whose labels contain every
// pair given for it (label="value"): name -> sum.
func metricSums(t *testing.T, addr string, want map[string][]string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(httpGet(t, "http://"+addr+"/metrics")))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for name, pairs := range want {
			if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
				continue
			}
			ok := true
			for _, p := range pairs {
				ok = ok && strings.Contains(line, p)
			}
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if ok && err == nil {
				out[name] += v
			}
		}
	}
	return out
}

// TestTwoRelayersOnOnePlainNATSServer: two `cityrelay start` processes, each with its own key, against
// one plain `nats-server -js` (no cluster) with the default nats.stream_replicas (0). Both start (the
// streams get 1 replica: what the server supports, logged; the second finds them so) and share the work: every packet sent on
// the path is received once on chain and acknowledged. Before that, an explicit stream_replicas = 3
// stops `cityrelay start` with a config error naming the key and what the server holds.
func TestTwoRelayersOnOnePlainNATSServer(t *testing.T) {
	const packetsSent = 40
	ctx := context.Background()
	bin := testnet.Build(t, ".")
	natsURL := startNATSServer(t)
	net := testnet.Chains(t, "seoul-1", "bucheon-1")

	home1, _ := linkedHome(t, net, func(c *devnet.Chain) string { return c.Relayer.Mnemonic }, true)
	cfg1, err := config.Load(filepath.Join(home1, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	ids := cfg1.Paths["seoul-bucheon-1"]
	home2, h2 := linkedHome(t, net, func(c *devnet.Chain) string { return c.Relayer2.Mnemonic }, false)
	mustCLI(t, "", append(h2, "paths", "new", "sb-ops-b", "--src", "seoul-1", "--dst", "bucheon-1")...)
	external := func(replicas int) func(*config.Config) {
		return func(c *config.Config) {
			c.Global.LogFormat, c.Metrics.Listen = "json", "127.0.0.1:0"
			c.NATS.Embedded, c.NATS.URL, c.NATS.StreamReplicas = false, natsURL, replicas
		}
	}
	editConfig(t, home1, external(0))
	editConfig(t, home2, func(c *config.Config) {
		external(3)(c)
		c.Paths["sb-ops-b"].Src, c.Paths["sb-ops-b"].Dst = ids.Src, ids.Dst
	})

	// An explicit value the server cannot hold: a config error at start naming the key.
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	out, err := exec.CommandContext(sctx, bin, "start", "--home", home2, "--trust-latest").CombinedOutput()
	cancel()
	if err == nil || !strings.Contains(string(out), "config.toml: nats.stream_replicas: ") || !strings.Contains(string(out), "3 replicas asked") ||
		!strings.Contains(string(out), "without a cluster: it holds 1") {
		t.Fatalf("start with stream_replicas = 3 on a single server: %v; want a config error naming nats.stream_replicas and what the server holds:\n%s", err, out)
	}
	t.Logf("stream_replicas = 3: %s", lastLine(string(out)))
	editConfig(t, home2, func(c *config.Config) { c.NATS.StreamReplicas = 0 })

	log1, log2 := filepath.Join(home1, "daemon.log"), filepath.Join(home2, "daemon.log")
	d1 := startDaemon(t, bin, home1, log1)
	waitLog(t, log1, "relayer started", 0)
	d2 := startDaemon(t, bin, home2, log2, "--trust-latest")
	waitLog(t, log2, "relayer started", 0)
	// r1 made the streams with what the server supports; r2 found them.
	for l, from := range map[string]string{log1: "what the server supports", log2: "existing streams"} {
		line := lastLine(grepFile(t, l, `"nats stream replicas"`))
		if !strings.Contains(line, `"replicas":1`) || !strings.Contains(line, `"from":"`+from+`"`) || !strings.Contains(line, `"jetstream_servers":1`) {
			t.Fatalf("%s: the replicas chosen are not logged as 1 from %s: %q", l, from, line)
		}
	}

	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	var issuerSeq uint64
	start := time.Now()
	for range 2 {
		if _, _, err := seoul.SendAttestations(ctx, admin, ids.Src.ChannelID, &issuerSeq, packetsSent/2); err != nil {
			t.Fatal(err)
		}
	}
	waitAcked(t, admin, ids.Src.ChannelID, 2*time.Minute, log1, log2)
	elapsed := time.Since(start)

	// Both daemons still run: each answers on its metrics address (and exits cleanly below).
	relayed := func(log string) float64 {
		addr := lastField(t, log, "metrics, health and verification on http", "addr")
		return metricSums(t, addr, map[string][]string{"cityrelay_packets_relayed_total": nil})["cityrelay_packets_relayed_total"]
	}
	r1, r2 := relayed(log1), relayed(log2)
	for _, d := range []*daemonProc{d1, d2} {
		if err := d.signal(t, syscall.SIGTERM); err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v", err)
		}
	}
	enc, _ := cosmos.NewEncoding(citychain.AccountAddressPrefix, didtypes.RegisterInterfaces)
	counts := recvCounts(t, net.Chain("bucheon-1"), enc)
	for key, c := range counts {
		if c != 1 {
			t.Errorf("MsgRecvPacket %s committed %d times", key, c)
		}
	}
	if len(counts) != packetsSent {
		t.Fatalf("%d packets received on bucheon-1, %d sent", len(counts), packetsSent)
	}
	t.Logf("%d packets received once each and acknowledged in %s through one plain nats-server (R1 streams); packets and acks relayed: r1 %.0f, r2 %.0f",
		packetsSent, elapsed.Round(time.Millisecond), r1, r2)
}

// TestBurstFailsNoBatch: 1,000 packets sent in a burst on one path with the default config
// (in_flight 3, so up to three relay txs for a chain are built while the one before waits for its
// block). Each in-flight batch is valid on its own (its client update is built from the destination's
// committed state), so none fails: the count the console's path card shows as failed stays 0, while
// retries, if any, are counted apart; every packet is received once and acknowledged.
func TestBurstFailsNoBatch(t *testing.T) {
	const burst = 1000
	ctx := context.Background()
	bin := testnet.Build(t, ".")
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	home, _ := linkedHome(t, net, func(c *devnet.Chain) string { return c.Relayer.Mnemonic }, true)
	editConfig(t, home, func(c *config.Config) { c.Global.LogFormat, c.Metrics.Listen = "json", "127.0.0.1:0" })
	cfg, err := config.Load(filepath.Join(home, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Relay.InFlight != 3 {
		t.Fatalf("default in_flight is %d, the test is about 3", cfg.Relay.InFlight)
	}
	channel := cfg.Paths["seoul-bucheon-1"].Src.ChannelID
	logPath := filepath.Join(home, "daemon.log")
	d := startDaemon(t, bin, home, logPath)
	waitLog(t, logPath, "relayer started", 0)
	addr := lastField(t, logPath, "metrics, health and verification on http", "addr")

	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	var issuerSeq uint64
	start := time.Now()
	if _, _, err := seoul.SendAttestations(ctx, admin, channel, &issuerSeq, burst); err != nil {
		t.Fatal(err)
	}
	sent := time.Since(start)
	waitAcked(t, admin, channel, 4*time.Minute, logPath)
	elapsed := time.Since(start)

	// What the console's path card shows: failed and retried, since the start and over the last hour.
	var overview struct {
		Paths []struct {
			Name     string  `json:"name"`
			Relayed  float64 `json:"relayed"`
			Failed   float64 `json:"failed"`
			Retried  float64 `json:"retried"`
			LastHour struct {
				Relayed float64 `json:"relayed"`
				Failed  float64 `json:"failed"`
				Retried float64 `json:"retried"`
			} `json:"last_hour"`
		} `json:"paths"`
	}
	// The relayed counter is bumped after the commit the test saw: wait for it to catch up.
	card := -1
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if err := json.Unmarshal([]byte(httpGet(t, "http://"+addr+"/console/api/overview")), &overview); err != nil {
			t.Fatalf("console overview: %v", err)
		}
		for i, p := range overview.Paths {
			if p.Name == "seoul-bucheon-1" {
				card = i
			}
		}
		if card < 0 {
			t.Fatalf("console overview has no card for seoul-bucheon-1: %+v", overview)
		}
		if overview.Paths[card].Relayed >= 2*burst || time.Now().After(deadline) {
			break
		}
	}
	p := overview.Paths[card]
	m := metricSums(t, addr, map[string][]string{
		"cityrelay_tx_submitted_total":    nil,
		"cityrelay_tx_failed_total":       nil,
		"cityrelay_packets_failed_total":  nil,
		"cityrelay_packets_retried_total": nil,
		"cityrelay_client_updates_total":  nil,
	})
	if err := d.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("daemon exit after SIGTERM: %v", err)
	}
	t.Logf("burst of %d packets: sent in %s, received and acknowledged in %s; %.0f relay txs committed (batches), %.0f client updates in them, %.0f delivery txs failed and retried (tx_failed_total), %.0f items retried, %.0f failed; console card: relayed %.0f, failed %.0f (last hour %.0f), retried %.0f (last hour %.0f)",
		burst, sent.Round(time.Millisecond), elapsed.Round(time.Millisecond), m["cityrelay_tx_submitted_total"], m["cityrelay_client_updates_total"],
		m["cityrelay_tx_failed_total"], m["cityrelay_packets_retried_total"], m["cityrelay_packets_failed_total"],
		p.Relayed, p.Failed, p.LastHour.Failed, p.Retried, p.LastHour.Retried)
	if p.Failed != 0 || p.LastHour.Failed != 0 || m["cityrelay_packets_failed_total"] != 0 {
		t.Errorf("the console's path card shows %.0f failed (%.0f in the last hour; cityrelay_packets_failed_total %.0f): a burst must fail no batch; log in %s\n%s",
			p.Failed, p.LastHour.Failed, m["cityrelay_packets_failed_total"], logPath, grepFile(t, logPath, `"level":"warn"`))
	}
	// The failure the burst used to meet: a batch built on a client state the node had committed but
	// no verified header proved yet ("client ... has no consensus state at ..."), handed back.
	if lines := grepFile(t, logPath, "has no consensus state"); lines != "" {
		t.Errorf("a batch was built on a client state not committed under a verified header:\n%s", lines)
	}
	if p.Retried != m["cityrelay_packets_retried_total"] {
		t.Errorf("the console shows %.0f retried, the metric says %.0f", p.Retried, m["cityrelay_packets_retried_total"])
	}
	if p.Relayed != 2*burst {
		t.Errorf("the console shows %.0f relayed, want %d packets and %d acknowledgements", p.Relayed, burst, burst)
	}
	enc, _ := cosmos.NewEncoding(citychain.AccountAddressPrefix, didtypes.RegisterInterfaces)
	counts := recvCounts(t, net.Chain("bucheon-1"), enc)
	for key, c := range counts {
		if c != 1 {
			t.Errorf("MsgRecvPacket %s committed %d times", key, c)
		}
	}
	if len(counts) != burst {
		t.Errorf("%d packets received on bucheon-1, %d sent", len(counts), burst)
	}
}

// grepFile returns the lines of path containing s.
func grepFile(t *testing.T, path, s string) string {
	t.Helper()
	bz, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(bz), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
