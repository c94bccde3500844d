// Package config is the relayer's configuration: a TOML file, typed, defaulted and validated once.
// Every error found while loading names the key and its line in the file.
package config

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/pelletier/go-toml/v2"

	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// Config is the whole relayer configuration.
type Config struct {
	Global  Global            `toml:"global"`
	NATS    NATS              `toml:"nats"`
	Metrics Metrics           `toml:"metrics"`
	Relay   Relay             `toml:"relay"`
	Verify  Verify            `toml:"verify"`
	Console Console           `toml:"console"`
	Chains  map[string]*Chain `toml:"chains"`
	Paths   map[string]*Path  `toml:"paths"`
	// EvmCities are EVM (QBFT) city chains whose registry contract's attestations are proven into
	// Cosmos cities, keyed by the city's chain id (the origin in its DIDs).
	EvmCities map[string]*EvmCity `toml:"evm_cities"`
}

// EvmCity is an EVM city chain the relayer follows with its QBFT light client.
type EvmCity struct {
	// EvmChainID is the chain's EIP-155 chain id (every node must serve it).
	EvmChainID uint64   `toml:"evm_chain_id"`
	RPC        string   `toml:"rpc"`
	Witnesses  []string `toml:"witnesses"`
	// Registry is the CityAttestationRegistry's address; RegistryCodeHash its runtime code hash
	// (default: the hash of the registry this relayer was built with as deployed on EvmChainID: its
	// code holds the chain id).
	Registry         string   `toml:"registry"`
	RegistryCodeHash string   `toml:"registry_code_hash"`
	TrustingPeriod   Duration `toml:"trusting_period"`
	// TrustHeight and TrustHash are the header the light client starts from (the QBFT on-chain hash:
	// seals excluded, round 0), checked out of band; without them a stored trusted header is required.
	TrustHeight uint64 `toml:"trust_height"`
	TrustHash   string `toml:"trust_hash"`
	// StartBlock is the first block scanned for registry events (default 1).
	StartBlock uint64 `toml:"start_block"`
	// Deliver lists the Cosmos cities the attestations go to, each with the city-qbft client there
	// (empty until `cityrelay tx evm-client` creates it; such a delivery is skipped).
	Deliver []EvmDelivery `toml:"deliver"`
}

// EvmDelivery is a Cosmos city an EVM city's attestations go to.
type EvmDelivery struct {
	Chain    string `toml:"chain"`
	ClientID string `toml:"client_id"`
}

// Global holds logging settings.
type Global struct {
	LogLevel  string `toml:"log_level"`  // debug|info|warn|error
	LogFormat string `toml:"log_format"` // json|console
}

// NATS says where the work queues live: an embedded server (default) or a NATS cluster.
type NATS struct {
	Embedded        bool     `toml:"embedded"`
	Listen          string   `toml:"listen"`
	StoreDir        string   `toml:"store_dir"`
	URL             string   `toml:"url"`
	CredsFile       string   `toml:"creds_file"`
	NKeyFile        string   `toml:"nkey_file"`
	User            string   `toml:"user"`
	PasswordEnv     string   `toml:"password_env"`
	TLSCA           string   `toml:"tls_ca"`
	TLSCert         string   `toml:"tls_cert"`
	TLSKey          string   `toml:"tls_key"`
	DuplicateWindow Duration `toml:"duplicate_window"`
	// StreamReplicas is how many copies of each stream and bucket a cluster keeps (0: what the server
	// supports, asked at start: 1 embedded or on a server without a cluster, 3 on a cluster of 3 or
	// more, never more than its servers). A value the server cannot hold is an error at start.
	// Existing streams are checked against it, never changed.
	StreamReplicas int `toml:"stream_replicas"`
}

// EmbeddedStore is the embedded server's store directory (nats.store_dir, default <home>/nats); its
// client token is kept there.
func (n NATS) EmbeddedStore(home string) string {
	if n.StoreDir != "" {
		return n.StoreDir
	}
	return filepath.Join(home, "nats")
}

// Replicas is nats.stream_replicas, or its default: 1 on the embedded server, and 0 with a url: what
// the server supports, which only the server can say (packets.ProbeCapacity, packets.ChooseReplicas).
func (n NATS) Replicas() int {
	switch {
	case n.StreamReplicas > 0:
		return n.StreamReplicas
	case n.Embedded:
		return 1
	default:
		return 0
	}
}

