package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

// TestVerifyViaHubCLI (issue 22): an operator's home with a star, seoul-1 and bucheon-1 each linked to
// the hub wego-1 only. `cityrelay verify --chain bucheon-1 --via wego-1` verifies Seoul's attestation
// on Bucheon, which holds no client of Seoul, and shows the route (Bucheon's client of the hub, the
// hub's client of Seoul, their heights); an id Seoul never issued exits 1, absent.
func TestVerifyViaHubCLI(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "wego-1", "bucheon-1")
	seoul := net.Chain("seoul-1")
	oh := operatorHome(t, []*devnet.Chain{seoul, net.Chain("wego-1"), net.Chain("bucheon-1")}, testnet.HomeOptions{})
	h := oh.Flag
	mustCLI(t, "", append(h, "paths", "new", "seoul-wego", "--src", "seoul-1", "--dst", "wego-1")...)
	mustCLI(t, "", append(h, "paths", "new", "bucheon-wego", "--src", "bucheon-1", "--dst", "wego-1")...)
	oh.LinkCities(net, "seoul-wego")
	oh.LinkCities(net, "bucheon-wego")
	cfg := oh.Config()
	hubOfSeoul, bucheonOfHub := cfg.Paths["seoul-wego"].Dst.ClientID, cfg.Paths["bucheon-wego"].Src.ClientID

	admin := testnet.Client(t, seoul, devnet.AdminKey)
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{7}, 32)
	sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, seoul.Issuer.Method, seoul.Citizen.DID, "residency-card", digest, now-10, now+3600, 1)
	sig, err := seoul.Issuer.Sign(sb)
	if err != nil {
		t.Fatal(err)
	}
	id := didtypes.AttestationID(sb)
	if _, err := admin.Send(context.Background(), &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID,
		IssuerMethod: seoul.Issuer.Method, SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 10,
		ValidUntil: now + 3600, IssuerSeq: 1, Signature: sig}); err != nil {
		t.Fatal(err)
	}

	// Until Bucheon's registry admin marks wego-1 as a hub, nothing proven through wego-1's registry
	// speaks for Seoul on Bucheon.
	args := append(h, "verify", "--chain", "bucheon-1", "--origin", "seoul-1", "--id", id, "--via", "wego-1")
	if out, err := cli(t, "", args...); exitCode(err) != 1 || !strings.Contains(out, "origin-not-recognised") || !strings.Contains(out, "wego-1 is not a hub here") {
		t.Fatalf("verify --via through a hub bucheon-1 does not mark: exit %d %v\n%s", exitCode(err), err, out)
	}
	bucheon := net.Chain("bucheon-1")
	if _, err := testnet.Client(t, bucheon, devnet.AdminKey).Send(context.Background(), &didtypes.MsgRegisterHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"}); err != nil {
		t.Fatal(err)
	}

	// The hub's client of Seoul moves past the attestation, then Bucheon's client of the hub past that:
	// until then the route proves it absent (exit 1), never anything else.
	var out string
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		mustCLI(t, "", append(h, "tx", "update-clients", "seoul-wego")...)
		mustCLI(t, "", append(h, "tx", "update-clients", "bucheon-wego")...)
		o, err := cli(t, "", args...)
		out = o
		if exitCode(err) == 0 {
			break
		}
		if exitCode(err) != 1 || !strings.Contains(out, "status:          absent") || time.Now().After(deadline) {
			t.Fatalf("verify --via before the clients are past the attestation: exit %d %v\n%s", exitCode(err), err, out)
		}
	}
	for _, want := range []string{"status:          valid", seoul.Citizen.DID,
		"via hub:         wego-1, client " + bucheonOfHub + " on bucheon-1 (bucheon-1's registry names it), hub header ",
		"hub's client:    " + hubOfSeoul + " of seoul-1 on wego-1 (the hub's registry names it), seoul-1 header ",
		// seoul-1 is configured: its own fresh record, bound to the hub's client of it.
		"from the issuing city's own record"} {
		if !strings.Contains(out, want) {
			t.Fatalf("verify --via must show %q:\n%s", want, out)
		}
	}
	t.Logf("cityrelay verify --via wego-1:\n%s", out)
	out = mustCLI(t, "", append(args, "--json")...)
	var js struct {
		Status string `json:"status"`
		Via    struct {
			Hub          string `json:"hub"`
			HubClient    string `json:"hub_client"`
			OriginClient string `json:"origin_client"`
			HubHeight    int64  `json:"hub_height"`
		} `json:"via"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || js.Status != "valid" || js.Via.Hub != "wego-1" || js.Via.HubHeight == 0 ||
		js.Via.HubClient != bucheonOfHub || js.Via.OriginClient != hubOfSeoul {
		t.Fatalf("verify --via --json: %v\n%s", err, out)
	}
	out, err = cli(t, "", append(h, "verify", "--chain", "bucheon-1", "--origin", "seoul-1", "--id", strings.Repeat("ab", 32), "--via", "wego-1")...)
	if exitCode(err) != 1 || !strings.Contains(out, "status:          absent") || !strings.Contains(out, "via hub:") {
		t.Fatalf("verify --via of an unknown id: exit %d %v\n%s", exitCode(err), err, out)
	}

	// Forwarded: Seoul sends the attestation to Bucheon through the hub wego-1 (marked above), the
	// operator flushes both paths. `verify` without --via then answers from Bucheon's forwarded record,
	// bound to its client of the hub, and says so.
	if _, err := admin.Send(context.Background(), &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, AttestationId: id, DestinationChainId: "bucheon-1",
		ViaChainId: "wego-1"}); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "", append(h, "tx", "flush", "seoul-wego")...)
	mustCLI(t, "", append(h, "tx", "flush", "bucheon-wego")...)
	direct := append(h, "verify", "--chain", "bucheon-1", "--origin", "seoul-1", "--id", id)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		o, err := cli(t, "", direct...)
		out = o
		if exitCode(err) == 0 {
			break
		}
		// Until Bucheon's verified header covers the record: absent, nothing else.
		if exitCode(err) != 1 || !strings.Contains(out, "status:          absent") || time.Now().After(deadline) {
			t.Fatalf("verify of the forwarded record: exit %d %v\n%s", exitCode(err), err, out)
		}
	}
	for _, want := range []string{"status:          valid", "forwarded via:   wego-1 (the record's route: seoul-1 → wego-1 → bucheon-1)",
		"forwarded via wego-1 (the registry names " + bucheonOfHub + " for the hub wego-1)", "hub's client:    " + hubOfSeoul + " of seoul-1 on wego-1",
		"from the issuing city's own record"} {
		if !strings.Contains(out, want) {
			t.Fatalf("verify of the forwarded record must show %q:\n%s", want, out)
		}
	}
	t.Logf("cityrelay verify of the forwarded record:\n%s", out)
}
