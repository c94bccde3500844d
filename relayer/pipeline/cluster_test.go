package pipeline_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// TestClusterSharesWorkThroughALeaderLoss: three city chains, a three-node NATS cluster with R3 streams,
// two relayer instances with different but overlapping path sets (r1: Seoul–Bucheon and Seoul–Wego;
// r2: Seoul–Bucheon only). While packets flow on both paths, the work stream's leader node is killed.
// Every packet is received and acknowledged, none is received twice, and no work is dead-lettered.
func TestClusterSharesWorkThroughALeaderLoss(t *testing.T) {
	const perPath = 1500
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1", "wego-1")
	sb := pathOf(t, net, devnet.RelayerKey, "seoul-bucheon", "seoul-1", "bucheon-1", nil, nil)
	sw := pathOf(t, net, devnet.RelayerKey, "seoul-wego", "seoul-1", "wego-1", nil, nil)
	for _, p := range []*relayer.Path{sb, sw} {
		testnet.LinkPath(t, net, p)
	}
	// r2 names its copy of the shared path differently: work is routed by channel, not by name.
	sb2 := pathOf(t, net, devnet.Relayer2Key, "sb-ops-b", "seoul-1", "bucheon-1", nil, sb)

	cluster := testnet.Cluster(t)
	setupJS, _ := jetstream.New(cluster.Connect(t))
	if err := packets.Setup(ctx, setupJS, 3, time.Hour); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	recvBy := map[string]string{} // channel/seq -> instance
	var twice []string
	var failed []string
	run := func(name string, paths ...*relayer.Path) (context.CancelFunc, chan error) {
		js, _ := jetstream.New(cluster.Connect(t), jetstream.WithPublishAsyncTimeout(30*time.Second))
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- pipeline.Run(rctx, pipeline.Options{Paths: paths, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
				BatchMax: 50, BatchWait: 300 * time.Millisecond,
				Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Str("instance", name).Logger(),
				OnDelivered: func(d pipeline.Delivered) {
					if d.Kind != packets.KindRecv {
						return
					}
					mu.Lock()
					defer mu.Unlock()
					for _, s := range d.Sequences {
						k := fmt.Sprintf("%s/%d", d.To, s)
						if prev, ok := recvBy[k]; ok {
							twice = append(twice, fmt.Sprintf("%s by %s and %s", k, prev, name))
						}
						recvBy[k] = name
					}
				},
				OnFailed: func(path, kind, reason string, n int) {
					if reason == "dead" {
						mu.Lock()
						failed = append(failed, fmt.Sprintf("%s %s: %d dead", path, kind, n))
						mu.Unlock()
					}
				}})
		}()
		return cancel, done
	}
	stop1, done1 := run("r1", sb, sw)
	stop2, done2 := run("r2", sb2)

	seoul := net.Chain("seoul-1")
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	var issuerSeq uint64
	sent := map[string][]uint64{}
	start := time.Now()
	for round := range 6 {
		for _, p := range []*relayer.Path{sb, sw} {
			seqs, _ := attestations(t, seoul, admin, p.A.ChannelID, &issuerSeq, perPath/6)
			sent[p.A.ChannelID] = append(sent[p.A.ChannelID], seqs...)
		}
		if round == 2 {
			s, err := setupJS.Stream(ctx, packets.WorkStream)
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Info(ctx)
			if err != nil || info.Cluster == nil || cluster.Nodes[info.Cluster.Leader] == nil {
				t.Fatalf("work stream leader: %+v %v", info, err)
			}
			t.Logf("killing the work stream's leader %s after %d packets", info.Cluster.Leader, len(sent[sb.A.ChannelID])+len(sent[sw.A.ChannelID]))
			cluster.Nodes[info.Cluster.Leader].Shutdown()
		}
	}

	deadline := time.Now().Add(4 * time.Minute)
	for channel, seqs := range sent {
		for _, s := range seqs {
			for {
				var resp didtypes.QueryDeliveryResponse
				err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: channel, Sequence: s}, &resp, 0)
				if err == nil && resp.Delivery.State == didtypes.DELIVERY_STATE_DELIVERED {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s/%d not delivered and acknowledged through the leader loss (state %v, err %v)", channel, s, resp.Delivery.State, err)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	elapsed := time.Since(start)
	stop1()
	stop2()
	if err := <-done1; err != nil {
		t.Errorf("r1 stopped with %v", err)
	}
	if err := <-done2; err != nil {
		t.Errorf("r2 stopped with %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(twice) > 0 {
		t.Errorf("received twice: %v", twice)
	}
	if len(failed) > 0 {
		t.Errorf("honest work dead-lettered: %v", failed)
	}
	by := map[string]int{}
	for _, who := range recvBy {
		by[who]++
	}
	t.Logf("%d packets on 2 paths delivered and acknowledged in %s through a leader loss; recv txs' packets by instance: %v", 2*perPath, elapsed.Round(time.Millisecond), by)
	if by["r2"] == 0 {
		t.Error("r2 delivered nothing: the shared path's work was not shared")
	}
}
