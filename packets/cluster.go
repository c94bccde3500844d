package packets

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a NATS cluster of nodes in this process with JetStream clustered over loopback routes:
// what a devnet or a test needs to run relayers the way operators scale out (no token, loopback only).
type Cluster struct {
	Nodes map[string]*server.Server
	URLs  []string
}

// StartCluster starts n nodes (n1..nN) with their stores under root. It returns once every node takes
// clients; JetStream answers once the nodes have elected a meta leader (a second or two).
func StartCluster(root string, n int) (*Cluster, error) {
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("nats cluster: %w", err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
	}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	c := &Cluster{Nodes: map[string]*server.Server{}}
	for i, rp := range ports {
		name := fmt.Sprintf("n%d", i+1)
		srv, err := server.NewServer(&server.Options{ServerName: name, Host: "127.0.0.1", Port: -1, JetStream: true,
			StoreDir: filepath.Join(root, name), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "cityrelay", Host: "127.0.0.1", Port: rp}, Routes: routes})
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("nats cluster node %s: %w", name, err)
		}
		go srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			c.Stop()
			return nil, fmt.Errorf("nats cluster node %s: not ready after 10s", name)
		}
		c.Nodes[name] = srv
		c.URLs = append(c.URLs, srv.ClientURL())
	}
	return c, nil
}

// Stop shuts every node down.
func (c *Cluster) Stop() {
	for _, s := range c.Nodes {
		s.Shutdown()
	}
}
