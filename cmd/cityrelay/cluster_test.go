package main

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/types/query"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go/jetstream"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestRelayersShareAClusterThroughKills: two `cityrelay start` processes, each with its own key and home,
// on a three-node NATS cluster (R3 streams) and three city chains; r1 serves Seoul–Bucheon and
// Seoul–Wego, r2 Seoul–Bucheon only, under another name. During 3,000 packets the work stream's leader
// node is killed, then r2 is SIGKILLed and restarted. Every packet is received exactly once on chain
// (MsgRecvPacket counted in every block) and acknowledged.
func TestRelayersShareAClusterThroughKills(t *testing.T) {
	const perPath = 1500
	ctx := context.Background()
	bin := testnet.Build(t, ".")
	net := testnet.Chains(t, "seoul-1", "bucheon-1", "wego-1")
	cluster := testnet.Cluster(t)
	nc := cluster.Connect(t)
	js, _ := jetstream.New(nc)

	// A relayer's home: its own key (the devnet's relayer or relayer-2), the cluster, JSON logs.
	newHome := func(mnemonic func(*devnet.Chain) string) *testnet.Home {
		return operatorHome(t, net.Chains, testnet.HomeOptions{Mnemonic: mnemonic})
	}
	edit := func(home string, f func(*config.Config)) *config.Config {
		cfg, err := config.Load(filepath.Join(home, "config.toml"))
		if err != nil {
			t.Fatal(err)
		}
		f(cfg)
		cfg.Global.LogFormat, cfg.Metrics.Listen = "json", "127.0.0.1:0"
		cfg.NATS.Embedded, cfg.NATS.URL, cfg.NATS.StreamReplicas = false, strings.Join(cluster.URLs, ","), 3
		if err := cfg.Save(filepath.Join(home, "config.toml")); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	oh1 := newHome(func(c *devnet.Chain) string { return c.Relayer.Mnemonic })
	home1 := oh1.Dir
	for _, other := range []string{"bucheon-1", "wego-1"} {
		oh1.Must("", "paths", "new", "seoul-"+other, "--src", "seoul-1", "--dst", other)
		oh1.LinkCities(net, "seoul-"+other)
	}
	cfg1 := edit(home1, func(*config.Config) {})
	oh2 := newHome(func(c *devnet.Chain) string { return c.Relayer2.Mnemonic })
	home2, h2 := oh2.Dir, oh2.Flag
	mustCLI(t, "", append(h2, "paths", "new", "sb-ops-b", "--src", "seoul-1", "--dst", "bucheon-1")...)
	edit(home2, func(c *config.Config) {
		ids := cfg1.Paths["seoul-bucheon-1"]
		c.Paths["sb-ops-b"].Src, c.Paths["sb-ops-b"].Dst = ids.Src, ids.Dst
	})

	log1, log2 := filepath.Join(home1, "daemon.log"), filepath.Join(home2, "daemon.log")
	d1 := startDaemon(t, bin, home1, log1)
	d2 := startDaemon(t, bin, home2, log2, "--trust-latest")
	waitLog(t, log1, "relayer started", 0)
	waitLog(t, log2, "relayer started", 0)

	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	channels := []string{cfg1.Paths["seoul-bucheon-1"].Src.ChannelID, cfg1.Paths["seoul-wego-1"].Src.ChannelID}
	pending := func() int {
		n := 0
		for _, ch := range channels {
			var resp channeltypes.QueryPacketCommitmentsResponse
			if err := admin.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketCommitments", &channeltypes.QueryPacketCommitmentsRequest{
				PortId: "did", ChannelId: ch, Pagination: &query.PageRequest{Limit: 5000}}, &resp, 0); err != nil {
				return -1
			}
			n += len(resp.Commitments)
		}
		return n
	}
	// Progress: packets acknowledged so far, sampled every 100 ms.
	var sent atomic.Int64
	type sample struct {
		at    time.Time
		acked int64
	}
	var mu sync.Mutex
	var samples []sample
	stopSampling := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Millisecond):
			}
			s := sent.Load()
			if p := pending(); p >= 0 {
				mu.Lock()
				samples = append(samples, sample{time.Now(), s - int64(p)})
				mu.Unlock()
			}
		}
	}()
	lostAfter := func(at time.Time) time.Duration { // until the next acknowledgement after at
		mu.Lock()
		defer mu.Unlock()
		var base int64 = -1
		for _, s := range samples {
			if s.at.Before(at) {
				base = s.acked
				continue
			}
			if s.acked > base {
				return s.at.Sub(at)
			}
		}
		return -1
	}

	var issuerSeq uint64
	start := time.Now()
	var leaderKill, relayerKill time.Time
	var hwm2 int64
	for round := range 6 {
		for _, ch := range channels {
			seqs, _, err := seoul.SendAttestations(ctx, admin, ch, &issuerSeq, perPath/6)
			if err != nil {
				t.Fatal(err)
			}
			sent.Add(int64(len(seqs)))
		}
		switch round {
		case 1:
			s, err := js.Stream(ctx, packets.WorkStream)
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Info(ctx)
			if err != nil || info.Cluster == nil || cluster.Nodes[info.Cluster.Leader] == nil {
				t.Fatalf("work stream leader: %v", err)
			}
			t.Logf("killing NATS node %s, the work stream's leader, at %d packets sent", info.Cluster.Leader, sent.Load())
			leaderKill = time.Now()
			cluster.Nodes[info.Cluster.Leader].Shutdown()
		case 3:
			hwm2 = procHWM(d2.cmd.Process.Pid)
			t.Logf("SIGKILL of r2 at %d packets sent (%d unacknowledged)", sent.Load(), pending())
			relayerKill = time.Now()
			_ = d2.signal(t, syscall.SIGKILL)
			d2 = startDaemon(t, bin, home2, log2)
			waitLog(t, log2, "relayer started", 1)
		}
	}
	deadline := time.Now().Add(4 * time.Minute)
	for pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d packets unacknowledged 4 minutes after the last send; logs in %s and %s", pending(), log1, log2)
		}
		time.Sleep(200 * time.Millisecond)
	}
	elapsed := time.Since(start)
	close(stopSampling)
	hwm1 := procHWM(d1.cmd.Process.Pid)
	hwm2 = max(hwm2, procHWM(d2.cmd.Process.Pid))
	_ = d1.signal(t, syscall.SIGTERM)
	_ = d2.signal(t, syscall.SIGTERM)

	enc, _ := cosmos.NewEncoding(citychain.AccountAddressPrefix, didtypes.RegisterInterfaces)
	for _, dest := range []string{"bucheon-1", "wego-1"} {
		counts := recvCounts(t, net.Chain(dest), enc)
		twice := 0
		for key, c := range counts {
			if c != 1 {
				twice++
				t.Errorf("%s: MsgRecvPacket %s committed %d times", dest, key, c)
			}
		}
		if len(counts) != perPath {
			t.Errorf("%s: %d packets received, %d sent", dest, len(counts), perPath)
		}
		t.Logf("%s: %d packets received once each, %d received twice", dest, len(counts), twice)
	}
	t.Logf("%d packets sent, received and acknowledged in %s; time to the next acknowledgement after the NATS leader kill %s, after the relayer SIGKILL %s; peak RSS r1 %d MB, r2 %d MB",
		sent.Load(), elapsed.Round(time.Millisecond), lostAfter(leaderKill).Round(time.Millisecond), lostAfter(relayerKill).Round(time.Millisecond),
		hwm1/1024, hwm2/1024)
}
