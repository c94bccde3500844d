package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestHubOnboardPrintsTheFlow: for a member with no path yet, onboard prints the whole operator flow
// (path, link, the hub's registry entry, the member's registry entry and hub role, link again, the
// first forwarded attestation); once the config knows the linked path, the commands carry its clients
// and channel.
func TestHubOnboardPrintsTheFlow(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	mustCLI(t, "", "--home", home, "config", "init")
	for _, c := range []string{"suwon-1", "wego-1", "bucheon-1"} {
		mustCLI(t, "", "--home", home, "chains", "add", c, "--rpc", "http://127.0.0.1:1", "--grpc", "127.0.0.1:2", "--devnet", "--keyring-backend", "test", "--gas-price", "0.0025ucity",
			"--trust-height", "1", "--trust-hash", strings.Repeat("ab", 32))
	}
	mustCLI(t, "", "--home", home, "paths", "new", "wego-bucheon", "--src", "wego-1", "--dst", "bucheon-1")

	out := mustCLI(t, "", "--home", home, "hub", "onboard", "suwon-1", "--hub", "wego-1")
	t.Logf("\n%s", out)
	for _, want := range []string{
		"cityrelay paths new suwon-1-wego-1 --src suwon-1 --dst wego-1",
		"cityrelay tx link suwon-1-wego-1",
		"citychaind tx did register-city suwon-1 <client of suwon-1 on wego-1, printed by link> --from <association-admin> --chain-id wego-1",
		"citychaind tx did register-city wego-1 <client of wego-1 on suwon-1, printed by link> --from <registry-admin> --chain-id suwon-1",
		"citychaind tx did register-hub wego-1 --from <registry-admin> --chain-id suwon-1",
		"Link again to open the did channel",
		"citychaind tx did send-attestation <ATTESTATION-ID> --to bucheon-1 --via wego-1 --from <sender> --chain-id suwon-1",
		`"rejected at bucheon-1 via wego-1: <reason>"`,
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("onboard output lacks %q", want)
		}
	}

	// The linked path, as link saves it: the commands name its clients and channel.
	cfg, err := config.Load(filepath.Join(home, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Paths["suwon-wego"] = &config.Path{Src: config.PathEnd{Chain: "wego-1", PortID: "did", ClientID: "07-tendermint-7", ChannelID: "channel-7"},
		Dst: config.PathEnd{Chain: "suwon-1", PortID: "did", ClientID: "07-tendermint-0", ChannelID: "channel-0"}, Version: "cityrelay-did-1", Order: "unordered"}
	if err := cfg.Save(filepath.Join(home, "config.toml")); err != nil {
		t.Fatal(err)
	}
	out = mustCLI(t, "", "--home", home, "hub", "onboard", "suwon-1", "--hub", "wego-1", "--to", "incheon-1")
	for _, want := range []string{
		"citychaind tx did register-city suwon-1 07-tendermint-7 --from <association-admin> --chain-id wego-1",
		"citychaind tx did register-city wego-1 07-tendermint-0 --from <registry-admin> --chain-id suwon-1",
		"--to incheon-1 --via wego-1",
		"citychaind query did delivery channel-0 <SEQUENCE> --chain-id suwon-1",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("onboard output for a linked path lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "paths new") || strings.Contains(out, "Link again") {
		t.Fatalf("onboard repeats steps the config shows done:\n%s", out)
	}
	if _, err := cli(t, "", "--home", home, "hub", "onboard", "jeju-1", "--hub", "wego-1"); err == nil || !strings.Contains(err.Error(), "jeju-1 is not in the config") {
		t.Fatalf("onboard of an unknown chain: %v", err)
	}
}
