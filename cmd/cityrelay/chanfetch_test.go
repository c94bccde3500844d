package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestPathsFetch: `paths fetch` finds a transfer channel another relayer opened between seoul-1 and
// bucheon-1 and writes a path for it that `tx flush` relays over; a channel of seoul-1 to an impostor
// chain calling itself bucheon-1 (its counterparty is no channel of the real bucheon-1 pointing back)
// is skipped with its reason; --dry-run writes nothing; existing paths are left alone.
func TestPathsFetch(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	impostor := testnet.Chains(t, "bucheon-1") // another chain with the same id
	seoul, bucheon, fake := net.Chain("seoul-1"), net.Chain("bucheon-1"), impostor.Chain("bucheon-1")
	transferPath := func(name string, b *devnet.Chain) *relayer.Path {
		return &relayer.Path{Name: name, A: testnet.End(t, seoul, transfertypes.PortID), B: testnet.End(t, b, transfertypes.PortID),
			Version: transfertypes.Version, Order: channeltypes.UNORDERED}
	}
	// Opened by another relayer: in no config of ours.
	real := transferPath("real", bucheon)
	testnet.LinkPath(t, net, real)
	forged := transferPath("forged", fake)
	testnet.LinkPath(t, impostor, forged)
	if forged.A.ChannelID == real.A.ChannelID {
		t.Fatalf("both channels are %s on seoul-1", real.A.ChannelID)
	}

	oh := operatorHome(t, []*devnet.Chain{seoul, bucheon}, testnet.HomeOptions{})
	oh.Must("", "paths", "new", "keep", "--src", "seoul-1", "--dst", "bucheon-1", "--src-port", "transfer", "--dst-port", "transfer", "--version", "ics20-1")
	before, err := os.ReadFile(filepath.Join(oh.Dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	name := "seoul-1-bucheon-1-" + real.A.ChannelID
	found := "open     seoul-1 transfer/" + real.A.ChannelID + " (" + real.A.ClientID + ", " + real.A.ConnectionID + ") <-> bucheon-1 transfer/" +
		real.B.ChannelID + " (" + real.B.ClientID + ", " + real.B.ConnectionID + ") ics20-1 unordered: path " + name
	skipped := "skipped  seoul-1 transfer/" + forged.A.ChannelID + ": not an open channel pair"

	out := oh.Must("", "paths", "fetch", "seoul-1", "bucheon-1", "--dry-run", "--trust-latest")
	if !strings.Contains(out, found) || !strings.Contains(out, skipped) || !strings.Contains(out, "dry run: 1 path(s) would be added") {
		t.Fatalf("paths fetch --dry-run:\n%s\nwant lines\n%s\n%s", out, found, skipped)
	}
	if after, _ := os.ReadFile(filepath.Join(oh.Dir, "config.toml")); string(after) != string(before) {
		t.Fatalf("--dry-run changed the config:\n%s", after)
	}
	t.Logf("paths fetch:\n%s", out)

	out = oh.Must("", "paths", "fetch", "seoul-1", "bucheon-1")
	if !strings.Contains(out, found) || !strings.Contains(out, skipped) || !strings.Contains(out, "1 path(s) added") {
		t.Fatalf("paths fetch:\n%s", out)
	}
	cfg := oh.Config()
	want := config.Path{
		Src:     config.PathEnd{Chain: "seoul-1", ClientID: real.A.ClientID, ConnectionID: real.A.ConnectionID, ChannelID: real.A.ChannelID, PortID: "transfer"},
		Dst:     config.PathEnd{Chain: "bucheon-1", ClientID: real.B.ClientID, ConnectionID: real.B.ConnectionID, ChannelID: real.B.ChannelID, PortID: "transfer"},
		Version: "ics20-1", Order: "unordered",
	}
	if got := cfg.Paths[name]; got == nil || got.Src != want.Src || got.Dst != want.Dst || got.Version != want.Version || got.Order != want.Order {
		t.Fatalf("path %s written as %+v, want %+v", name, got, want)
	}
	if k := cfg.Paths["keep"]; k == nil || k.Src.ChannelID != "" || k.Src.ClientID != "" || len(cfg.Paths) != 2 {
		t.Fatalf("existing path changed or extra paths: %+v", cfg.Paths)
	}
	// Again, with another name pattern: the channel is configured already, nothing is added.
	out = oh.Must("", "paths", "fetch", "seoul-1", "bucheon-1", "--name", "{a}-{b}-{port}-{channel}")
	if !strings.Contains(out, "configured as path "+name) || !strings.Contains(out, "no path added") || len(oh.Config().Paths) != 2 {
		t.Fatalf("second paths fetch:\n%s", out)
	}

	// The fetched path relays: a transfer over it is flushed across and acknowledged.
	testnet.Transfer(t, seoul, devnet.AdminKey, real.A.ChannelID, 7, bucheon.Admin.Address)
	out = oh.Must("", "tx", "flush", name)
	if !strings.Contains(out, "seoul-1 -> bucheon-1: 1 packets pending, 1 received; 1 acknowledgements pending, 1 acknowledged") {
		t.Fatalf("tx flush %s:\n%s", name, out)
	}
	if got := testnet.Vouchers(t, bucheon, real.B.ChannelID, bucheon.Admin.Address); !got.Equal(sdkmath.NewInt(7)) {
		t.Fatalf("bucheon-1 admin holds %s vouchers, want 7", got)
	}
}

// TestDaemonCompletesOthersHandshakes: a running daemon completes a transfer channel someone else
// started (MsgChannelOpenInit from a non-relayer account on the connection of a configured path) and
// relays a transfer over it, while a wildcard deny filter (a chain's Hermes-style packet_filter) keeps
// both a configured path's channel and a second started handshake alone; the configured path the
// filter allows flows.
func TestDaemonCompletesOthersHandshakes(t *testing.T) {
	bin := testnet.Build(t, ".")
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	oh := operatorHome(t, net.Chains, testnet.HomeOptions{})
	for _, name := range []string{"xfer", "xfer-denied"} {
		oh.Must("", "paths", "new", name, "--src", "seoul-1", "--dst", "bucheon-1", "--src-port", "transfer", "--dst-port", "transfer", "--version", "ics20-1")
		oh.Must("", "tx", "link", name, "--trust-latest")
	}
	cfgPath := filepath.Join(oh.Dir, "config.toml")
	cfg := oh.Config()
	xfer, denied := cfg.Paths["xfer"], cfg.Paths["xfer-denied"]
	if xfer.Src.ChannelID != "channel-0" || denied.Src.ChannelID != "channel-1" {
		t.Fatalf("seoul-1 channels %s and %s, want channel-0 and channel-1", xfer.Src.ChannelID, denied.Src.ChannelID)
	}
	// seoul-1's channels channel-1* (xfer-denied's) and channel-3 (the second handshake below) are denied.
	cfg.Chains["seoul-1"].PacketFilter = &config.Filter{Policy: "deny", List: [][]string{{"trans*", "channel-1*"}, {"transfer", "channel-3"}}}
	cfg.Relay.HandshakeInterval = config.Duration{Duration: time.Second}
	cfg.Global.LogFormat = "json"
	cfg.Metrics.Listen = "127.0.0.1:0"
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	oh.Must("", "config", "validate")
	logPath := filepath.Join(oh.Dir, "daemon.log")
	d := startDaemon(t, bin, oh.Dir, logPath)
	waitLog(t, logPath, "relayer started", 0)
	t0 := time.Now()

	// Someone else (seoul-1's admin account, not the relayer) starts a transfer channel on xfer's connection.
	started := testnet.OpenInit(t, seoul, devnet.AdminKey, xfer.Src.ConnectionID, transfertypes.PortID, transfertypes.PortID, transfertypes.Version, channeltypes.UNORDERED)
	if started != "channel-2" {
		t.Fatalf("open init made %s, want channel-2", started)
	}
	testnet.WaitChannel(t, seoul, transfertypes.PortID, started, channeltypes.OPEN, 2*time.Minute)
	ch, err := testnet.Client(t, seoul, devnet.RelayerKey).Channel(context.Background(), transfertypes.PortID, started)
	if err != nil {
		t.Fatal(err)
	}
	counterparty := ch.Counterparty.ChannelId
	testnet.WaitChannel(t, bucheon, transfertypes.PortID, counterparty, channeltypes.OPEN, time.Minute)
	waitLog(t, logPath, "channel opened for a counterparty", 0)
	t.Logf("channel %s opened by the daemon %.1fs after the daemon started (counterparty %s)", started, time.Since(t0).Seconds(), counterparty)

	// A second handshake, on a channel id the filter denies: left alone.
	second := testnet.OpenInit(t, seoul, devnet.AdminKey, xfer.Src.ConnectionID, transfertypes.PortID, transfertypes.PortID, transfertypes.Version, channeltypes.UNORDERED)
	if second != "channel-3" {
		t.Fatalf("second open init made %s, want channel-3", second)
	}

	// Transfers over the new channel, the allowed configured one and the denied configured one.
	t1 := time.Now()
	testnet.Transfer(t, seoul, devnet.AdminKey, started, 11, bucheon.Admin.Address)
	testnet.Transfer(t, seoul, devnet.AdminKey, xfer.Src.ChannelID, 13, bucheon.Admin.Address)
	testnet.Transfer(t, seoul, devnet.AdminKey, denied.Src.ChannelID, 17, bucheon.Admin.Address)
	seoulCl := testnet.Client(t, seoul, devnet.RelayerKey)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		onNew := testnet.Vouchers(t, bucheon, counterparty, bucheon.Admin.Address)
		onXfer := testnet.Vouchers(t, bucheon, xfer.Dst.ChannelID, bucheon.Admin.Address)
		left, err := seoulCl.PacketCommitments(context.Background(), transfertypes.PortID, started)
		if err == nil && onNew.Equal(sdkmath.NewInt(11)) && onXfer.Equal(sdkmath.NewInt(13)) && len(left) == 0 {
			t.Logf("transfers received and acknowledged %.1fs after they were sent", time.Since(t1).Seconds())
			break // received on bucheon-1 and acknowledged on seoul-1
		}
		if time.Now().After(deadline) {
			bz, _ := os.ReadFile(logPath)
			t.Fatalf("after 2 minutes: %s vouchers over the new channel (want 11), %s over xfer (want 13), %d unacknowledged on %s (%v)\n%s",
				onNew, onXfer, len(left), started, err, bz)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// A few more handshake sweeps and relay rounds: the denied channel and handshake stay as they were.
	time.Sleep(4 * time.Second)
	if got := testnet.Vouchers(t, bucheon, denied.Dst.ChannelID, bucheon.Admin.Address); !got.IsZero() {
		t.Fatalf("%s vouchers arrived over the denied channel %s", got, denied.Src.ChannelID)
	}
	if left, err := seoulCl.PacketCommitments(context.Background(), transfertypes.PortID, denied.Src.ChannelID); err != nil || len(left) != 1 {
		t.Fatalf("denied channel: %d packets pending on seoul-1 (%v), want the 1 sent", len(left), err)
	}
	if ch, err := seoulCl.Channel(context.Background(), transfertypes.PortID, second); err != nil || ch.State != channeltypes.INIT {
		t.Fatalf("denied handshake %s: %v, %v; want it left in INIT", second, ch, err)
	}
	waitLog(t, logPath, "the channel filter refuses it", 0)
	// The running relayer did not rewrite the config.
	if got := oh.Config(); len(got.Paths) != 2 {
		t.Fatalf("config paths: %v", got.Paths)
	}

	// Counted: one opened, one left alone by the filter; the new channel's transfer counted as relayed.
	metrics := httpGet(t, "http://"+lastField(t, logPath, "metrics, health and verification on http", "addr")+"/metrics")
	for _, want := range []string{`cityrelay_channel_handshakes_total{path="xfer",result="opened"} 1`,
		`cityrelay_channel_handshakes_total{path="xfer",result="filtered"} 1`,
		`cityrelay_packets_relayed_total{kind="recv",path="xfer-transfer-` + started + `"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// Restarted, the daemon relays the channel it opened again (recorded in the work queue's cursor
	// bucket, not the config).
	if err := d.signal(t, syscall.SIGTERM); err != nil {
		t.Fatalf("daemon stop: %v", err)
	}
	startDaemon(t, bin, oh.Dir, logPath)
	waitLog(t, logPath, "relayer started", 1)
	waitLog(t, logPath, "relaying a channel opened for a counterparty before", 0)
	testnet.Transfer(t, seoul, devnet.AdminKey, started, 5, bucheon.Admin.Address)
	deadline = time.Now().Add(time.Minute)
	for !testnet.Vouchers(t, bucheon, counterparty, bucheon.Admin.Address).Equal(sdkmath.NewInt(16)) {
		if time.Now().After(deadline) {
			bz, _ := os.ReadFile(logPath)
			t.Fatalf("after a restart, a transfer over %s was not relayed within a minute\n%s", started, bz)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
