package verify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// TestVerifyThroughTheHub (issue 22, item 2): a star of real chains, seoul-1 and bucheon-1 each linked
// to the hub wego-1 only. Bucheon holds no client of Seoul, yet verifies Seoul's attestation through
// the hub's proofs alone: Bucheon's client of the hub, the hub's registry entry for Seoul and its
// client of Seoul, Seoul's own record. A revocation counts through the hub once the hub's client of
// Seoul is past it (and at once with Seoul configured); a node serving another record, or an id Seoul
// never issued, never verifies valid; Seoul removed from the hub's registry is no longer recognised.
func TestVerifyThroughTheHub(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "wego-1", "bucheon-1")
	seoul, hub, bucheon := net.Chain("seoul-1"), net.Chain("wego-1"), net.Chain("bucheon-1")
	start := time.Now()
	paths := testnet.Star(t, net, "wego-1", "seoul-1", "bucheon-1")
	t.Logf("star linked in %s: seoul-1 %s on wego-1 (registered), wego-1 %s on bucheon-1 (registered)",
		time.Since(start).Round(time.Millisecond), paths["seoul-1"].B.ClientID, paths["bucheon-1"].A.ClientID)
	hubOfSeoul := relayer.Client{Dst: paths["seoul-1"].B, Src: paths["seoul-1"].A}
	bucheonOfHub := relayer.Client{Dst: paths["bucheon-1"].A, Src: paths["bucheon-1"].B}
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	bucheonNode := testnet.Client(t, bucheon, devnet.RelayerKey)
	nodes := func(id string) (chains.Prover, error) {
		c := net.Chain(id)
		if c == nil {
			return nil, errors.New("not in the devnet")
		}
		return testnet.Client(t, c, devnet.RelayerKey), nil
	}
	via := func(id string, o verify.Options) (*verify.Result, error) {
		t.Helper()
		o.MaxHeaderAge, o.Via = time.Minute, "wego-1"
		if o.Nodes == nil {
			o.Nodes = nodes
		}
		return verify.Attestation(context.Background(), bucheonNode, testnet.LightOf(t, bucheon), "seoul-1", id, o)
	}
	mustVia := func(id string, o verify.Options) *verify.Result {
		t.Helper()
		res, err := via(id, o)
		if err != nil {
			t.Fatalf("verify %s on bucheon-1 via wego-1: %v", id, err)
		}
		return res
	}

	id, issued := issue(t, admin, seoul)
	// Bucheon has no client of Seoul and received nothing: directly, there is nothing to verify.
	if direct, err := verify.Attestation(context.Background(), bucheonNode, testnet.LightOf(t, bucheon), "seoul-1", id,
		verify.Options{MaxHeaderAge: time.Minute}); err != nil || direct.Status != verify.StatusAbsent {
		t.Fatalf("directly on bucheon-1: %+v, %v", direct, err)
	}
	propagate(t, seoul, hub, bucheon, hubOfSeoul, bucheonOfHub, issued)
	res := mustVia(id, verify.Options{})
	if res.Status != verify.StatusValid || res.StatusFrom != "hub" || res.Via == nil || res.Via.HubClient != paths["bucheon-1"].A.ClientID ||
		res.Via.OriginClient != paths["seoul-1"].B.ClientID || res.Via.OriginHeight <= issued || res.Attestation == nil || res.Attestation.Id != id ||
		res.OriginStateAsOf.IsZero() || !res.OriginStateAsOf.Equal(res.Via.OriginTime) || res.Via.HubHeight == 0 {
		t.Fatalf("issued at seoul-1 height %d, via the hub: %+v (route %+v)", issued, res, res.Via)
	}
	t.Logf("valid via wego-1: bucheon-1 header %d → wego-1 %s at %d → seoul-1 %s at %d: %s", res.HeaderHeight, res.Via.HubClient, res.Via.HubHeight,
		res.Via.OriginClient, res.Via.OriginHeight, res.Reason)

	// An id Seoul never issued: proven absent, not valid.
	other := strings.Repeat("ab", 32)
	if r := mustVia(other, verify.Options{}); r.Status != verify.StatusAbsent || r.Attestation != nil || !strings.Contains(r.Reason, "holds no attestation") {
		t.Fatalf("unknown id via the hub: %+v", r)
	}
	// A Seoul node that answers the unknown id with the record (and proof) of the real one: its proof
	// does not match the key, so no answer, never valid.
	lying := func(chainID string) (chains.Prover, error) {
		p, err := nodes(chainID)
		if chainID != "seoul-1" {
			return p, err
		}
		return swapKey{Prover: p, asked: didtypes.AttestationKey(other), served: didtypes.AttestationKey(id)}, err
	}
	if r, err := via(other, verify.Options{Nodes: lying}); !errors.Is(err, verify.ErrCouldNotVerify) || !strings.Contains(err.Error(), "seoul-1's node must prove its state") {
		t.Fatalf("lying seoul-1 node: want could not verify, got %+v, %v", r, err)
	}

	// A hub node that pruned the height Bucheon's client of the hub holds: a clear error, not an answer.
	pruned := func(chainID string) (chains.Prover, error) {
		p, err := nodes(chainID)
		if chainID != "wego-1" {
			return p, err
		}
		return prunedNode{p}, err
	}
	if r, err := via(id, verify.Options{Nodes: pruned}); !errors.Is(err, verify.ErrCouldNotVerify) ||
		!strings.Contains(err.Error(), "wego-1's node must prove its state at height") || !strings.Contains(err.Error(), "is not available") {
		t.Fatalf("pruned wego-1 node: want could not verify naming the height, got %+v, %v", r, err)
	}

	// Seoul revokes. Until the hub's client of Seoul is past it, the hub's state of Seoul says valid, as
	// of its time; with Seoul configured, its own fresh record says revoked at once.
	revoked := setStatus(t, admin, seoul, id, didtypes.ATTESTATION_STATUS_REVOKED)
	if r := mustVia(id, verify.Options{}); r.Status != verify.StatusValid || r.StatusFrom != "hub" || r.OriginHeight > revoked.Height {
		t.Fatalf("revoked at %d, hub not updated: %+v", revoked.Height, r)
	}
	origins := func(chainID string) (verify.Origin, bool) {
		if chainID != "seoul-1" {
			return nil, false
		}
		return verify.CosmosOrigin{Chain: testnet.Client(t, seoul, devnet.RelayerKey), Headers: testnet.LightOf(t, seoul)}, true
	}
	var fresh *verify.Result
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if fresh = mustVia(id, verify.Options{Origins: origins}); fresh.Status == verify.StatusRevoked || time.Now().After(deadline) {
			break
		}
	}
	if fresh.Status != verify.StatusRevoked || fresh.StatusFrom != "origin" || fresh.OriginHeight <= revoked.Height || fresh.Via.Status != verify.StatusValid ||
		!strings.Contains(fresh.Reason, "revoked at seoul-1 height") || !strings.Contains(fresh.Reason, "it was valid") {
		t.Fatalf("revoked, seoul-1 configured: %+v (route %+v)", fresh, fresh.Via)
	}
	// Stale beyond max_origin_age and Seoul not configured: no answer from the hub's old state.
	if r, err := via(id, verify.Options{MaxOriginAge: time.Nanosecond}); !errors.Is(err, verify.ErrNotFresh) || !strings.Contains(err.Error(), "latest state of seoul-1") {
		t.Fatalf("stale hub state, origin not configured: want ErrNotFresh, got %+v, %v", r, err)
	}
	propagate(t, seoul, hub, bucheon, hubOfSeoul, bucheonOfHub, revoked.Height)
	if r := mustVia(id, verify.Options{}); r.Status != verify.StatusRevoked || r.StatusFrom != "hub" || r.OriginHeight <= revoked.Height ||
		!strings.Contains(r.Reason, "revoked at seoul-1 height") {
		t.Fatalf("revoked at %d, the hub's client of seoul-1 past it: %+v", revoked.Height, r)
	}
	// Final: even a stale hub state of Seoul answers revoked.
	if r, err := via(id, verify.Options{MaxOriginAge: time.Nanosecond}); err != nil || r.Status != verify.StatusRevoked {
		t.Fatalf("revoked is final: %+v, %v", r, err)
	}

	// The association removes Seoul from the hub's registry: once Bucheon's client of the hub is past
	// that, Seoul is not recognised through the hub.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	removed, err := hub.RemoveCity(ctx, "seoul-1")
	if err != nil {
		t.Fatal(err)
	}
	testnet.UpdateClientPast(t, hub, bucheon, bucheonOfHub, removed)
	r := mustVia(id, verify.Options{})
	if r.Status != verify.StatusUnrecognised || r.Via.OriginClient != "" || !strings.Contains(r.Reason, "does not list seoul-1") {
		t.Fatalf("seoul-1 removed from wego-1's registry: %+v", r)
	}
	t.Logf("removed: %s", r.Reason)

	// Bucheon's registry admin takes the hub role back: wego-1 is still a registered city, but its
	// registry no longer speaks for other cities on Bucheon.
	if _, err := testnet.Client(t, bucheon, devnet.AdminKey).Send(ctx, &didtypes.MsgRemoveHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		r = mustVia(id, verify.Options{})
		if r.Status == verify.StatusUnrecognised && strings.Contains(r.Reason, "wego-1 is not a hub here") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wego-1 no longer a hub on bucheon-1: %+v", r)
		}
	}
}

