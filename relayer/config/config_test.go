package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/relayer/config"
)

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "config.example.toml"))
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	if len(cfg.Chains) != 2 || cfg.Paths["seoul-bucheon"].Src.Chain != "seoul-1" {
		t.Fatalf("unexpected example: %+v", cfg)
	}
	if cfg.Chains["seoul-1"].TrustingPeriod.Duration != 336*time.Hour || cfg.Relay.BatchMaxWait.Duration != 500*time.Millisecond {
		t.Fatal("durations not decoded")
	}
}

const good = `[global]
log_level = "info"

[chains.seoul-1]
rpc = ["http://127.0.0.1:26657"]
gas_price = "0.0025ucity"
trusting_period = "336h"

[chains.bucheon-1]
rpc = ["http://127.0.0.1:26757"]
gas_price = "0.0025ucity"
trusting_period = "336h"

[paths.p]
[paths.p.src]
chain = "seoul-1"
[paths.p.dst]
chain = "bucheon-1"
`

func TestDefaults(t *testing.T) {
	cfg, err := config.Parse("config.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Chains["seoul-1"]
	if c.KeyringBackend != "file" || c.GasAdjustment != 1.05 || c.KeyName != "relayer" || c.AccountPrefix != "city" {
		t.Fatalf("chain defaults: %+v", c)
	}
	p := cfg.Paths["p"]
	if p.Src.PortID != "did" || p.Version != "cityrelay-did-1" || p.Order != "unordered" {
		t.Fatalf("path defaults: %+v", p)
	}
	if cfg.Relay.StatusRecheck.Duration != 10*time.Minute {
		t.Fatalf("relay.status_recheck default: %s", cfg.Relay.StatusRecheck.Duration)
	}
	if cfg.Verify.MaxPerClient != config.DefaultVerificationsPerClient || cfg.Metrics.ServiceTypes != nil {
		t.Fatalf("verify.max_per_client %d, metrics.service_types %v: want the defaults", cfg.Verify.MaxPerClient, cfg.Metrics.ServiceTypes)
	}
	custom, err := config.Parse("config.toml", []byte(good+"\n[metrics]\nservice_types = [\"mileage.transfer\", \"bus.pass\"]\n[verify]\nmax_per_client = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(custom.Metrics.ServiceTypes) != 2 || custom.Verify.MaxPerClient != 0 {
		t.Fatalf("metrics.service_types %v, verify.max_per_client %d", custom.Metrics.ServiceTypes, custom.Verify.MaxPerClient)
	}
	if !cfg.NATS.Embedded || cfg.Metrics.Listen != "127.0.0.1:9464" {
		t.Fatalf("global defaults: %+v %+v", cfg.NATS, cfg.Metrics)
	}
}

func TestMalformedConfigNamesKeyAndLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(string) string
		key  string
		line int
	}{
		// A typo in a key is refused, not ignored.
		{"unknown key", func(s string) string {
			return strings.Replace(s, "gas_price = \"0.0025ucity\"\ntrusting_period = \"336h\"\n\n[chains.bucheon-1]", "gas_prise = \"0.0025ucity\"\ntrusting_period = \"336h\"\n\n[chains.bucheon-1]", 1)
		}, "chains.seoul-1.gas_prise", 6},
		{"bad duration", func(s string) string {
			return strings.Replace(s, `trusting_period = "336h"`, `trusting_period = "two weeks"`, 1)
		}, "chains.seoul-1.trusting_period", 7},
		{"bad coin", func(s string) string {
			return strings.Replace(s, `gas_price = "0.0025ucity"`, `gas_price = "cheap"`, 1)
		}, "chains.seoul-1.gas_price", 6},
		{"path to a missing chain", func(s string) string { return strings.Replace(s, `chain = "bucheon-1"`, `chain = "gwangju-1"`, 1) }, "paths.p.dst.chain", 18},
		{"test keyring outside a devnet", func(s string) string {
			return strings.Replace(s, `rpc = ["http://127.0.0.1:26757"]`, "rpc = [\"http://127.0.0.1:26757\"]\nkeyring_backend = \"test\"", 1)
		}, "chains.bucheon-1.keyring_backend", 11},
		{"bad trust hash", func(s string) string {
			return strings.Replace(s, `rpc = ["http://127.0.0.1:26657"]`, "rpc = [\"http://127.0.0.1:26657\"]\ntrust_height = 5\ntrust_hash = \"xyz\"", 1)
		}, "chains.seoul-1.trust_hash", 7},
		{"metrics on a public address", func(s string) string { return s + "\n[metrics]\nlisten = \"0.0.0.0:9464\"\n" }, "metrics.listen", 21},
		{"in_flight out of range", func(s string) string { return s + "\n[relay]\nin_flight = 0\n" }, "relay.in_flight", 21},
		{"stream replicas out of range", func(s string) string { return s + "\n[nats]\nstream_replicas = 7\n" }, "nats.stream_replicas", 21},
		{"cluster beyond loopback without TLS", func(s string) string {
			return s + "\n[nats]\nembedded = false\nurl = \"nats://10.0.0.5:4222\"\ncreds_file = \"/etc/cityrelay/nats.creds\"\n"
		}, "nats.url", 22},
		{"cluster beyond loopback without credentials", func(s string) string {
			return s + "\n[nats]\nembedded = false\nurl = \"tls://nats-1.city.example:4222\"\n"
		}, "nats.url", 22},
		{"no max header age", func(s string) string { return s + "\n[verify]\nmax_header_age = \"0s\"\n" }, "verify.max_header_age", 21},
		{"negative verification budget", func(s string) string { return s + "\n[verify]\nmax_per_second = -1\n" }, "verify.max_per_second", 21},
		{"negative per-client share", func(s string) string { return s + "\n[verify]\nmax_per_client = -1\n" }, "verify.max_per_client", 21},
		{"too many service types", func(s string) string {
			return s + "\n[metrics]\nservice_types = [" + strings.Repeat("\"a.b\",", 32) + "\"c.d\"]\n"
		}, "metrics.service_types", 21},
		{"service type other", func(s string) string { return s + "\n[metrics]\nservice_types = [\"other\"]\n" }, "metrics.service_types", 21},
		{"service type with a space", func(s string) string { return s + "\n[metrics]\nservice_types = [\"parking permit\"]\n" }, "metrics.service_types", 21},
		{"service type repeated", func(s string) string {
			return s + "\n[metrics]\nservice_types = [\"parking.permit\", \"parking.permit\"]\n"
		}, "metrics.service_types", 21},
		{"max deliveries out of range", func(s string) string { return s + "\n[relay]\nmax_deliveries = 0\n" }, "relay.max_deliveries", 21},
		{"status recheck off", func(s string) string { return s + "\n[relay]\nstatus_recheck = \"0s\"\n" }, "relay.status_recheck", 21},
		{"status recheck past a day", func(s string) string { return s + "\n[relay]\nstatus_recheck = \"48h\"\n" }, "relay.status_recheck", 21},
		// A key that is missing is reported at its table's line.
		{"evm city without a chain id", func(s string) string {
			return s + "\n[evm_cities.gimpo-evm]\nrpc = \"http://127.0.0.1:8545\"\nregistry = \"0x00000000000000000000000000000000000000aa\"\ntrusting_period = \"24h\"\n"
		}, "evm_cities.gimpo-evm.evm_chain_id", 20},
		{"evm city with a bad registry", func(s string) string {
			return s + "\n[evm_cities.gimpo-evm]\nevm_chain_id = 7001\nrpc = \"http://127.0.0.1:8545\"\nregistry = \"0x12\"\ntrusting_period = \"24h\"\n"
		}, "evm_cities.gimpo-evm.registry", 23},
		{"evm city delivering to an unknown chain", func(s string) string {
			return s + "\n[evm_cities.gimpo-evm]\nevm_chain_id = 7001\nrpc = \"http://127.0.0.1:8545\"\nregistry = \"0x00000000000000000000000000000000000000aa\"\ntrusting_period = \"24h\"\n[[evm_cities.gimpo-evm.deliver]]\nchain = \"gwangju-1\"\n"
		}, "evm_cities.gimpo-evm.deliver.chain", 26},
		{"evm city trust hash without height", func(s string) string {
			return s + "\n[evm_cities.gimpo-evm]\nevm_chain_id = 7001\nrpc = \"http://127.0.0.1:8545\"\nregistry = \"0x00000000000000000000000000000000000000aa\"\ntrusting_period = \"24h\"\ntrust_hash = \"0x" + strings.Repeat("ab", 32) + "\"\n[[evm_cities.gimpo-evm.deliver]]\nchain = \"bucheon-1\"\n"
		}, "evm_cities.gimpo-evm.trust_height", 20},
		{"wrong type", func(s string) string { return strings.Replace(s, `log_level = "info"`, `log_level = 3`, 1) }, "global.log_level", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("config.toml", []byte(tc.edit(good)))
			var fe *config.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a FieldError, got %v", err)
			}
			if fe.Key != tc.key || fe.Line != tc.line {
				t.Fatalf("error names %s at line %d, want %s at line %d: %v", fe.Key, fe.Line, tc.key, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.key) || !strings.HasPrefix(err.Error(), "config.toml:") {
				t.Fatalf("message %q must name the file, line and key", err)
			}
		})
	}
}

