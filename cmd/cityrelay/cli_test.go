package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// cli runs the cityrelay command line in-process with the given stdin and returns its output.
func cli(t testing.TB, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if err != nil {
		t.Logf("cityrelay %s: stderr:\n%s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

func mustCLI(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, err := cli(t, stdin, args...)
	if err != nil {
		t.Fatalf("cityrelay %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exitError); ok {
		return ee.code
	}
	return 1
}

// TestOperatorFlow sets a path up from the CLI the way an operator does, then verifies an attestation
// across cities: valid, revoked, absent, and refused when the RPC node lies about the proof.
func TestOperatorFlow(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	oh := operatorHome(t, []*devnet.Chain{seoul, bucheon}, testnet.HomeOptions{Restored: func(c *devnet.Chain, out string) {
		if !strings.Contains(out, c.Relayer.Address) {
			t.Fatalf("restored key has another address: %s (want %s)", out, c.Relayer.Address)
		}
	}})
	home, h := oh.Dir, oh.Flag
	if _, err := cli(t, "", append(h, "config", "init")...); err == nil {
		t.Fatal("config init overwrote an existing config")
	}
	mustCLI(t, "", append(h, "paths", "new", "seoul-bucheon", "--src", "seoul-1", "--dst", "bucheon-1")...)
	mustCLI(t, "", append(h, "config", "validate")...)

	// Without a trust root the light clients refuse to start: the operator must choose.
	if out, err := cli(t, "", append(h, "tx", "link", "seoul-bucheon")...); err == nil || !strings.Contains(err.Error(), "trust") {
		t.Fatalf("link without a trust root: %v\n%s", err, out)
	}
	// A did channel needs each city's registry to recognise the other's client: link creates the
	// clients and the connection, then stops and names the admin command with the client it made.
	out, err := cli(t, "", append(h, "tx", "link", "seoul-bucheon", "--trust-latest")...)
	if err == nil || !strings.Contains(err.Error(), "citychaind tx did register-city seoul-1 07-tendermint-0 --from <registry-admin> --chain-id bucheon-1") {
		t.Fatalf("link before registration must stop and name the admin command: %v\n%s", err, out)
	}
	testnet.RegisterPath(t, net, oh.Config().Paths["seoul-bucheon"], "seoul-bucheon")
	out = mustCLI(t, "", append(h, "tx", "link", "seoul-bucheon")...)
	if !strings.Contains(out, "channel open confirm") || !strings.Contains(out, "linked") || strings.Contains(out, "create client") {
		t.Fatalf("link output:\n%s", out)
	}
	cfg, err := config.Load(filepath.Join(home, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	pc := cfg.Paths["seoul-bucheon"]
	if pc.Src.ClientID == "" || pc.Src.ConnectionID == "" || pc.Src.ChannelID == "" || pc.Dst.ChannelID == "" {
		t.Fatalf("ids not written back: %+v", pc)
	}
	// A second link reopens the light stores (no --trust-latest) and changes nothing.
	out = mustCLI(t, "", append(h, "tx", "link", "seoul-bucheon")...)
	if strings.Contains(out, "create client") || strings.Contains(out, " open ") {
		t.Fatalf("rerun of a linked path did something:\n%s", out)
	}
	out = mustCLI(t, "", append(h, "query", "channels", "seoul-bucheon")...)
	if strings.Count(out, "STATE_OPEN") != 2 {
		t.Fatalf("channels:\n%s", out)
	}
	mustCLI(t, "", append(h, "tx", "update-clients", "seoul-bucheon")...)

	// Issue an attestation in Seoul, send it to Bucheon and relay it.
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{3}, 32)
	sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "residency-card", digest, now-10, now+3600, 1)
	sig, _ := seoul.Issuer.Sign(sb)
	id := didtypes.AttestationID(sb)
	ctx := context.Background()
	res, err := admin.Send(ctx, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
		SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 10, ValidUntil: now + 3600, IssuerSeq: 1, Signature: sig},
		&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: pc.Src.ChannelID, AttestationId: id})
	if err != nil {
		t.Fatal(err)
	}
	// The operator relays what is pending now, without the daemon: the packet, then its acknowledgement.
	relay := func(res *cosmos.TxResult) {
		t.Helper()
		out := mustCLI(t, "", append(h, "tx", "flush", "seoul-bucheon")...)
		if !strings.Contains(out, "seoul-1 -> bucheon-1: 1 packets pending, 1 received; 1 acknowledgements pending, 1 acknowledged") {
			t.Fatalf("flush of tx %s:\n%s", res.Hash, out)
		}
	}
	relay(res)
	verifyArgs := append(h, "verify", "--chain", "bucheon-1", "--origin", "seoul-1", "--id", id)
	out, err = cli(t, "", verifyArgs...)
	if exitCode(err) != 0 || !strings.Contains(out, "status:          valid") || !strings.Contains(out, seoul.Citizen.DID) {
		t.Fatalf("verify valid: exit %d %v\n%s", exitCode(err), err, out)
	}
	if !strings.Contains(out, "arrived on:      did/"+pc.Dst.ChannelID+" over "+pc.Dst.ConnectionID+", client "+pc.Dst.ClientID+" (the registry names "+pc.Dst.ClientID+" for seoul-1)") {
		t.Fatalf("verify must show the channel, connection and client it proved:\n%s", out)
	}
	if !strings.Contains(out, "status proven:   valid at seoul-1 height ") || !strings.Contains(out, "from the issuing city's own record") {
		t.Fatalf("verify must show where it proved the status (Seoul's own record, at a Seoul height):\n%s", out)
	}
	// Asked for the relayed record only: how recent bucheon-1's state of seoul-1 is.
	if out, err := cli(t, "", append(verifyArgs, "--relayed-only")...); exitCode(err) != 0 || !strings.Contains(out, "origin state of: ") ||
		!strings.Contains(out, "relayed record only") {
		t.Fatalf("verify --relayed-only must show how recent bucheon-1's state of seoul-1 is: exit %d %v\n%s", exitCode(err), err, out)
	}
	out, err = cli(t, "", append(verifyArgs, "--json")...)
	var js map[string]any
	if exitCode(err) != 0 || json.Unmarshal([]byte(out), &js) != nil || js["status"] != "valid" || js["header_time"] == nil || js["client"] != pc.Dst.ClientID {
		t.Fatalf("verify --json: %v\n%s", err, out)
	}
	if asOf, _ := js["origin_state_as_of"].(string); asOf == "" {
		t.Fatalf("verify --json must show how recent bucheon-1's state of seoul-1 is:\n%s", out)
	}

	// Revoke in Seoul and relay the revocation: verify now exits 1.
	rsig, _ := seoul.Issuer.Sign(didtypes.RevocationSignBytes("seoul-1", id, seoul.Issuer.DID, "key-1", didtypes.ATTESTATION_STATUS_REVOKED, 2))
	res, err = admin.Send(ctx, &didtypes.MsgSetAttestationStatus{Submitter: seoul.Admin.Address, AttestationId: id, IssuerMethod: "key-1",
		NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: 2, Signature: rsig},
		&didtypes.MsgSendRevocation{Sender: seoul.Admin.Address, SourceChannel: pc.Src.ChannelID, AttestationId: id})
	if err != nil {
		t.Fatal(err)
	}
	relay(res)
	out, err = cli(t, "", verifyArgs...)
	if exitCode(err) != 1 || !strings.Contains(out, "revoked") {
		t.Fatalf("verify revoked: exit %d\n%s", exitCode(err), out)
	}
	// Absent, with the absence proven: exit 1.
	out, err = cli(t, "", append(h, "verify", "--chain", "bucheon-1", "--origin", "seoul-1", "--id", strings.Repeat("ab", 32))...)
	if exitCode(err) != 1 || !strings.Contains(out, "absent") {
		t.Fatalf("verify absent: exit %d\n%s", exitCode(err), out)
	}
	// Could not verify: exit 2 with a reason.
	for _, args := range [][]string{
		{"verify", "--chain", "gwangju-1", "--origin", "seoul-1", "--id", id},           // unknown chain
		{"verify", "--chain", "bucheon-1", "--origin", "seoul-1", "--id", "zz-not-hex"}, // malformed id
	} {
		if _, err := cli(t, "", append(h, args...)...); exitCode(err) != 2 || err.Error() == "" {
			t.Fatalf("verify %v: exit %d %v", args, exitCode(err), err)
		}
	}

	// Bucheon's registry stops recognising seoul-1: what came over its client is not valid any more.
	rh, err := bucheon.RemoveCity(ctx, "seoul-1")
	if err == nil {
		err = bucheon.WaitHeight(ctx, rh+1)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err = cli(t, "", append(h, "verify", "--chain", "bucheon-1", "--origin", "seoul-1", "--id", id)...)
	if exitCode(err) != 1 || !strings.Contains(out, "status:          origin-not-recognised") || !strings.Contains(out, "does not recognise seoul-1") {
		t.Fatalf("verify of a removed city's record: exit %d %v\n%s", exitCode(err), err, out)
	}
	if _, err := bucheon.RegisterCity(ctx, "seoul-1", pc.Dst.ClientID); err != nil {
		t.Fatal(err)
	}

	// A node that freezes its answers at an old height: verify refuses to answer from a stale view
	// (exit 2), it does not repeat what was true then.
	freeze, _, err := devnet.FreezingProxy(ctx, bucheon.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	frozen := httptest.NewServer(freeze)
	defer frozen.Close()
	cfg, _ = config.Load(filepath.Join(home, "config.toml"))
	cfg.Verify.MaxHeaderAge = config.Duration{Duration: 3 * time.Second}
	cfg.Chains["bucheon-1"].RPC = []string{frozen.URL}
	if err := cfg.Save(filepath.Join(home, "config.toml")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	out, err = cli(t, "", verifyArgs...)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "old (max 3s)") {
		t.Fatalf("verify through a frozen node: exit %d %v\n%s", exitCode(err), err, out)
	}
	cfg.Verify.MaxHeaderAge = config.Duration{Duration: time.Minute}
	cfg.Chains["bucheon-1"].RPC = []string{bucheon.RPCAddr}
	if err := cfg.Save(filepath.Join(home, "config.toml")); err != nil {
		t.Fatal(err)
	}

	// A lying RPC node: the proof no longer matches the app hash the light client verified.
	liar := httptest.NewServer(tamperingProxy(t, bucheon.RPCAddr))
	defer liar.Close()
	cfg, _ = config.Load(filepath.Join(home, "config.toml"))
	cfg.Chains["bucheon-1"].RPC = []string{liar.URL}
	cfg.Chains["bucheon-1"].GRPC = "" // every query through the lying RPC
	if err := cfg.Save(filepath.Join(home, "config.toml")); err != nil {
		t.Fatal(err)
	}
	out, err = cli(t, "", verifyArgs...)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "proof") {
		t.Fatalf("verify through a lying node: exit %d %v\n%s", exitCode(err), err, out)
	}

	// An unreachable RPC is a clear error after bounded retries, not a hang.
	cfg.Chains["bucheon-1"].RPC = []string{"http://127.0.0.1:1"}
	_ = cfg.Save(filepath.Join(home, "config.toml"))
	start := time.Now()
	_, err = cli(t, "", verifyArgs...)
	if exitCode(err) != 2 || time.Since(start) > time.Minute {
		t.Fatalf("verify with an unreachable RPC: exit %d after %s: %v", exitCode(err), time.Since(start), err)
	}
}

// operatorHome is a relayer home set up through the in-process CLI as an operator does for a devnet
// (testnet.OperatorHome).
func operatorHome(tb testing.TB, chains []*devnet.Chain, o testnet.HomeOptions) *testnet.Home {
	tb.Helper()
	return testnet.OperatorHome(tb, func(stdin string, args ...string) (string, error) { return cli(tb, stdin, args...) }, chains, o)
}

// tamperingProxy forwards to a real node but flips a byte of every abci_query value: a node lying
// about state. Headers pass through untouched, so the light client still verifies them.
func tamperingProxy(t *testing.T, target string) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, u.String()+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if bytes.Contains(body, []byte("abci_query")) || strings.Contains(r.URL.Path, "abci_query") {
			out = flipValue(out)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(out)
	})
}

func flipValue(bz []byte) []byte {
	var msg map[string]any
	if json.Unmarshal(bz, &msg) != nil {
		return bz
	}
	res, _ := msg["result"].(map[string]any)
	resp, _ := res["response"].(map[string]any)
	v, _ := resp["value"].(string)
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(raw) == 0 {
		return bz
	}
	raw[len(raw)-1] ^= 0x01
	resp["value"] = base64.StdEncoding.EncodeToString(raw)
	out, _ := json.Marshal(msg)
	return out
}
