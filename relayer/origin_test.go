package relayer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// TestRevocationCountsAtTheOrigin (issue 19): a credential relayed to Bucheon, then revoked in Seoul
// and never relayed again. Bucheon's relayed copy still says valid; verify proves Seoul's own record at
// a fresh Seoul header bound to the client Bucheon's registry names, and says revoked, at Seoul's
// height, at once. Asked for the relayed record only, it says valid and why that may be stale; without
// Seoul configured it refuses to answer from the copy; an impostor chain calling itself seoul-1 as the
// "origin" cannot bind to the registered client.
func TestRevocationCountsAtTheOrigin(t *testing.T) {
	p, id := validOnBucheon(t, relayer.Relayer{Check: light.VerifyProofAgainstAppHash})
	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)

	before := verifyOn(t, p.B, "seoul-1", id)
	if before.Status != verify.StatusValid || before.StatusFrom != "origin" || before.OriginHeight == 0 || before.RelayedStatus != verify.StatusValid ||
		!strings.Contains(before.Reason, "valid at seoul-1 height") {
		t.Fatalf("before the revocation: %+v", before)
	}

	// Revoke in Seoul; no relayer runs.
	revoked := setStatus(t, admin, seoul, id, types.ATTESTATION_STATUS_REVOKED)
	committed := time.Now()
	var res *verify.Result
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r, err := verifyWith(t, p.B, "seoul-1", id, verify.Options{MaxHeaderAge: time.Minute, Origins: devnetOrigins(t)})
		if err != nil {
			t.Fatalf("verify after the revocation: %v", err)
		}
		if res = r; res.Status == verify.StatusRevoked || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("revocation committed at seoul-1 height %d; verify on bucheon-1 said revoked %s later, at seoul-1 height %d (no relayer)",
		revoked.Height, time.Since(committed).Round(time.Millisecond), res.OriginHeight)
	if res.Status != verify.StatusRevoked || res.StatusFrom != "origin" || res.RelayedStatus != verify.StatusValid || res.OriginHeight <= revoked.Height ||
		!strings.Contains(res.Reason, "revoked at seoul-1 height") || !strings.Contains(res.Reason, "still says valid") {
		t.Fatalf("after the revocation, not relayed: %+v", res)
	}

	// The relayed record alone, when asked for: valid, and the answer says what it is.
	relayed, err := verifyWith(t, p.B, "seoul-1", id, verify.Options{MaxHeaderAge: time.Minute, RelayedOnly: true})
	if err != nil || relayed.Status != verify.StatusValid || relayed.StatusFrom != "relayed" || !strings.Contains(relayed.Reason, "relayed record only") {
		t.Fatalf("relayed only: %+v, %v", relayed, err)
	}

	// No origin configured: no answer from the copy.
	if r, err := verifyWith(t, p.B, "seoul-1", id, verify.Options{MaxHeaderAge: time.Minute}); !errors.Is(err, verify.ErrNotFresh) ||
		!errors.Is(err, verify.ErrCouldNotVerify) || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("origin not configured: want ErrNotFresh, got %+v, %v", r, err)
	}

	// An impostor calling itself seoul-1, with a light client rooted in it, as the origin.
	// Fast blocks: the impostor has to climb past the real Seoul's height, which the package's earlier
	// tests have raised.
	fakeNet := testnet.ChainsWith(t, devnet.Options{ChainIDs: []string{"seoul-1"}, BlockTime: 10 * time.Millisecond})
	fake := fakeNet.Chain("seoul-1")
	// Past the registered client's latest height: the impostor's fresh header must be checked against
	// the client's consensus state (a lower one is compared at that height, and fails there too).
	wctx, wcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer wcancel()
	if err := fake.WaitHeight(wctx, revoked.Height+5); err != nil {
		t.Fatal(err)
	}
	impostor := func(string) (verify.Origin, bool) {
		return verify.CosmosOrigin{Chain: testnet.Client(t, fake, devnet.RelayerKey), Headers: testnet.LightOf(t, fake)}, true
	}
	if r, err := verifyWith(t, p.B, "seoul-1", id, verify.Options{MaxHeaderAge: time.Minute, Origins: impostor}); !errors.Is(err, verify.ErrNotFresh) ||
		!strings.Contains(err.Error(), "does not verify from bucheon-1's registered client "+p.B.ClientID) {
		t.Fatalf("impostor origin: want a binding failure, got %+v, %v", r, err)
	}
}

