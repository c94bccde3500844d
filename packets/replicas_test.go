package packets_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/packets"
)

func TestChooseReplicas(t *testing.T) {
	single, three, five, two := packets.Capacity{Servers: 1}, packets.Capacity{Cluster: "c", Servers: 3},
		packets.Capacity{Cluster: "c", Servers: 5}, packets.Capacity{Cluster: "c", Servers: 2}
	unknown := packets.Capacity{Cluster: "c"}
	for _, c := range []struct {
		name       string
		configured int
		capacity   packets.Capacity
		want       int
		refused    string // in the error, when refused
	}{
		{"default on a single server", 0, single, 1, ""},
		{"default on a cluster of 3", 0, three, 3, ""},
		{"default on a cluster of 5", 0, five, 3, ""},
		{"default on a cluster of 2", 0, two, 2, ""},
		{"default on a cluster of unknown size", 0, unknown, 3, ""},
		{"1 on a single server", 1, single, 1, ""},
		{"3 on a single server", 3, single, 0, "without a cluster: it holds 1"},
		{"5 on a cluster of 5", 5, five, 5, ""},
		{"5 on a cluster of 3", 5, three, 0, "3 JetStream servers of NATS cluster c answered: it holds at most 3"},
		{"3 on a cluster of unknown size", 3, unknown, 3, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := packets.ChooseReplicas(c.configured, c.capacity)
			if c.refused != "" {
				if !errors.Is(err, packets.ErrReplicasUnsupported) || !strings.Contains(err.Error(), c.refused) {
					t.Fatalf("ChooseReplicas(%d) = %d, %v; want ErrReplicasUnsupported saying %q", c.configured, got, err, c.refused)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ChooseReplicas(%d) = %d, %v; want %d", c.configured, got, err, c.want)
			}
		})
	}
}

// ProbeCapacity asks real servers: a server without a cluster holds 1 copy (and NATS itself refuses
// more: the error operators met with the old default of 3), a cluster of 3 holds 3, and the streams
// made with the chosen replicas are created.
func TestProbeCapacity(t *testing.T) {
	ctx := context.Background()
	nc := testnet.NATS(t)
	got, err := packets.ProbeCapacity(nc)
	if err != nil || got.Clustered() || got.Servers != 1 {
		t.Fatalf("single server: %+v, %v; want no cluster, 1 server", got, err)
	}
	js, _ := jetstream.New(nc)
	if err := packets.Setup(ctx, js, 3, time.Hour); err == nil || !strings.Contains(err.Error(), "replicas > 1 not supported in non-clustered mode") {
		t.Fatalf("3 replicas on a single server: %v; want NATS's refusal", err)
	}
	if _, err := packets.ResolveReplicas(ctx, nc, js, 3); !errors.Is(err, packets.ErrReplicasUnsupported) {
		t.Fatalf("resolve 3 replicas on a single server: %v; want ErrReplicasUnsupported", err)
	}
	r, err := packets.ResolveReplicas(ctx, nc, js, 0)
	if err != nil || r.N != 1 || r.From != "what the server supports" || packets.Setup(ctx, js, r.N, time.Hour) != nil {
		t.Fatalf("default replicas on a single server: %+v, %v", r, err)
	}

	cluster := testnet.Cluster(t) // JetStream answers: the meta leader is elected
	cc, err := nats.Connect(cluster.URLs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	cjs, _ := jetstream.New(cc)
	got, err = packets.ProbeCapacity(cc)
	if err != nil || got.Cluster != "cityrelay" || got.Servers != 3 {
		t.Fatalf("cluster of 3: %+v, %v; want cluster cityrelay, 3 servers", got, err)
	}
	if _, err := packets.ResolveReplicas(ctx, cc, cjs, 5); !errors.Is(err, packets.ErrReplicasUnsupported) {
		t.Fatalf("resolve 5 replicas on a cluster of 3: %v; want ErrReplicasUnsupported", err)
	}
	r, err = packets.ResolveReplicas(ctx, cc, cjs, 0)
	if err != nil || r.N != 3 || r.From != "what the server supports" {
		t.Fatalf("default replicas on a cluster of 3: %+v, %v", r, err)
	}
	if err := packets.Setup(ctx, cjs, r.N, time.Hour); err != nil {
		t.Fatalf("setup with 3 replicas on a cluster of 3: %v", err)
	}
	s, err := cjs.Stream(ctx, packets.WorkStream)
	if err != nil || s.CachedInfo().Config.Replicas != 3 {
		t.Fatalf("work stream: %v", err)
	}

	// A server down: 2 answer, but the streams made with 3 copies keep them (a relayer restarted
	// while a server is down starts), by default or configured.
	cluster.Nodes["n3"].Shutdown()
	if got, err := packets.ProbeCapacity(cc); err != nil || got.Servers != 2 {
		t.Fatalf("cluster with a server down: %+v, %v; want 2 servers answering", got, err)
	}
	for _, configured := range []int{0, 3} {
		r, err := packets.ResolveReplicas(ctx, cc, cjs, configured)
		if err != nil || r.N != 3 || packets.Setup(ctx, cjs, r.N, time.Hour) != nil {
			t.Fatalf("stream_replicas %d with a server down and R3 streams: %+v, %v; want 3", configured, r, err)
		}
	}
}
