package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/chains/evmdevnet"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light/qbft"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestEvmCityOperatorFlow: an operator adds an EVM city to the config with a pinned trust root,
// creates its city-qbft client on Bucheon from the CLI, Bucheon's admin registers it, `cityrelay start`
// relays the city's registry, and the daemon's verification on Bucheon says valid, then revoked.
func TestEvmCityOperatorFlow(t *testing.T) {
	ctx := context.Background()
	bin := testnet.Build(t, ".")
	net := testnet.Chains(t, "bucheon-1")
	bucheon := net.Chain("bucheon-1")
	chain, city := testnet.EVMCity(t, evmdevnet.Config{ChainID: 7001, Validators: 4, Seed: "gimpo-evm"}, "gimpo-evm", "residency-card")

	home, h := devnetHome(t, []*devnet.Chain{bucheon})

	// The trust root an operator takes out of band: a block height and its QBFT hash.
	raw, err := chain.RawHeader(chain.Height())
	if err != nil {
		t.Fatal(err)
	}
	head, err := qbft.ParseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := head.Hash()
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(home, "config.toml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Global.LogFormat = "json"
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.EvmCities = map[string]*config.EvmCity{"gimpo-evm": {EvmChainID: 7001, RPC: chain.RPCURL(), Registry: city.Registry.Hex(),
		TrustingPeriod: config.Duration{Duration: 24 * time.Hour}, TrustHeight: head.Number().Uint64(), TrustHash: hash.Hex(),
		Deliver: []config.EvmDelivery{{Chain: "bucheon-1"}}}}
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	// A wrong trust hash is refused before anything is created.
	cfg.EvmCities["gimpo-evm"].TrustHash = strings.Repeat("ab", 32)
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, "", append(h, "tx", "evm-client", "gimpo-evm", "bucheon-1")...); err == nil || !strings.Contains(err.Error(), "trust root") {
		t.Fatalf("a wrong trust hash: %v\n%s", err, out)
	}
	cfg.EvmCities["gimpo-evm"].TrustHash = hash.Hex()
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}

	out := mustCLI(t, "", append(h, "tx", "evm-client", "gimpo-evm", "bucheon-1")...)
	clientID := regexp.MustCompile(`client (city-qbft-\d+) of gimpo-evm created on bucheon-1`).FindStringSubmatch(out)
	if clientID == nil {
		t.Fatalf("evm-client output:\n%s", out)
	}
	if cfg, err = config.Load(cfgPath); err != nil || cfg.EvmCities["gimpo-evm"].Deliver[0].ClientID != clientID[1] {
		t.Fatalf("client id not saved in the config: %v", err)
	}
	regHeight, err := bucheon.RegisterCity(ctx, "gimpo-evm", clientID[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := bucheon.WaitHeight(ctx, regHeight+1); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(home, "daemon.log")
	startDaemon(t, bin, home, logPath, "--trust-latest")
	waitLog(t, logPath, "relayer started", 0)

	att, err := city.Issue("did:city:gimpo-evm:lee-seojun", "residency-card", bytes.Repeat([]byte{0x5e}, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// While the daemon runs it owns the light client stores: the CLI says so, and the daemon answers.
	verifyArgs := append(h, "verify", "--chain", "bucheon-1", "--origin", "gimpo-evm", "--id", contracts.IDHex(att.ID))
	if out, err := cli(t, "", verifyArgs...); exitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("verify beside a running daemon: exit %d %v\n%s", exitCode(err), err, out)
	}
	url := "http://" + lastField(t, logPath, "metrics, health and verification on http", "addr") + "/v1/attestations/bucheon-1/gimpo-evm/" + contracts.IDHex(att.ID)
	waitVerify := func(want string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var res map[string]any
			body := httpGet(t, url)
			if json.Unmarshal([]byte(body), &res) == nil && res["status"] == want {
				return res
			}
			if time.Now().After(deadline) {
				t.Fatalf("verification: want %s, got %s", want, body)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	res := waitVerify("valid")
	if res["client"] != clientID[1] || res["registered_client"] != clientID[1] || res["evm_proof_height"] == nil {
		t.Fatalf("the verification must name the EVM proof's client, the registry entry and the EVM block: %v", res)
	}
	if _, err := city.ChangeStatus(att.ID, contracts.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	waitVerify("revoked")
	waitLog(t, logPath, "evm attestation delivered", 1)

	// The console's overview shows the EVM city: its verified QBFT header and the delivery to
	// Bucheon through the registered client, with both attestation records (issued, revoked) counted.
	overview := strings.TrimSuffix(url, "/v1/attestations/bucheon-1/gimpo-evm/"+contracts.IDHex(att.ID)) + "/console/api/overview"
	var o struct {
		EvmCities []struct {
			City           string `json:"city"`
			VerifiedHeight uint64 `json:"verified_height"`
			Deliveries     []struct {
				Chain   string  `json:"chain"`
				Client  string  `json:"client"`
				Relayed float64 `json:"relayed"`
			} `json:"deliveries"`
		} `json:"evm_cities"`
	}
	if body := httpGet(t, overview); json.Unmarshal([]byte(body), &o) != nil || len(o.EvmCities) != 1 || o.EvmCities[0].City != "gimpo-evm" ||
		o.EvmCities[0].VerifiedHeight == 0 || len(o.EvmCities[0].Deliveries) != 1 || o.EvmCities[0].Deliveries[0].Chain != "bucheon-1" ||
		o.EvmCities[0].Deliveries[0].Client != clientID[1] || o.EvmCities[0].Deliveries[0].Relayed < 2 {
		t.Fatalf("overview of the EVM city: %s", body)
	}
}