// Metrics configures the Prometheus and health endpoint.
type Metrics struct {
	Enabled     bool   `toml:"enabled"`
	Listen      string `toml:"listen"`
	AllowPublic bool   `toml:"allow_public"`
	// ServiceTypes are the service types packets_observed_total names in its class label; any other
	// type (the sender chooses it) is counted as service:other. Empty: mileage.transfer,
	// mvote.ballot, parking.permit, donation.record.
	ServiceTypes []string `toml:"service_types"`
}

// MaxServiceTypes bounds metrics.service_types (each is a label value, and so a series per path and kind).
const MaxServiceTypes = 32

// Console configures the web console served on the metrics listener (under /console/ and at /).
type Console struct {
	Enabled bool `toml:"enabled"`
	// AdminTokenEnv names the environment variable that holds the token of the console's admin actions
	// (re-queue a dead letter, change the log level). The token itself never goes in this file; with
	// no variable named, or an empty one, every admin action is refused.
	AdminTokenEnv string `toml:"admin_token_env"`
}

// Relay tunes batching and clearing.
type Relay struct {
	BatchMaxMsgs int      `toml:"batch_max_msgs"`
	BatchMaxWait Duration `toml:"batch_max_wait"`
	ClearOnStart bool     `toml:"clear_on_start"`
	ClearChunk   int      `toml:"clear_chunk"`
	// InFlight is how many relay txs per destination chain are built and waiting for their block at
	// once (the key's signer orders their sequences).
	InFlight int `toml:"in_flight"`
	// ClearInterval is how often pending work is looked for by query beside live relaying (0: only
	// at start, with clear_on_start).
	ClearInterval Duration `toml:"clear_interval"`
	// MaxDeliveries is how many times an item the chain refuses (or whose height is never verified)
	// is tried before it is dead-lettered with the reason.
	MaxDeliveries int `toml:"max_deliveries"`
	// RetryBackoff is the first retry delay of a failed item; each further one doubles (to 5 minutes).
	RetryBackoff Duration `toml:"retry_backoff"`
	// StatusRecheck is how often the status of every record of an EVM city on the chains it is
	// delivered to is proven again from the city's registry (a change the EVM node's logs withheld
	// reaches the chain within it).
	StatusRecheck Duration `toml:"status_recheck"`
	// CompleteHandshakes lets the daemon finish the channel handshakes others start over a linked
	// path's connection (OpenTry, OpenAck, OpenConfirm), for the channels the filters allow, and relay
	// the new channels; HandshakeInterval is how often it looks for them.
	CompleteHandshakes bool     `toml:"complete_handshakes"`
	HandshakeInterval  Duration `toml:"handshake_interval"`
}

// Verify configures `cityrelay verify` and the HTTP verification endpoint.
type Verify struct {
	// MaxHeaderAge is the oldest a verified header may be for verify to answer from it: a node that
	// freezes its answers must not make a credential revoked since look valid.
	MaxHeaderAge Duration `toml:"max_header_age"`
	// MaxOriginAge is the oldest the origin's verified header (or EVM block) may be when verify proves
	// the issuing city's own current status of a relayed attestation: a revocation counts as soon as
	// the origin commits it, whether or not a relayer carried it.
	MaxOriginAge Duration `toml:"max_origin_age"`
	// MaxPerSecond is the daemon's budget of verification requests a second (GET
	// /v1/attestations and the console's form); past it they are refused with 503 and Retry-After.
	// Each costs the chain's node a proven query and the daemon a proof check: the budget keeps
	// relaying ahead of a crowd of clerks. 0: no budget (only the concurrency bound).
	MaxPerSecond int `toml:"max_per_second"`
	// MaxPerClient is one client's share of it: verification requests a second from one remote
	// address (an IPv6 one by its /64), so one greedy caller cannot take the whole budget while the
	// others are refused. 0: no share (the budget alone). Behind a reverse proxy every client is the
	// proxy: set 0 there and limit per client at the proxy.
	MaxPerClient int `toml:"max_per_client"`
}

