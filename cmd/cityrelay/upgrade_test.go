package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
	"github.com/rs/zerolog"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/daemon"
)

// TestDaemonUpgradesClients: `cityrelay start` relays a transfer path between incheon-1 (a citychaind
// child process with a genesis upgrade authority) and bucheon-1. incheon-1 schedules an IBC software
// upgrade at H (a 30-day unbonding period); `tx upgrade-clients` without --height names the plan.
// The daemon sees the plan (cityrelay_upgrade_planned_height), the chain halts at H and is restarted
// with the upgrade's handler; a transfer sent after the restart is relayed only after the daemon upgraded
// Bucheon's client of incheon-1 by itself (log "client upgraded", cityrelay_client_upgrades_total ok):
// the client carries the new unbonding period. `tx upgrade-clients --height H` then finds it done.
func TestDaemonUpgradesClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	incheon := testnet.StartProcessChain(t, "incheon-1", devnet.InitOptions{AdminUpgrades: true})
	net := testnet.Chains(t, "bucheon-1")
	bucheon := net.Chain("bucheon-1")
	h := operatorHome(t, []*devnet.Chain{incheon.Chain, bucheon}, testnet.HomeOptions{})
	const path = "ib"
	h.Must("", "paths", "new", path, "--src", "incheon-1", "--dst", "bucheon-1", "--src-port", "transfer", "--dst-port", "transfer", "--version", "ics20-1")
	h.Must("", "tx", "link", path, "--trust-latest")
	cfg := h.Config()
	cfg.Metrics.Listen = "127.0.0.1:0"
	pc := cfg.Paths[path]

	admin := testnet.Client(t, incheon.Chain, devnet.AdminKey)
	var base string // the daemon's HTTP address, once it runs
	logPath := filepath.Join(t.TempDir(), "daemon.log")
	transfer := func() {
		t.Helper()
		msg := transfertypes.NewMsgTransfer("transfer", pc.Src.ChannelID, sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(5)),
			incheon.Admin.Address, bucheon.Admin.Address, clienttypes.ZeroHeight(), uint64(time.Now().Add(time.Hour).UnixNano()), "")
		if _, err := admin.Send(ctx, msg); err != nil {
			t.Fatalf("transfer from incheon-1: %v", err)
		}
	}
	waitAcked := func(n float64, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for metric(scrape(t, base), "cityrelay_packets_relayed_total", `kind="ack"`) < n {
			if time.Now().After(deadline) {
				bz, _ := os.ReadFile(logPath)
				t.Fatalf("%v acknowledgements relayed after %s, want %v; daemon log tail:\n%s", metric(scrape(t, base), "cityrelay_packets_relayed_total", `kind="ack"`),
					within, n, tail(string(bz), 4000))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	st, err := admin.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	planHeight := st.SyncInfo.LatestBlockHeight + 60
	txh, err := incheon.ScheduleIBCUpgrade(ctx, citychain.TestUpgradePlan, planHeight, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := incheon.WaitHeight(ctx, txh+2); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("upgrade %q planned at %d with an upgraded client state", citychain.TestUpgradePlan, planHeight)
	if out := h.Must("", "tx", "upgrade-clients", path); !strings.Contains(out, want) ||
		!strings.Contains(out, fmt.Sprintf("cityrelay tx upgrade-clients --chain incheon-1 --height %d", planHeight)) {
		t.Fatalf("upgrade-clients without --height does not say %q:\n%s", want, out)
	}

	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logf.Close() })
	rt := assemble.Open(cfg, assemble.Options{Home: h.Dir, Log: zerolog.New(logf)})
	dctx, stop := context.WithCancel(ctx)
	addrs, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- daemon.Run(dctx, daemon.Options{Home: h.Dir, Config: cfg, Runtime: rt, Log: zerolog.New(logf).With().Timestamp().Logger(),
			Ready: func(a string) { addrs <- a }, RefreshEvery: 2 * time.Second, UpgradeEvery: time.Second})
	}()
	stopped := false
	stopDaemon := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		_ = rt.Close()
	}
	t.Cleanup(stopDaemon)
	select {
	case a := <-addrs:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("daemon stopped: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("daemon not serving after 2 minutes")
	}

	transfer()
	waitAcked(1, 2*time.Minute)
	deadline := time.Now().Add(time.Minute)
	for metric(scrape(t, base), "cityrelay_upgrade_planned_height", `chain="incheon-1"`) != float64(planHeight) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not see the plan at %d", planHeight)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A transfer before the halt is relayed as usual (the clients stay at or below H).
	transfer()
	waitAcked(2, 2*time.Minute)

	needed := `UPGRADE "` + citychain.TestUpgradePlan + `" NEEDED`
	for !strings.Contains(incheon.LogTail(1<<20), needed) {
		if time.Now().After(deadline.Add(time.Minute)) {
			t.Fatalf("incheon-1 did not halt for the upgrade at %d:\n%s", planHeight, incheon.LogTail(3000))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := incheon.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the daemon meets a chain that is down
	incheon.Start(planHeight+2, "--"+citychain.OptionUpgradeHandler, citychain.TestUpgradePlan)
	transfer()
	waitAcked(3, 3*time.Minute)

	body := scrape(t, base)
	if n := metric(body, "cityrelay_client_upgrades_total", `upgraded="incheon-1"`, `chain="bucheon-1"`, `result="ok"`); n != 1 {
		t.Fatalf("cityrelay_client_upgrades_total ok = %v, want 1", n)
	}
	if n := metric(body, "cityrelay_upgrade_planned_height", `chain="incheon-1"`); n != 0 {
		t.Fatalf("planned height after the upgrade: %v", n)
	}
	bz, _ := os.ReadFile(logPath)
	if !strings.Contains(string(bz), `"message":"client upgraded"`) {
		t.Fatalf("no client upgraded in the daemon log:\n%s", tail(string(bz), 4000))
	}
	bq := testnet.Client(t, bucheon, devnet.RelayerKey)
	typeURL, value, err := bq.ClientState(ctx, pc.Dst.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	var cs ibctm.ClientState
	if typeURL != "/ibc.lightclients.tendermint.v1.ClientState" || cs.Unmarshal(value) != nil || cs.UnbondingPeriod != 30*24*time.Hour ||
		cs.TrustingPeriod != 48*time.Hour || int64(cs.LatestHeight.RevisionHeight) <= planHeight {
		t.Fatalf("bucheon-1's client of incheon-1 after the daemon's upgrade: %+v", cs)
	}
	stopDaemon()
	if out := h.Must("", "tx", "upgrade-clients", path, "--height", fmt.Sprint(planHeight)); !strings.Contains(out, "bucheon-1  client "+pc.Dst.ClientID+" of incheon-1 already upgraded") {
		t.Fatalf("upgrade-clients after the daemon's upgrade:\n%s", out)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
