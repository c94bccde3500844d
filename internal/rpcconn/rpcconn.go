// Package rpcconn gives the process's CometBFT RPC clients one HTTP transport, so a chain's light
// client and its chain client (scanner, submitter, queries) share their keep-alive connections to a
// node instead of each holding its own: one connection per node, not one per client, when idle (file
// descriptors at 121 chains).
package rpcconn

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// transport is shared by every client New makes. As cometbft's own: no compression (a gzip bomb
// from a node cannot blow the process up), proxies from the environment.
var transport = &http.Transport{
	Proxy:               http.ProxyFromEnvironment,
	DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	DisableCompression:  true,
	MaxIdleConnsPerHost: 4,
	IdleConnTimeout:     90 * time.Second,
	TLSHandshakeTimeout: 10 * time.Second,
}

// New is an RPC client of remote (http or https; another scheme, such as unix or tcp, gets
// cometbft's own client and transport) whose calls each time out after timeout.
func New(remote string, timeout time.Duration) (*rpchttp.HTTP, error) {
	if !strings.Contains(remote, "://") {
		remote = "http://" + remote
	}
	u, err := url.Parse(remote)
	if err != nil {
		return nil, fmt.Errorf("rpc address %q: %w", remote, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return rpchttp.NewWithTimeout(remote, "/websocket", uint(max(timeout/time.Second, 1)))
	}
	return rpchttp.NewWithClient(remote, "/websocket", &http.Client{Transport: transport, Timeout: timeout})
}
