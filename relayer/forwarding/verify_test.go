package forwarding_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// TestVerifyForwardedRecord: a credential of seoul-1 forwarded to bucheon-1 through the hub wego-1
// verifies on bucheon-1 without --via (bucheon-1 holds no client of seoul-1): the record's channel is
// bound to bucheon-1's registered client of the hub, the hub's role is proven, and its status is
// confirmed at seoul-1 through the hub's proofs (or at seoul-1 itself when configured). A revocation
// withheld from bucheon-1 is caught through the hub once the hub's client of seoul-1 is past it (at
// once with seoul-1 configured); the forwarded revocation answers revoked from the record itself;
// without the hub role on bucheon-1 the record is not recognised.
func TestVerifyForwardedRecord(t *testing.T) {
	toHub, fromHub := star(t)
	r := &relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	seoulAdmin, bucheonAdmin := testnet.Client(t, seoul, devnet.AdminKey), testnet.Client(t, bucheon, devnet.AdminKey)
	mustSend(t, bucheonAdmin, &didtypes.MsgRegisterHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"})
	hubOfSeoul := relayer.Client{Dst: toHub.B, Src: toHub.A}
	bucheonOfHub := relayer.Client{Dst: fromHub.B, Src: fromHub.A}
	bucheonNode, bucheonLight := testnet.Client(t, bucheon, devnet.RelayerKey), testnet.LightOf(t, bucheon)
	nodes := func(id string) (chains.Prover, error) {
		c := net.Chain(id)
		if c == nil {
			return nil, errors.New("not in the devnet")
		}
		return testnet.Client(t, c, devnet.RelayerKey), nil
	}
	origins := func(chainID string) (verify.Origin, bool) {
		if chainID != "seoul-1" {
			return nil, false
		}
		return verify.CosmosOrigin{Chain: testnet.Client(t, seoul, devnet.RelayerKey), Headers: testnet.LightOf(t, seoul)}, true
	}
	check := func(id string, o verify.Options) (*verify.Result, error) {
		t.Helper()
		o.MaxHeaderAge = time.Minute
		if o.MaxOriginAge == 0 {
			o.MaxOriginAge = 3 * time.Minute
		}
		return verify.Attestation(context.Background(), bucheonNode, bucheonLight, "seoul-1", id, o)
	}
	mustCheck := func(id string, o verify.Options) *verify.Result {
		t.Helper()
		res, err := check(id, o)
		if err != nil {
			t.Fatalf("verify %s on bucheon-1: %v", id, err)
		}
		return res
	}
	routeOK := func(res *verify.Result) bool {
		return res.Via != nil && res.Via.Hub == "wego-1" && res.Via.HubClient == fromHub.B.ClientID && res.Client == fromHub.B.ClientID &&
			res.Channel == fromHub.B.ChannelID && res.Via.HubHeight > 0
	}

	id := issue(t, seoulAdmin, seoul)
	through(t, r, toHub, fromHub, mustSend(t, seoulAdmin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, AttestationId: id,
		DestinationChainId: "bucheon-1", ViaChainId: "wego-1"}))
	waitRecorded(t, bucheon, bucheonAdmin, id, didtypes.ATTESTATION_STATUS_ACTIVE)

	// 1. Forwarded and valid: confirmed at seoul-1 through the hub's proofs (no --via, no client of
	// seoul-1 on bucheon-1).
	res := mustCheck(id, verify.Options{Nodes: nodes})
	if res.Status != verify.StatusValid || res.StatusFrom != "hub" || !routeOK(res) || res.Via.OriginClient != toHub.B.ClientID ||
		res.RelayedStatus != verify.StatusValid || res.RegisteredClient != "" || res.ReceivedHeight == 0 || res.Attestation == nil || res.Attestation.Id != id {
		t.Fatalf("forwarded record on bucheon-1: %+v (route %+v)", res, res.Via)
	}
	t.Logf("valid, forwarded via wego-1: did/%s over %s, %s's state at %d: %s", res.Channel, res.Client, res.Via.Hub, res.Via.HubHeight, res.Reason)
	// The forwarded copy alone, when asked for.
	if r := mustCheck(id, verify.Options{RelayedOnly: true}); r.Status != verify.StatusValid || r.StatusFrom != "relayed" || !routeOK(r) ||
		!strings.Contains(r.Reason, "forwarded via wego-1 only") {
		t.Fatalf("relayed only: %+v", r)
	}
	// Neither the hub's nodes nor the origin: not fresh, no answer.
	if r, err := check(id, verify.Options{}); !errors.Is(err, verify.ErrNotFresh) || !strings.Contains(err.Error(), "forwarded via wego-1") {
		t.Fatalf("no nodes: want ErrNotFresh, got %+v, %v", r, err)
	}

	// 2. Seoul revokes and the revocation is withheld (not relayed). The hub's state of seoul-1 still
	// says valid; seoul-1 configured says revoked at once.
	revoke(t, seoulAdmin, seoul, id)
	revokedAt := latest(t, seoulAdmin)
	var fresh *verify.Result
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		if fresh = mustCheck(id, verify.Options{Nodes: nodes, Origins: origins}); fresh.Status == verify.StatusRevoked || time.Now().After(deadline) {
			break
		}
	}
	if fresh.Status != verify.StatusRevoked || fresh.StatusFrom != "origin" || fresh.RelayedStatus != verify.StatusValid || !routeOK(fresh) ||
		!strings.Contains(fresh.Reason, "revoked at seoul-1 height") || !strings.Contains(fresh.Reason, "forwarded to bucheon-1 via wego-1 still says valid") {
		t.Fatalf("withheld revocation, seoul-1 configured: %+v (route %+v)", fresh, fresh.Via)
	}
	// Through the hub alone: caught once the hub's client of seoul-1 is past the revocation (and
	// bucheon-1's client of the hub past that update).
	updated := testnet.UpdateClientPast(t, seoul, net.Chain("wego-1"), hubOfSeoul, revokedAt)
	testnet.UpdateClientPast(t, net.Chain("wego-1"), bucheon, bucheonOfHub, updated)
	res = mustCheck(id, verify.Options{Nodes: nodes})
	if res.Status != verify.StatusRevoked || res.StatusFrom != "hub" || res.RelayedStatus != verify.StatusValid || !routeOK(res) ||
		res.Via.OriginHeight <= revokedAt || !strings.Contains(res.Reason, "revoked at seoul-1 height") {
		t.Fatalf("withheld revocation through the hub's proofs: %+v (route %+v)", res, res.Via)
	}
	t.Logf("withheld revocation caught through the hub: %s", res.Reason)
	if f, err := foreign(bucheonAdmin, "seoul-1", id); err != nil || f.Attestation.Status != didtypes.ATTESTATION_STATUS_ACTIVE {
		t.Fatalf("bucheon-1's copy should still say active (the revocation withheld): %+v %v", f.Attestation, err)
	}

	// 3. The revocation forwarded: the record itself says revoked (final, no hub proofs needed).
	through(t, r, toHub, fromHub, mustSend(t, seoulAdmin, &didtypes.MsgSendRevocation{Sender: seoul.Admin.Address,
		SourceChannel: toHub.A.ChannelID, AttestationId: id, DestinationChainId: "bucheon-1", ViaChainId: "wego-1"}))
	waitRecorded(t, bucheon, bucheonAdmin, id, didtypes.ATTESTATION_STATUS_REVOKED)
	res = mustCheck(id, verify.Options{})
	if res.Status != verify.StatusRevoked || res.StatusFrom != "relayed" || !routeOK(res) || !strings.Contains(res.Reason, "forwarded via wego-1") {
		t.Fatalf("forwarded revocation: %+v (route %+v)", res, res.Via)
	}

	// 4. bucheon-1's registry admin takes the hub role away: what wego-1 forwarded no longer speaks for
	// seoul-1 on bucheon-1.
	rm := mustSend(t, bucheonAdmin, &didtypes.MsgRemoveHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bucheon.WaitHeight(ctx, rm.Height+2); err != nil {
		t.Fatal(err)
	}
	res = mustCheck(id, verify.Options{Nodes: nodes})
	if res.Status != verify.StatusUnrecognised || !strings.Contains(res.Reason, "wego-1 is not a hub here") || res.Via == nil || res.Via.Hub != "wego-1" {
		t.Fatalf("hub role removed on bucheon-1: %+v", res)
	}
	t.Logf("hub role removed: %s", res.Reason)
	// Put the role back for the other tests of the shared star.
	mustSend(t, bucheonAdmin, &didtypes.MsgRegisterHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"})
}

// waitRecorded waits until bucheon-1 holds a header committing to its record of id with status s.
func waitRecorded(t *testing.T, c *devnet.Chain, cl *cosmos.Client, id string, s didtypes.AttestationStatus) {
	t.Helper()
	node := testnet.Client(t, c, devnet.RelayerKey)
	f, err := foreign(node, "seoul-1", id)
	if err != nil || f.Attestation.Status != s || f.Route == nil || f.Route.HubChainId != "wego-1" {
		t.Fatalf("%s's record of %s: %+v %v (want %s, forwarded via wego-1)", c.ChainID, id, f, err, s)
	}
	h := latest(t, cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.WaitHeight(ctx, h+2); err != nil {
		t.Fatal(err)
	}
}

// latest is the chain's latest height (a tx sent before has committed at or below it).
func latest(t *testing.T, cl *cosmos.Client) int64 {
	t.Helper()
	st, err := cl.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.SyncInfo.LatestBlockHeight
}