// swapKey is a node that answers a read of asked with its proven answer for served.
type swapKey struct {
	chains.Prover
	asked, served []byte
}

func (s swapKey) QueryProven(ctx context.Context, storeKey string, key []byte, height int64) (*chains.Proof, error) {
	if bytes.Equal(key, s.asked) {
		p, err := s.Prover.QueryProven(ctx, storeKey, s.served, height)
		if p != nil {
			p.Key = key
		}
		return p, err
	}
	return s.Prover.QueryProven(ctx, storeKey, key, height)
}

// prunedNode is a node that has pruned every height: a query fails as CometBFT's does for one.
type prunedNode struct{ chains.Prover }

func (p prunedNode) QueryProven(_ context.Context, storeKey string, key []byte, height int64) (*chains.Proof, error) {
	return nil, fmt.Errorf("query %s/%s: height %d is not available, lowest height is %d", storeKey, key, height, height+1000)
}

// propagate moves the hub's client of the origin past the origin's height after, then the verifying
// chain's client of the hub past that update.
func propagate(t *testing.T, origin, hub, member *devnet.Chain, hubOfOrigin, ofHub relayer.Client, after int64) {
	t.Helper()
	updated := testnet.UpdateClientPast(t, origin, hub, hubOfOrigin, after)
	testnet.UpdateClientPast(t, hub, member, ofHub, updated)
}

