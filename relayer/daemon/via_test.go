package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// TestAttestationsViaHub (issue 22): the verification endpoint on a real star (seoul-1 and bucheon-1
// each linked to the hub wego-1 only) answers ?via=wego-1 on bucheon-1 for Seoul's attestation, with
// the route; a via that is not a chain id is the client's error.
func TestAttestationsViaHub(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "wego-1", "bucheon-1")
	seoul, hub, bucheon := net.Chain("seoul-1"), net.Chain("wego-1"), net.Chain("bucheon-1")
	paths := testnet.Star(t, net, "wego-1", "seoul-1", "bucheon-1")

	admin := testnet.Client(t, seoul, devnet.AdminKey)
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{9}, 32)
	sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, seoul.Issuer.Method, seoul.Citizen.DID, "residency-card", digest, now-10, now+3600, 1)
	sig, err := seoul.Issuer.Sign(sb)
	if err != nil {
		t.Fatal(err)
	}
	id := didtypes.AttestationID(sb)
	res, err := admin.Send(context.Background(), &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID,
		IssuerMethod: seoul.Issuer.Method, SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 10,
		ValidUntil: now + 3600, IssuerSeq: 1, Signature: sig})
	if err != nil {
		t.Fatal(err)
	}
	updated := testnet.UpdateClientPast(t, seoul, hub, relayer.Client{Dst: paths["seoul-1"].B, Src: paths["seoul-1"].A}, res.Height)
	testnet.UpdateClientPast(t, hub, bucheon, relayer.Client{Dst: paths["bucheon-1"].A, Src: paths["bucheon-1"].B}, updated)

	// The daemon's verifiers of the three chains (the hub's and Seoul's nodes serve the route's proofs).
	l := defaultLimits()
	cfg := &config.Config{Verify: config.Verify{MaxHeaderAge: config.Duration{Duration: time.Minute}, MaxOriginAge: config.Duration{Duration: time.Minute}},
		Chains: map[string]*config.Chain{"seoul-1": {}, "wego-1": {}, "bucheon-1": {}}}
	v := &verifiers{byChain: map[string]*verifier{}}
	for _, c := range []*devnet.Chain{seoul, hub, bucheon} {
		v.byChain[c.ChainID] = &verifier{prover: testnet.Client(t, c, devnet.RelayerKey), headers: &freshHeaders{lc: testnet.LightOf(t, c), now: time.Now,
			verifyTimeout: 30 * time.Second}}
	}
	routes, _ := mux(newSite(newMetrics(nil), newHealth(), Options{Config: cfg}, nil, v, l, nil))
	addr := serve(t, routes, l)
	get := func(query string) (int, []byte) {
		resp, err := http.Get("http://" + addr + "/v1/attestations/bucheon-1/seoul-1/" + id + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := get("?via=wego-1")
	var r verify.Result
	if err := json.Unmarshal(body, &r); code != http.StatusOK || err != nil || r.Status != verify.StatusValid || r.Via == nil || r.Via.Hub != "wego-1" ||
		r.Via.HubClient != paths["bucheon-1"].A.ClientID || r.Via.OriginClient != paths["seoul-1"].B.ClientID || r.Via.OriginHeight <= res.Height {
		t.Fatalf("?via=wego-1: %d %s", code, body)
	}
	t.Logf("?via=wego-1: %s (status from %s)", r.Reason, r.StatusFrom)
	// Without via, Bucheon received nothing from Seoul: absent.
	if code, body := get(""); code != http.StatusOK || !strings.Contains(string(body), `"status":"absent"`) {
		t.Fatalf("without via: %d %s", code, body)
	}
	if code, body := get("?via=Not_A_Chain"); code != http.StatusBadRequest || !strings.Contains(string(body), "via must be a city chain id") {
		t.Fatalf("?via= malformed: %d %s", code, body)
	}
}