// Chain is one chain the relayer serves.
type Chain struct {
	RPC            []string `toml:"rpc"`
	GRPC           string   `toml:"grpc"`
	Witnesses      []string `toml:"witnesses"`
	AccountPrefix  string   `toml:"account_prefix"`
	KeyName        string   `toml:"key_name"`
	KeyringBackend string   `toml:"keyring_backend"` // file|test (test only on a devnet)
	Devnet         bool     `toml:"devnet"`
	GasPrice       string   `toml:"gas_price"`
	GasAdjustment  float64  `toml:"gas_adjustment"`
	MaxGas         uint64   `toml:"max_gas"`
	// GasPriceSource is where each tx's gas price comes from: auto (the chain's fee market where it
	// has one, else gas_price), config (gas_price), or one fee market (feemarket, osmosis, ethermint).
	GasPriceSource string `toml:"gas_price_source,omitempty"`
	// GasPriceMultiplier multiplies a fee market's price (default 1.1).
	GasPriceMultiplier float64 `toml:"gas_price_multiplier,omitempty"`
	// MaxGasPrice caps the gas price (default 10 × gas_price): a tx the chain asks more for is not sent.
	MaxGasPrice string `toml:"max_gas_price,omitempty"`
	// FeeGranter is the account whose x/feegrant allowance pays the relayer key's fees.
	FeeGranter string `toml:"fee_granter,omitempty"`
	// Memo is written in every relayer tx (Hermes's memo_prefix).
	Memo           string   `toml:"memo,omitempty"`
	TrustingPeriod Duration `toml:"trusting_period"`
	TrustHeight    int64    `toml:"trust_height"`
	TrustHash      string   `toml:"trust_hash"`
	// PacketFilter, Hermes's packet_filter for this chain's channel ends (policy + list, or
	// allow/deny patterns): an end it refuses is not relayed on any path, nor its handshake completed.
	PacketFilter *Filter `toml:"packet_filter,omitempty"`
	// MinFees is the default min_fees of the path ends on this chain (PathEnd.MinFees).
	MinFees string `toml:"min_fees,omitempty"`
	// Key defaults of `keys add|restore` on this chain (flags override them): the algorithm
	// (secp256k1, eth_secp256k1 for Ethermint-style chains), and the BIP-44 coin type or HD path.
	KeyAlgo  string  `toml:"key_algo,omitempty"`
	CoinType *uint32 `toml:"coin_type,omitempty"`
	HDPath   string  `toml:"hd_path,omitempty"`
}

// PathEnd is one end of a path.
type PathEnd struct {
	Chain        string `toml:"chain"`
	ClientID     string `toml:"client_id"`
	ConnectionID string `toml:"connection_id"`
	ChannelID    string `toml:"channel_id"`
	PortID       string `toml:"port_id"`
	// ExcludedSequences are the sequences of packets sent from this end's channel that are never
	// relayed (their recv, ack or timeout) by the daemon or by `cityrelay tx flush`, unless an operator
	// names them (`tx flush --sequences`, the admin clear): "5,9-12", or a list [5, "9-12"]. See
	// Excluded.
	ExcludedSequences any `toml:"excluded_sequences,omitempty"`
	// MinFees is the minimum ICS-29 recv fee of the packets sent from this end's channel when it is
	// fee-enabled (Hermes packet_filter.min_fees): "700ucity" or "700ucity,10uatom" (at least one
	// met). A packet below it is not relayed by the daemon (skipped, logged once, counted) unless an
	// operator names it (`tx flush --sequences`, the admin clear). Unset: the chain's min_fees.
	MinFees string `toml:"min_fees,omitempty"`
}

// Excluded is the set ExcludedSequences names (empty when unset); the error names the bad item.
func (e PathEnd) Excluded() (sequences.Set, error) {
	switch v := e.ExcludedSequences.(type) {
	case nil:
		return sequences.Set{}, nil
	case string:
		return sequences.Parse(v)
	case int64:
		return parseExcludedItems([]any{v})
	case []any:
		return parseExcludedItems(v)
	case []string:
		items := make([]any, len(v))
		for i, s := range v {
			items[i] = s
		}
		return parseExcludedItems(items)
	case []uint64:
		return sequences.List(v...), nil
	}
	return sequences.Set{}, fmt.Errorf("%w: want a string (\"5,9-12\") or a list of sequences and ranges ([5, \"9-12\"]), got %T", sequences.ErrSyntax, e.ExcludedSequences)
}

