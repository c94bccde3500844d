package testnet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/packets"
)

// NATS starts an embedded nats-server with JetStream for the test (store in a test directory, a free
// loopback port) and returns a connection to it; both end with the test.
func NATS(tb testing.TB) *nats.Conn {
	tb.Helper()
	srv, err := packets.StartEmbedded(tb.TempDir(), "127.0.0.1:-1")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Stop)
	nc, err := srv.Connect()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// JetStream is NATS with the relayer's streams and buckets set up (JetStreamOn).
func JetStream(tb testing.TB, window time.Duration) jetstream.JetStream {
	tb.Helper()
	return JetStreamOn(tb, NATS(tb), window)
}

// JetStreamOn sets the relayer's streams and buckets up on nc's server (one replica, de-duplication
// window window) and returns its JetStream.
func JetStreamOn(tb testing.TB, nc *nats.Conn, window time.Duration) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	if err := packets.Setup(context.Background(), js, 1, window); err != nil {
		tb.Fatal(err)
	}
	return js
}

// NATSCluster is three nats-server nodes in this process, JetStream clustered over loopback routes.
type NATSCluster struct{ *packets.Cluster }

// Cluster starts a three-node NATS cluster for the test and returns once JetStream answers (the cluster
// has elected its meta leader).
func Cluster(tb testing.TB) *NATSCluster {
	tb.Helper()
	pc, err := packets.StartCluster(tb.TempDir(), 3)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pc.Stop)
	c := &NATSCluster{pc}
	js, _ := jetstream.New(c.Connect(tb))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := js.AccountInfo(context.Background()); err == nil {
			break
		} else if time.Now().After(deadline) {
			tb.Fatalf("jetstream cluster not ready: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return c
}

// Connect connects to the cluster (any node, reconnecting forever) for the test.
func (c *NATSCluster) Connect(tb testing.TB) *nats.Conn {
	tb.Helper()
	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// URL is the cluster's client URLs, comma-separated (a NATS URL list).
func (c *NATSCluster) URL() string { return strings.Join(c.URLs, ",") }