// setStatus changes the status of Seoul's attestation id with the sample issuer's next sequence; it
// returns the committed tx.
func setStatus(t testing.TB, admin *cosmos.Client, seoul *devnet.Chain, id string, status types.AttestationStatus) *cosmos.TxResult {
	t.Helper()
	var doc types.QueryDIDResponse
	if err := admin.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/DID", &types.QueryDIDRequest{Did: seoul.Issuer.DID}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	seq := doc.Document.IssuerSeq + 1
	sig, err := seoul.Issuer.Sign(types.RevocationSignBytes(seoul.ChainID, id, seoul.Issuer.DID, seoul.Issuer.Method, status, seq))
	if err != nil {
		t.Fatal(err)
	}
	return mustSend(t, admin, &types.MsgSetAttestationStatus{Submitter: seoul.Admin.Address, AttestationId: id, IssuerMethod: seoul.Issuer.Method,
		NewStatus: status, IssuerSeq: seq, Signature: sig})
}

// countingProxy forwards to target and counts requests and response bytes.
type countingProxy struct {
	calls, bytes atomic.Int64
	srv          *httptest.Server
}

func newCountingProxy(tb testing.TB, target string) *countingProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &countingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		p.calls.Add(1)
		if r.ContentLength > 0 {
			p.bytes.Add(r.ContentLength)
		} else if bz, err := io.ReadAll(r.Body); err == nil {
			p.bytes.Add(int64(len(bz)))
			r.Body = io.NopCloser(bytes.NewReader(bz))
		}
		return nil
	}
	p.srv = httptest.NewServer(rp)
	tb.Cleanup(p.srv.Close)
	return p
}

// BenchmarkVerifyOrigin measures what proving the origin's own status adds to a verification of a
// relayed record on Bucheon: time, RPC calls and response bytes to both chains' nodes (every query
// over the RPC, gRPC off, so the proxies see all of it), with light clients kept open as the daemon
// keeps them. go test -run '^$' -bench VerifyOrigin ./relayer/
func BenchmarkVerifyOrigin(b *testing.B) {
	p, _ := linkPath(b, types.PortID, types.Version, nil)
	id := relayValid(b, relayer.Relayer{Check: light.VerifyProofAgainstAppHash}, p)
	seoulProxy, bucheonProxy := newCountingProxy(b, net.Chain("seoul-1").RPCAddr), newCountingProxy(b, net.Chain("bucheon-1").RPCAddr)
	client := func(c *devnet.Chain, rpc string) *cosmos.Client {
		return testnet.ClientWith(b, c, devnet.RelayerKey, devnet.ClientOptions{RPC: rpc, NoGRPC: true})
	}
	bucheon := client(net.Chain("bucheon-1"), bucheonProxy.srv.URL)
	bucheonLight := testnet.Light(b, "bucheon-1", bucheonProxy.srv.URL, nil)
	origin := verify.CosmosOrigin{Chain: client(net.Chain("seoul-1"), seoulProxy.srv.URL), Headers: testnet.Light(b, "seoul-1", seoulProxy.srv.URL, nil)}
	for _, mode := range []struct {
		name string
		o    verify.Options
	}{
		{"relayed-only", verify.Options{MaxHeaderAge: time.Minute, RelayedOnly: true}},
		{"with-origin", verify.Options{MaxHeaderAge: time.Minute, Origins: func(string) (verify.Origin, bool) { return origin, true }}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			seoulProxy.calls.Store(0)
			seoulProxy.bytes.Store(0)
			bucheonProxy.calls.Store(0)
			bucheonProxy.bytes.Store(0)
			for i := 0; i < b.N; i++ {
				res, err := verify.Attestation(context.Background(), bucheon, bucheonLight, "seoul-1", id, mode.o)
				if err != nil || res.Status != verify.StatusValid {
					b.Fatalf("verify: %+v %v", res, err)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(seoulProxy.calls.Load()+bucheonProxy.calls.Load())/n, "rpc-calls/op")
			b.ReportMetric(float64(seoulProxy.bytes.Load()+bucheonProxy.bytes.Load())/n, "rpc-bytes/op")
			b.ReportMetric(float64(seoulProxy.calls.Load())/n, "origin-calls/op")
		})
	}
}