func parseExcludedItems(items []any) (sequences.Set, error) {
	var rs []sequences.Range
	for i, it := range items {
		var r sequences.Range
		var err error
		switch v := it.(type) {
		case int64:
			if v <= 0 {
				err = fmt.Errorf("%w: %d: sequences start at 1", sequences.ErrSyntax, v)
			}
			r = sequences.Range{Lo: uint64(v), Hi: uint64(v)}
		case string:
			r, err = sequences.ParseItem(v)
		default:
			err = fmt.Errorf("%w: %v: want a sequence or a range \"9-12\"", sequences.ErrSyntax, it)
		}
		if err != nil {
			return sequences.Set{}, fmt.Errorf("item %d: %w", i+1, err)
		}
		rs = append(rs, r)
	}
	return sequences.Of(rs...), nil
}

// Path links two chains.
type Path struct {
	Src     PathEnd `toml:"src"`
	Dst     PathEnd `toml:"dst"`
	Version string  `toml:"version"`
	Order   string  `toml:"order"` // unordered|ordered
	Filter  Filter  `toml:"filter"`
}

// Duration is a time.Duration written as "500ms", "336h".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 500ms, 30s, 336h)", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes a Go duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Defaults.
const (
	// DefaultMaxHeaderAge is verify.max_header_age when unset.
	DefaultMaxHeaderAge = 60 * time.Second
	// DefaultMaxOriginAge is verify.max_origin_age when unset.
	DefaultMaxOriginAge = 60 * time.Second
	// DefaultVerificationsPerSecond is verify.max_per_second when unset: with it, 200 clients leave
	// relaying at 93-96 % of its pace alone, against 67-82 % without a budget (BenchmarkVerifyUnderLoad,
	// 2 shared cores, chains in process; BENCHMARKS.md).
	DefaultVerificationsPerSecond = 100
	// DefaultVerificationsPerClient is verify.max_per_client when unset: a quarter of the default
	// budget, so a greedy client leaves three quarters to the others.
	DefaultVerificationsPerClient = 25
	DefaultPort                   = "did"
	DefaultVersion                = "cityrelay-did-1"
)

// Default returns a config with every default and no chains or paths.
func Default() *Config {
	return &Config{
		Global:  Global{LogLevel: "info", LogFormat: "console"},
		NATS:    NATS{Embedded: true, Listen: "127.0.0.1:-1", DuplicateWindow: Duration{10 * time.Minute}},
		Metrics: Metrics{Enabled: true, Listen: "127.0.0.1:9464"},
		Console: Console{Enabled: true},
		Relay: Relay{BatchMaxMsgs: 50, BatchMaxWait: Duration{500 * time.Millisecond}, ClearOnStart: true, ClearChunk: 100, InFlight: 3,
			ClearInterval: Duration{5 * time.Minute}, MaxDeliveries: 8, RetryBackoff: Duration{2 * time.Second},
			StatusRecheck: Duration{10 * time.Minute}, CompleteHandshakes: true, HandshakeInterval: Duration{10 * time.Second}},
		Verify: Verify{MaxHeaderAge: Duration{DefaultMaxHeaderAge}, MaxOriginAge: Duration{DefaultMaxOriginAge}, MaxPerSecond: DefaultVerificationsPerSecond,
			MaxPerClient: DefaultVerificationsPerClient},
		Chains: map[string]*Chain{},
		Paths:  map[string]*Path{},
	}
}

// ChainDefaults fills a chain's unset optional keys.
func (c *Chain) applyDefaults() {
	if c.AccountPrefix == "" {
		c.AccountPrefix = "city"
	}
	if c.KeyName == "" {
		c.KeyName = "relayer"
	}
	if c.KeyringBackend == "" {
		c.KeyringBackend = "file"
	}
	if c.GasAdjustment == 0 {
		c.GasAdjustment = 1.05 // as chains/cosmos.DefaultGasAdjustment
	}
	if c.MaxGas == 0 {
		c.MaxGas = 50_000_000
	}
}

func (p *Path) applyDefaults() {
	if p.Src.PortID == "" {
		p.Src.PortID = DefaultPort
	}
	if p.Dst.PortID == "" {
		p.Dst.PortID = DefaultPort
	}
	if p.Version == "" {
		p.Version = DefaultVersion
	}
	if p.Order == "" {
		p.Order = "unordered"
	}
}

