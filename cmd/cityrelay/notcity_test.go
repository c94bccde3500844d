package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestVerifyOnAChainThatIsNotACity (issue 18): a relayer may serve an IBC chain that is not a city
// chain (no did module), here linked to Seoul by an ICS-20 path. Verifying a credential there says what it is, not "node unreachable or
// stalled": the CLI exits 2 naming the chain, the HTTP endpoint answers 422, the console's card says
// "not a city chain".
func TestVerifyOnAChainThatIsNotACity(t *testing.T) {
	ctx := context.Background()
	net := testnet.ChainsWith(t, devnet.Options{ChainIDs: []string{"seoul-1", "a-1"}, NotCities: []string{"a-1"}})
	a := net.Chain("a-1")
	if err := a.WaitHeight(ctx, 4); err != nil { // proofs need a height above 1
		t.Fatal(err)
	}
	home, h := devnetHome(t, net.Chains)
	mustCLI(t, "", append(h, "paths", "new", "a-seoul", "--src", "a-1", "--dst", "seoul-1", "--src-port", "transfer", "--dst-port", "transfer", "--version", "ics20-1")...)
	mustCLI(t, "", append(h, "tx", "link", "a-seoul", "--trust-latest")...)

	id := strings.Repeat("ab", 32)
	out, err := cli(t, "", append(h, "verify", "--chain", "a-1", "--origin", "seoul-1", "--id", id)...)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "a-1 is not a city chain (it has no did module)") {
		t.Fatalf("verify on a chain without the did module: exit %d %v\n%s", exitCode(err), err, out)
	}

	cfgPath := filepath.Join(home, "config.toml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Global.LogFormat = "json"
	cfg.Metrics.Listen = "127.0.0.1:0"
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	bin := testnet.Build(t, ".")
	logPath := filepath.Join(home, "daemon.log")
	startDaemon(t, bin, home, logPath)
	waitLog(t, logPath, "relayer started", 0)
	base := "http://" + lastField(t, logPath, "metrics, health and verification on http", "addr")

	resp, err := http.Get(base + "/v1/attestations/a-1/seoul-1/" + id)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "a-1 is not a city chain") {
		t.Fatalf("GET /v1/attestations on a chain without the did module: %d %s", resp.StatusCode, body)
	}
	var card struct {
		Verdict, Explain string
	}
	if err := json.Unmarshal([]byte(httpGet(t, base+"/console/api/verify?chain=a-1&origin=seoul-1&id="+id)), &card); err != nil {
		t.Fatal(err)
	}
	if card.Verdict != "not a city chain" || !strings.Contains(card.Explain, "a-1 is not a city chain") {
		t.Fatalf("console card on a chain without the did module: %+v", card)
	}
}
