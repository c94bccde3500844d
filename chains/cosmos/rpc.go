package cosmos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"github.com/cityrelay/cityrelay/internal/rpcconn"
)

// rpcPool is a chain's RPC endpoints, used in turn: a call that fails on one endpoint is retried
// with backoff and jitter on the next.
type rpcPool struct {
	chainID  string
	clients  []*rpchttp.HTTP
	addrs    []string
	next     atomic.Uint32
	attempts int
	backoff  time.Duration
}

// newRPCPool dials nothing: CometBFT's HTTP client connects per request.
func newRPCPool(chainID string, addrs []string) (*rpcPool, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s: no rpc address", chainID)
	}
	p := &rpcPool{chainID: chainID, addrs: addrs, attempts: 2 * len(addrs), backoff: 100 * time.Millisecond}
	if p.attempts < 4 {
		p.attempts = 4
	}
	for _, a := range addrs {
		c, err := rpcconn.New(a, 30*time.Second) // the light client's connections to the node too
		if err != nil {
			return nil, fmt.Errorf("%s: rpc client %s: %w", chainID, a, err)
		}
		p.clients = append(p.clients, c)
	}
	return p, nil
}

// do runs fn on an endpoint, moving to the next endpoint after a failure. Idle connections are
// sometimes reset by the server (PITFALLS 6): the retry absorbs that too. fn must be idempotent.
func (p *rpcPool) do(ctx context.Context, what string, fn func(*rpchttp.HTTP) error) error {
	var last error
	wait := p.backoff
	for attempt := 0; attempt < p.attempts; attempt++ {
		i := int(p.next.Load()) % len(p.clients)
		err := fn(p.clients[i])
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", p.chainID, what, ctx.Err())
		}
		if !retryable(err) {
			return err
		}
		last = fmt.Errorf("%s: %w", p.addrs[i], err)
		p.next.CompareAndSwap(uint32(i), uint32(i+1))
		jitter := time.Duration(rand.Int64N(int64(wait)/2 + 1))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: %w", p.chainID, what, ctx.Err())
		case <-time.After(wait + jitter):
		}
		if wait < 2*time.Second {
			wait *= 2
		}
	}
	return fmt.Errorf("%s %s: %w: %v", p.chainID, what, ErrNoEndpoint, last)
}

// permanent marks an error that retrying on another endpoint cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

func retryable(err error) bool {
	_, ok := err.(permanent)
	return !ok
}
