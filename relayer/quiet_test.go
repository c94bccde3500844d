package relayer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"

	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
)

// TestQuietPathUpdateSkipsToTheTarget: a client last updated 60 blocks ago is updated by a relayer
// whose light client started after that (its first header is far above the client's height) with a
// handful of RPC calls: the trusted validators come from the client's consensus state's hash, not
// from walking the light client back through every header in between.
func TestQuietPathUpdateSkipsToTheTarget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, _ := linkPath(t, transfertypes.PortID, transfertypes.Version, nil)
	seoul := net.Chain("seoul-1")
	before, err := relayer.Status(ctx, p.B)
	if err != nil {
		t.Fatal(err)
	}
	behind := int64(before.ClientHeight) + 60
	if err := seoul.WaitHeight(ctx, behind); err != nil {
		t.Fatal(err)
	}

	var calls atomic.Int64
	target, _ := url.Parse(seoul.RPCAddr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer counting.Close()
	lc := testnet.Light(t, seoul.ChainID, counting.URL, nil) // starts at seoul's latest header
	src := &relayer.End{Chain: p.A.Chain, Light: lc, ClientID: p.A.ClientID, ConnectionID: p.A.ConnectionID, ChannelID: p.A.ChannelID, PortID: p.A.PortID}
	calls.Store(0)
	after, tx, err := relayer.Client{Dst: p.B, Src: src}.Update(ctx)
	if err != nil || tx == nil {
		t.Fatalf("update of a client %d blocks behind: %v", behind-int64(before.ClientHeight), err)
	}
	n := calls.Load()
	t.Logf("client %s on bucheon-1 moved from %d to %d with %d RPC calls to seoul-1", p.B.ClientID, before.ClientHeight, after, n)
	if after < behind {
		t.Fatalf("client at %d, want at least %d", after, behind)
	}
	if n > 12 {
		t.Fatalf("%d RPC calls to update a quiet client: it walked back through the headers", n)
	}
}
