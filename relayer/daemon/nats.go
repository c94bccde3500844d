package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// openQueue connects to NATS (the embedded server or the configured cluster) and sets up the work
// queue's streams and buckets with the replicas the server can hold; stop drains the connection (and
// stops an embedded server).
func openQueue(ctx context.Context, o Options) (*nats.Conn, jetstream.JetStream, func(), error) {
	nc, stop, err := connect(o)
	if err != nil {
		return nil, nil, nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	replicas, err := streamReplicas(ctx, o, nc, js)
	if err == nil {
		err = packets.Setup(ctx, js, replicas, o.Config.NATS.DuplicateWindow.Duration)
	}
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return nc, js, stop, nil
}

// connect starts the embedded server or dials the configured cluster.
func connect(o Options) (*nats.Conn, func(), error) {
	n := o.Config.NATS
	if n.Embedded {
		dir := n.EmbeddedStore(o.Home)
		srv, err := packets.StartEmbedded(dir, n.Listen)
		if err != nil {
			return nil, nil, err
		}
		nc, err := srv.Connect(nats.Name("cityrelay"))
		if err != nil {
			srv.Stop()
			return nil, nil, fmt.Errorf("connect to embedded nats: %w", err)
		}
		o.Log.Info().Str("url", srv.URL()).Str("store", dir).Msg("embedded nats-server with jetstream")
		return nc, func() { _ = nc.Drain(); srv.Stop() }, nil
	}
	opts, err := ClusterOptions(n, o.NATSPassword)
	if err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(n.URL, append(opts, nats.Name("cityrelay"), nats.MaxReconnects(-1))...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to nats %s: %w", n.URL, err)
	}
	return nc, func() { _ = nc.Drain() }, nil
}

// streamReplicas is how many copies of each stream and bucket to keep (packets.ResolveReplicas):
// nats.stream_replicas when the server can hold it (a config error naming the key and what the server
// holds when not), or with 0 what the existing streams have or the server supports; logged on one line.
func streamReplicas(ctx context.Context, o Options, nc *nats.Conn, js jetstream.JetStream) (int, error) {
	n := o.Config.NATS
	r, err := packets.ResolveReplicas(ctx, nc, js, n.StreamReplicas)
	if errors.Is(err, packets.ErrReplicasUnsupported) {
		return 0, &config.FieldError{File: filepath.Join(o.Home, "config.toml"), Key: "nats.stream_replicas", Err: err}
	}
	if err != nil {
		return 0, err
	}
	ev := o.Log.Info()
	if r.Capacity.Clustered() && r.Capacity.Servers == 0 {
		ev = o.Log.Warn().Str("hint", "no server of the cluster answered $SYS.REQ.ACCOUNT.PING.STATZ; set nats.stream_replicas")
	}
	ev.Str("cluster", r.Capacity.Cluster).Int("jetstream_servers", r.Capacity.Servers).Int("replicas", r.N).
		Int("stream_replicas", n.StreamReplicas).Str("from", r.From).Msg("nats stream replicas")
	return r.N, nil
}

// ClusterOptions are the client options of a NATS cluster connection: credentials and TLS from the
// config (password is the value of nats.password_env).
func ClusterOptions(n config.NATS, password string) ([]nats.Option, error) {
	var opts []nats.Option
	if n.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(n.CredsFile))
	}
	if n.NKeyFile != "" {
		opt, err := nats.NkeyOptionFromSeed(n.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey: %w", err)
		}
		opts = append(opts, opt)
	}
	if n.User != "" {
		opts = append(opts, nats.UserInfo(n.User, password))
	}
	if n.TLSCA != "" {
		opts = append(opts, nats.RootCAs(n.TLSCA))
	}
	if n.TLSCert != "" {
		opts = append(opts, nats.ClientCert(n.TLSCert, n.TLSKey))
	}
	return opts, nil
}