// Load reads, defaults and validates the config at path.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(filepath.Base(path), raw)
}

// Parse decodes and validates a config; name is used in error messages.
func Parse(name string, raw []byte) (*Config, error) {
	cfg := Default()
	dec := toml.NewDecoder(bytes.NewReader(raw)).DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, decodeError(name, raw, err)
	}
	for _, c := range cfg.Chains {
		if c != nil {
			c.applyDefaults()
		}
	}
	for _, p := range cfg.Paths {
		if p != nil {
			p.applyDefaults()
		}
	}
	if err := cfg.validate(name, newLineIndex(raw)); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate checks a config built in code (no line numbers).
func (c *Config) Validate() error { return c.validate("config", newLineIndex(nil)) }

func decodeError(name string, raw []byte, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		e := strict.Errors[0]
		row, _ := e.Position()
		return &FieldError{File: name, Line: row, Key: strings.Join(e.Key(), "."), Err: ErrUnknownKey}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		if key == "" {
			key = newLineIndex(raw).keyAt(row)
		}
		return &FieldError{File: name, Line: row, Key: key, Err: errors.New(strings.TrimPrefix(de.Error(), "toml: "))}
	}
	return &FieldError{File: name, Err: err}
}

func (c *Config) validate(file string, lines lineIndex) error {
	fail := func(key string, format string, args ...any) error {
		return &FieldError{File: file, Line: lines.line(key), Key: key, Err: fmt.Errorf(format, args...)}
	}
	switch c.Global.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fail("global.log_level", "%q: use debug, info, warn or error", c.Global.LogLevel)
	}
	switch c.Global.LogFormat {
	case "json", "console":
	default:
		return fail("global.log_format", "%q: use json or console", c.Global.LogFormat)
	}
	if !c.NATS.Embedded && c.NATS.URL == "" {
		return fail("nats.url", "required when nats.embedded = false")
	}
	if r := c.NATS.StreamReplicas; r < 0 || r > 5 {
		return fail("nats.stream_replicas", "%d: must be between 1 and 5 (0: what the server supports: 1 without a cluster, 3 on a cluster of 3 or more)", r)
	}
	if !c.NATS.Embedded {
		if err := c.NATS.checkRemote(); err != nil {
			return fail("nats.url", "%v", err)
		}
	}
	if c.NATS.Embedded && !isLoopback(c.NATS.Listen) {
		return fail("nats.listen", "%q: the embedded server listens on loopback only", c.NATS.Listen)
	}
	if c.Metrics.Enabled && !c.Metrics.AllowPublic && !isLoopback(c.Metrics.Listen) {
		return fail("metrics.listen", "%q is not a loopback address; set metrics.allow_public = true to expose it", c.Metrics.Listen)
	}
	if len(c.Metrics.ServiceTypes) > MaxServiceTypes {
		return fail("metrics.service_types", "%d types, at most %d", len(c.Metrics.ServiceTypes), MaxServiceTypes)
	}
	for i, t := range c.Metrics.ServiceTypes {
		if t == "" || len(t) > 64 || strings.Trim(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || t == "other" {
			return fail("metrics.service_types", "%q: a service type is 1 to 64 characters of [A-Za-z0-9._-] and not \"other\"", t)
		}
		if slices.Contains(c.Metrics.ServiceTypes[:i], t) {
			return fail("metrics.service_types", "%q repeated", t)
		}
	}
	if e := c.Console.AdminTokenEnv; e != "" && !isEnvName(e) {
		return fail("console.admin_token_env", "%q is not an environment variable name (name the variable, never put the token here)", e)
	}
	if c.Relay.BatchMaxMsgs < 1 {
		return fail("relay.batch_max_msgs", "must be at least 1")
	}
	if c.Relay.InFlight < 1 || c.Relay.InFlight > 16 {
		return fail("relay.in_flight", "%d: must be between 1 and 16", c.Relay.InFlight)
	}
	if c.Relay.ClearInterval.Duration < 0 {
		return fail("relay.clear_interval", "%s: must not be negative (0: clear only at start)", c.Relay.ClearInterval.Duration)
	}
	if c.Relay.MaxDeliveries < 1 || c.Relay.MaxDeliveries > 100 {
		return fail("relay.max_deliveries", "%d: must be between 1 and 100", c.Relay.MaxDeliveries)
	}
	if c.Relay.RetryBackoff.Duration <= 0 {
		return fail("relay.retry_backoff", "%s: must be positive, e.g. \"2s\"", c.Relay.RetryBackoff.Duration)
	}
	if d := c.Relay.StatusRecheck.Duration; d < time.Second || d > 24*time.Hour {
		return fail("relay.status_recheck", "%s: must be between 1s and 24h (a status change the EVM node's logs withheld waits for it), e.g. \"10m\"", d)
	}
	if d := c.Relay.HandshakeInterval.Duration; d < time.Second || d > time.Hour {
		return fail("relay.handshake_interval", "%s: must be between 1s and 1h, e.g. \"10s\"", d)
	}
	if c.Verify.MaxHeaderAge.Duration <= 0 {
		return fail("verify.max_header_age", "%s: must be positive, e.g. \"60s\"", c.Verify.MaxHeaderAge.Duration)
	}
	if c.Verify.MaxOriginAge.Duration <= 0 {
		return fail("verify.max_origin_age", "%s: must be positive, e.g. \"60s\"", c.Verify.MaxOriginAge.Duration)
	}
	if c.Verify.MaxPerSecond < 0 {
		return fail("verify.max_per_second", "%d: must not be negative (0: no budget)", c.Verify.MaxPerSecond)
	}
	if c.Verify.MaxPerClient < 0 {
		return fail("verify.max_per_client", "%d: must not be negative (0: no per-client share)", c.Verify.MaxPerClient)
	}

	for _, id := range slices.Sorted(maps.Keys(c.Chains)) {
		ch := c.Chains[id]
		k := "chains." + id
		if ch == nil {
			return fail(k, "empty chain table")
		}
		if len(ch.RPC) == 0 {
			return fail(k+".rpc", "at least one RPC address is required")
		}
		if ch.GasPrice == "" {
			return fail(k+".gas_price", "required, e.g. \"0.0025ucity\"")
		}
		if _, err := sdk.ParseDecCoin(ch.GasPrice); err != nil {
			return fail(k+".gas_price", "invalid coin %q: %v", ch.GasPrice, err)
		}
		if ch.GasAdjustment < 1 {
			return fail(k+".gas_adjustment", "%v: must be at least 1", ch.GasAdjustment)
		}
		if err := validateFees(ch); err != nil {
			return fail(k+"."+err.key, "%s", err.msg)
		}
		switch ch.KeyringBackend {
		case "file":
		case "test":
			if !ch.Devnet {
				return fail(k+".keyring_backend", "the test keyring stores keys unencrypted: allowed only with devnet = true")
			}
		default:
			return fail(k+".keyring_backend", "%q: use file (or test on a devnet)", ch.KeyringBackend)
		}
		if err := validateKeyOptions(k, ch, fail); err != nil {
			return err
		}
		if ch.TrustingPeriod.Duration <= 0 {
			return fail(k+".trusting_period", "required, e.g. \"336h\" (two thirds of the chain's unbonding period)")
		}
		if ch.TrustHash != "" {
			b, err := hex.DecodeString(ch.TrustHash)
			if err != nil || len(b) != 32 {
				return fail(k+".trust_hash", "%q: want 64 hex characters (a block hash)", ch.TrustHash)
			}
			if ch.TrustHeight <= 0 {
				return fail(k+".trust_height", "required with trust_hash")
			}
		} else if ch.TrustHeight != 0 {
			return fail(k+".trust_hash", "required with trust_height")
		}
		if _, err := ParseMinFees(ch.MinFees); err != nil {
			return fail(k+".min_fees", "%w", err)
		}
		if ch.PacketFilter != nil {
			if err := ch.PacketFilter.validate(k+".packet_filter", fail); err != nil {
				return err
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.EvmCities)) {
		if err := c.validateEvmCity(id, fail); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Paths)) {
		p := c.Paths[name]
		k := "paths." + name
		if p == nil {
			return fail(k, "empty path table")
		}
		for side, e := range map[string]PathEnd{"src": p.Src, "dst": p.Dst} {
			if e.Chain == "" {
				return fail(k+"."+side+".chain", "required")
			}
			if _, ok := c.Chains[e.Chain]; !ok {
				return fail(k+"."+side+".chain", "chain %q is not configured (add it with `cityrelay chains add`)", e.Chain)
			}
			if _, err := e.Excluded(); err != nil {
				return fail(k+"."+side+".excluded_sequences", "%w", err)
			}
			if _, err := ParseMinFees(e.MinFees); err != nil {
				return fail(k+"."+side+".min_fees", "%w", err)
			}
		}
		if p.Src.Chain == p.Dst.Chain {
			return fail(k+".dst.chain", "a path links two different chains")
		}
		if p.Order != "unordered" && p.Order != "ordered" {
			return fail(k+".order", "%q: use unordered or ordered", p.Order)
		}
		if err := p.Filter.validate(k+".filter", fail); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateEvmCity(id string, fail func(key, format string, args ...any) error) error {
	e := c.EvmCities[id]
	k := "evm_cities." + id
	if e == nil {
		return fail(k, "empty table")
	}
	if _, ok := c.Chains[id]; ok {
		return fail(k, "%s is also a Cosmos chain in [chains]", id)
	}
	if e.EvmChainID == 0 {
		return fail(k+".evm_chain_id", "required (the chain's EIP-155 chain id)")
	}
	for key, u := range map[string]string{k + ".rpc": e.RPC} {
		if pu, err := url.Parse(u); u == "" || err != nil || pu.Host == "" {
			return fail(key, "%q: want an http(s) JSON-RPC URL", u)
		}
	}
	if !isHexOf(e.Registry, 20) {
		return fail(k+".registry", "%q: want a 0x address (20 bytes hex)", e.Registry)
	}
	if e.RegistryCodeHash != "" && !isHexOf(e.RegistryCodeHash, 32) {
		return fail(k+".registry_code_hash", "%q: want 32 bytes hex", e.RegistryCodeHash)
	}
	if e.TrustingPeriod.Duration <= 0 {
		return fail(k+".trusting_period", "required, e.g. \"24h\" (well below the time a third of the validators could leave undetected)")
	}
	if e.TrustHash != "" && !isHexOf(e.TrustHash, 32) {
		return fail(k+".trust_hash", "%q: want 32 bytes hex (a block hash)", e.TrustHash)
	}
	if (e.TrustHash == "") != (e.TrustHeight == 0) {
		return fail(k+".trust_height", "trust_height and trust_hash go together")
	}
	if len(e.Deliver) == 0 {
		return fail(k+".deliver", "at least one [[%s.deliver]] with chain and client_id", k)
	}
	for _, d := range e.Deliver {
		if _, ok := c.Chains[d.Chain]; !ok {
			return fail(k+".deliver.chain", "chain %q is not configured in [chains]", d.Chain)
		}
		if d.ClientID != "" && !strings.HasPrefix(d.ClientID, "city-qbft-") {
			return fail(k+".deliver.client_id", "client_id %q: want the city-qbft client on %s (cityrelay tx evm-client %s %s)", d.ClientID, d.Chain, id, d.Chain)
		}
	}
	return nil
}

func isHexOf(s string, n int) bool {
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	return err == nil && len(b) == n
}

// checkRemote refuses a NATS cluster reached beyond loopback without TLS and credentials: work items
// and lifecycle records would travel in clear, and anyone reaching the port could publish work.
func (n NATS) checkRemote() error {
	for _, raw := range strings.Split(n.URL, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%q is not a URL like nats://host:4222", raw)
		}
		if isLoopback(u.Host) || u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback() {
			continue
		}
		if u.Scheme != "tls" && n.TLSCA == "" {
			return fmt.Errorf("%s is not on loopback: use TLS (a tls:// URL or nats.tls_ca)", raw)
		}
		if n.CredsFile == "" && n.NKeyFile == "" && (n.User == "" || n.PasswordEnv == "") {
			return fmt.Errorf("%s is not on loopback: set credentials (nats.creds_file, nats.nkey_file, or nats.user with nats.password_env)", raw)
		}
	}
	return nil
}

// Save writes the config to path (0600: it names keys and endpoints).
func (c *Config) Save(path string) error {
	bz, err := toml.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, bz, 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return os.Rename(tmp, path)
}

func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isEnvName reports whether s is a portable environment variable name ([A-Za-z_][A-Za-z0-9_]*).
func isEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
