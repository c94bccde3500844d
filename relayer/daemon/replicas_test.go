package daemon

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// An explicit nats.stream_replicas the server cannot hold stops the start with a config error naming
// the key and what the server holds; 0 takes what it holds, logged on one line with its fields.
func TestStreamReplicasAgainstASingleServer(t *testing.T) {
	nc := testnet.NATS(t)
	cfg := config.Default()
	cfg.NATS.Embedded, cfg.NATS.URL = false, nc.ConnectedUrl()

	cfg.NATS.StreamReplicas = 3
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = streamReplicas(t.Context(), Options{Home: "/home/op/.cityrelay", Config: cfg, Log: zerolog.Nop()}, nc, js)
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Key != "nats.stream_replicas" || !errors.Is(err, packets.ErrReplicasUnsupported) ||
		!strings.Contains(err.Error(), "/home/op/.cityrelay/config.toml: nats.stream_replicas: ") || !strings.Contains(err.Error(), "it holds 1") {
		t.Fatalf("stream_replicas = 3 on a single server: %v; want a config error naming nats.stream_replicas and what the server holds", err)
	}

	cfg.NATS.StreamReplicas = 0
	var log bytes.Buffer
	r, err := streamReplicas(t.Context(), Options{Config: cfg, Log: zerolog.New(&log)}, nc, js)
	if err != nil || r != 1 {
		t.Fatalf("stream_replicas = 0 on a single server: %d, %v; want 1", r, err)
	}
	if line := log.String(); strings.Count(line, "\n") != 1 || !strings.Contains(line, `"replicas":1`) || !strings.Contains(line, `"jetstream_servers":1`) ||
		!strings.Contains(line, `"from":"what the server supports"`) || !strings.Contains(line, `"message":"nats stream replicas"`) {
		t.Fatalf("log of the choice: %s", line)
	}
}
