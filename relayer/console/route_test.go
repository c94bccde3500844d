package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// TestVerifyCardShowsTheRoute: the card of a record forwarded through a hub says "forwarded via
// wego-1", one proven through the hub's proofs alone "through hub wego-1", a direct one nothing.
// (The verifier is stubbed: verify itself is tested on real chains in relayer/forwarding and
// relayer/verify.)
func TestVerifyCardShowsTheRoute(t *testing.T) {
	var res *verify.Result
	c, err := New(Options{Config: config.Default(), NC: testnet.NATS(t), Log: zerolog.Nop(),
		Verify: func(context.Context, string, string, string, string) (*verify.Result, error) { return res, nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	mux := http.NewServeMux()
	c.Mount(mux)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	for _, tc := range []struct {
		res  *verify.Result
		want string
	}{
		{&verify.Result{Status: verify.StatusValid, Channel: "channel-1", Via: &verify.Route{Hub: "wego-1"}, StatusFrom: "hub"}, "forwarded via wego-1"},
		{&verify.Result{Status: verify.StatusValid, Via: &verify.Route{Hub: "wego-1"}, StatusFrom: "hub"}, "through hub wego-1"},
		{&verify.Result{Status: verify.StatusValid, Channel: "channel-0", StatusFrom: "origin"}, ""},
	} {
		res = tc.res
		code, body := call(t, "GET", hs.URL+"/console/api/verify?chain=bucheon-1&origin=seoul-1&id=ab", nil, "")
		var card Card
		if code != 200 || json.Unmarshal([]byte(body), &card) != nil || card.Verdict != "valid" || card.Route != tc.want {
			t.Errorf("card for %+v: want route %q, got %d %s", tc.res, tc.want, code, body)
		}
	}
}
