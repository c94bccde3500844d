package light_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/cometbft/cometbft/types"

	"github.com/cityrelay/cityrelay/light"
)

// TestCheckConflictRefusesUnsignedHeadersWithoutRPC: a header from outside (anyone's MsgUpdateClient,
// a failing tx as well) is judged by its signatures before any RPC call: a made-up header at a low
// height, at a height inside the store, or far in the future is ErrNotEvidence and costs the primary
// nothing (no backwards walk under the client's lock); VerifyHeightWithin refuses a walk far below the
// store without a call; the verified header itself agrees from the store.
func TestCheckConflictRefusesUnsignedHeadersWithoutRPC(t *testing.T) {
	ctx := context.Background()
	c := net.Chain("seoul-1")
	if err := c.WaitHeight(ctx, 12); err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(c.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	lc, err := light.New(ctx, opts(t, c.ChainID, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	first, err := lc.TrustedHeight()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHeight(ctx, first+3); err != nil {
		t.Fatal(err)
	}
	lb, err := lc.VerifyLatest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := lb.Height
	if last < first+2 {
		t.Fatalf("verified %d, first %d: want at least 2 headers above", last, first)
	}

	forged := func(h, at int64) *types.LightBlock {
		x := committed(t, c, h)
		x.Header.AppHash = []byte("made-up app hash, signed by no one")
		x.Header.Height = at
		return x
	}
	for _, tc := range []struct {
		name string
		x    *types.LightBlock
		want error
		also error
	}{
		{name: "unsigned header at height 2 (below the store)", x: forged(2, 2), want: light.ErrNotEvidence, also: light.ErrOutsideStore},
		{name: "unsigned header inside the store", x: forged(first+1, first+1), want: light.ErrNotEvidence},
		{name: "unsigned header at the newest verified height", x: forged(last, last), want: light.ErrNotEvidence},
		{name: "made-up header far in the future", x: forged(last, last+1_000_000), want: light.ErrNotEvidence},
		{name: "made-up header just above the newest verified", x: forged(last, last+1), want: light.ErrNotEvidence},
	} {
		calls.Store(0)
		err := lc.CheckConflict(ctx, tc.x, "test")
		if !errors.Is(err, tc.want) || (tc.also != nil && !errors.Is(err, tc.also)) {
			t.Fatalf("%s: %v, want %v (and %v)", tc.name, err, tc.want, tc.also)
		}
		if errors.Is(err, light.ErrHalted) || errors.Is(err, light.ErrOutsideConflict) {
			t.Fatalf("%s: the client halted on a made-up header: %v", tc.name, err)
		}
		if n := calls.Load(); n != 0 {
			t.Fatalf("%s: %d RPC calls to the primary, want 0", tc.name, n)
		}
		t.Logf("%s: %v", tc.name, err)
	}

	calls.Store(0)
	if err := lc.CheckConflict(ctx, lb, "test"); err != nil {
		t.Fatalf("the verified header itself: %v", err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the verified header itself: %d RPC calls, want 0", n)
	}

	calls.Store(0)
	if _, err := lc.VerifyHeightWithin(ctx, first-3, 2); !errors.Is(err, light.ErrOutsideStore) {
		t.Fatalf("a walk 3 headers back with a bound of 2: %v, want ErrOutsideStore", err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("refused walk back: %d RPC calls, want 0", n)
	}
	if _, err := lc.VerifyHeightWithin(ctx, last, 2); err != nil {
		t.Fatalf("a verified height through VerifyHeightWithin: %v", err)
	}
	if err := lc.Halted(); err != nil {
		t.Fatalf("the client halted: %v", err)
	}
}