func TestNATSDefaults(t *testing.T) {
	cfg, err := config.Parse("config.toml", []byte(good+"\n[nats]\nembedded = false\nurl = \"tls://nats-1.city.example:4222,tls://nats-2.city.example:4222\"\ncreds_file = \"/etc/c.creds\"\n"))
	if err != nil {
		t.Fatalf("a TLS cluster with credentials: %v", err)
	}
	// With a url, 0 replicas: what the server supports, asked at start (packets.ChooseReplicas).
	if cfg.NATS.Replicas() != 0 {
		t.Fatalf("a remote server defaults to 0 replicas (ask the server), got %d", cfg.NATS.Replicas())
	}
	cfg, err = config.Parse("config.toml", []byte(good+"\n[nats]\nembedded = false\nurl = \"nats://127.0.0.1:4222\"\nstream_replicas = 3\n"))
	if err != nil || cfg.NATS.Replicas() != 3 {
		t.Fatalf("a loopback cluster needs neither TLS nor credentials: %v", err)
	}
	if def, _ := config.Parse("config.toml", []byte(good)); def.NATS.Replicas() != 1 || def.NATS.EmbeddedStore("/h") != "/h/nats" {
		t.Fatalf("embedded defaults: %d replicas, store %s", def.NATS.Replicas(), def.NATS.EmbeddedStore("/h"))
	}
}

func TestSaveRoundTrip(t *testing.T) {
	cfg, err := config.Parse("config.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Paths["p"].Src.ClientID = "07-tendermint-0"
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := cfg.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := config.Load(path)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if back.Paths["p"].Src.ClientID != "07-tendermint-0" || back.Chains["seoul-1"].TrustingPeriod.Duration != 336*time.Hour {
		t.Fatalf("round trip lost data: %+v", back.Paths["p"])
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", st.Mode().Perm())
	}
}