// issue issues a residency card in the chain's city and returns its id and the tx height.
func issue(t *testing.T, admin *cosmos.Client, city *devnet.Chain) (string, int64) {
	t.Helper()
	seq := issuerSeq(t, admin, city) + 1
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{byte(seq)}, 32)
	sb := didtypes.AttestationSignBytes(city.ChainID, city.Issuer.DID, city.Issuer.Method, city.Citizen.DID, "residency-card", digest, now-60, now+86400, seq)
	sig, err := city.Issuer.Sign(sb)
	if err != nil {
		t.Fatal(err)
	}
	res := send(t, admin, &didtypes.MsgIssueAttestation{Submitter: city.Admin.Address, IssuerDid: city.Issuer.DID, IssuerMethod: city.Issuer.Method,
		SubjectDid: city.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 60, ValidUntil: now + 86400, IssuerSeq: seq, Signature: sig})
	return didtypes.AttestationID(sb), res.Height
}

// setStatus changes the status of the city's attestation id; it returns the committed tx.
func setStatus(t *testing.T, admin *cosmos.Client, city *devnet.Chain, id string, status didtypes.AttestationStatus) *cosmos.TxResult {
	t.Helper()
	seq := issuerSeq(t, admin, city) + 1
	sig, err := city.Issuer.Sign(didtypes.RevocationSignBytes(city.ChainID, id, city.Issuer.DID, city.Issuer.Method, status, seq))
	if err != nil {
		t.Fatal(err)
	}
	return send(t, admin, &didtypes.MsgSetAttestationStatus{Submitter: city.Admin.Address, AttestationId: id, IssuerMethod: city.Issuer.Method,
		NewStatus: status, IssuerSeq: seq, Signature: sig})
}

func issuerSeq(t *testing.T, admin *cosmos.Client, city *devnet.Chain) uint64 {
	t.Helper()
	var doc didtypes.QueryDIDResponse
	if err := admin.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: city.Issuer.DID}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	return doc.Document.IssuerSeq
}

func send(t *testing.T, cl *cosmos.Client, msgs ...sdk.Msg) *cosmos.TxResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := cl.Send(ctx, msgs...)
	if err != nil {
		t.Fatalf("send on %s: %v", cl.ChainID(), err)
	}
	return res
}
