package packets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrReplicasUnsupported is returned for a replica count the NATS deployment cannot hold: more than
// one copy on a server without a JetStream cluster, or more copies than the cluster has servers.
var ErrReplicasUnsupported = errors.New("more stream replicas than the NATS server can hold")

// Capacity is what the NATS deployment a client is connected to can hold: whether its JetStream is
// clustered, and how many JetStream servers of that cluster answered.
type Capacity struct {
	// Cluster is the name of the connected server's cluster ("" on a server without a cluster).
	Cluster string
	// Servers counts the JetStream servers of that cluster that answered (1 without a cluster; 0
	// when the cluster's size could not be learned).
	Servers int
}

// Clustered reports whether the connected server is part of a cluster.
func (c Capacity) Clustered() bool { return c.Cluster != "" }

// maxAutoReplicas is the copies chosen on a cluster when nats.stream_replicas is 0: a majority of 3
// survives one server lost; more copies cost writes for little.
const maxAutoReplicas = 3

// statzWait bounds how long ProbeCapacity collects the servers' answers; statzQuiet ends it once no
// answer came for that long after the last one (servers of a cluster answer within milliseconds of
// each other; the margin is for a loaded host, where a late answer would make the cluster look
// smaller than it is).
const (
	statzWait  = 3 * time.Second
	statzQuiet = time.Second
)

// ProbeCapacity asks the NATS deployment behind nc what it can hold. The connected server's INFO
// says whether it is in a cluster; on a cluster every server is asked for its statistics through the
// account's own system service ($SYS.REQ.ACCOUNT.PING.STATZ, imported into every account, no
// system-account credentials needed), and those of the same cluster with JetStream are counted.
// Servers that are down at the time do not answer and are not counted.
func ProbeCapacity(nc *nats.Conn) (Capacity, error) {
	c := Capacity{Cluster: nc.ConnectedClusterName()}
	if !c.Clustered() {
		c.Servers = 1
		return c, nil
	}
	inbox := nc.NewRespInbox()
	answers := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, answers)
	if err != nil {
		return c, fmt.Errorf("ask the nats cluster %s for its servers: %w", c.Cluster, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest("$SYS.REQ.ACCOUNT.PING.STATZ", inbox, []byte(`{"include_unused":true}`)); err != nil {
		return c, fmt.Errorf("ask the nats cluster %s for its servers: %w", c.Cluster, err)
	}
	servers := map[string]bool{}
	deadline := time.After(statzWait)
	var quiet <-chan time.Time
	for {
		select {
		case m := <-answers:
			var r struct {
				Server struct {
					ID        string `json:"id"`
					Cluster   string `json:"cluster"`
					JetStream bool   `json:"jetstream"`
				} `json:"server"`
			}
			if json.Unmarshal(m.Data, &r) == nil && r.Server.ID != "" && r.Server.Cluster == c.Cluster && r.Server.JetStream {
				servers[r.Server.ID] = true
			}
			quiet = time.After(statzQuiet)
		case <-quiet:
			c.Servers = len(servers)
			return c, nil
		case <-deadline:
			c.Servers = len(servers)
			return c, nil
		}
	}
}

// Replicas is the copies chosen for the streams and buckets, and why.
type Replicas struct {
	N int
	// From says where N comes from: "nats.stream_replicas", "existing streams" or "what the server
	// supports".
	From     string
	Capacity Capacity
}

// ResolveReplicas decides the copies of each stream and bucket for nats.stream_replicas = configured
// against the deployment behind nc (ProbeCapacity). With 0, streams that exist keep the copies they
// were made with (a cluster with a server down answers with fewer servers than it has: the streams
// are not to be judged by that), and new ones get what the deployment holds (ChooseReplicas). An
// explicit value is refused (ErrReplicasUnsupported) on a server without a cluster when above 1, and
// on a cluster when above the servers that answered and the streams do not exist yet; existing streams
// are checked against it by Setup.
func ResolveReplicas(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, configured int) (Replicas, error) {
	capacity, err := ProbeCapacity(nc)
	if err != nil {
		return Replicas{}, err
	}
	r := Replicas{Capacity: capacity, N: configured, From: "nats.stream_replicas"}
	existing := 0
	err = retryUnavailable(ctx, setupPatience, func() error {
		s, err := js.Stream(ctx, WorkStream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("stream %s: %w", WorkStream, err)
		}
		existing = s.CachedInfo().Config.Replicas
		return nil
	})
	if err != nil {
		return r, err
	}
	switch {
	case configured > 1 && !capacity.Clustered():
		_, err := ChooseReplicas(configured, capacity)
		return r, err
	case configured > 0 && existing == 0:
		_, err := ChooseReplicas(configured, capacity)
		return r, err
	case configured > 0:
		return r, nil
	case existing > 0:
		r.N, r.From = existing, "existing streams"
		return r, nil
	}
	r.N, err = ChooseReplicas(0, capacity)
	r.From = "what the server supports"
	return r, err
}

// ChooseReplicas returns the copies to keep of each stream and bucket: configured when the deployment
// can hold it, an error wrapping ErrReplicasUnsupported saying what it holds when not, and for 0
// (not configured) what it holds: 1 on a server without a cluster, 3 on a cluster of 3 or more, never
// more than the cluster's servers. A cluster whose size could not be learned (its servers did not
// answer the statistics request: the account may not publish on $SYS) gets 3 with 0, as before the
// size was asked, and its configured value otherwise: NATS refuses at creation what it cannot hold.
func ChooseReplicas(configured int, c Capacity) (int, error) {
	switch {
	case !c.Clustered() && configured > 1:
		return 0, fmt.Errorf("%w: %d replicas asked, but the NATS server runs JetStream without a cluster: it holds 1", ErrReplicasUnsupported, configured)
	case c.Clustered() && c.Servers > 0 && configured > c.Servers:
		return 0, fmt.Errorf("%w: %d replicas asked, but %d JetStream servers of NATS cluster %s answered: it holds at most %d",
			ErrReplicasUnsupported, configured, c.Servers, c.Cluster, c.Servers)
	case configured > 0:
		return configured, nil
	case !c.Clustered():
		return 1, nil
	case c.Servers == 0:
		return maxAutoReplicas, nil
	default:
		return min(maxAutoReplicas, c.Servers), nil
	}
}
