package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cosmos/cosmos-sdk/types/query"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestDaemonFollowsRaisedMinimumGasPrice runs `cityrelay start` on a path from Seoul to Gwangju, a
// citychaind child process (no fee market) whose node is restarted with a new minimum gas price while
// the daemon relays: raised to 0.01 (within max_gas_price 0.02), the daemon's tx is refused once, signed
// again at the node's minimum and delivered; raised to 0.05 (above the cap) nothing is paid, the work
// is retried (not dead-lettered) and counted; once the minimum falls back, it is delivered.
func TestDaemonFollowsRaisedMinimumGasPrice(t *testing.T) {
	ctx := context.Background()
	bin := testnet.Build(t, ".")
	seoulNet := testnet.Chains(t, "seoul-1")
	gw := testnet.StartProcessChain(t, "gwangju-1", devnet.InitOptions{})
	seoul := seoulNet.Chain("seoul-1")
	net := &devnet.Devnet{Chains: []*devnet.Chain{seoul, gw.Chain}}
	oh := operatorHome(t, net.Chains, testnet.HomeOptions{})
	const name = "seoul-gwangju"
	oh.Must("", "paths", "new", name, "--src", "seoul-1", "--dst", "gwangju-1")
	oh.LinkCities(net, name)
	cfgPath := filepath.Join(oh.Dir, "config.toml")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Global.LogFormat = "json"
	cfg.Metrics.Listen = "127.0.0.1:0"
	cfg.Chains["gwangju-1"].MaxGasPrice = "0.02" + citychain.BondDenom
	if err := cfg.Save(cfgPath); err != nil {
		t.Fatal(err)
	}
	channel := cfg.Paths[name].Src.ChannelID
	logPath := filepath.Join(oh.Dir, "daemon.log")
	startDaemon(t, bin, oh.Dir, logPath)
	waitLog(t, logPath, "relayer started", 0)
	addr := lastField(t, logPath, "metrics, health and verification on http", "addr")

	admin := testnet.Client(t, seoul, devnet.AdminKey)
	issuerSeq := uint64(0)
	send := func() uint64 {
		t.Helper()
		issuerSeq++
		now := time.Now().Unix()
		digest := bytes.Repeat([]byte{byte(issuerSeq), 0x6a}, 16)
		sb := didtypes.AttestationSignBytes("seoul-1", seoul.Issuer.DID, "key-1", seoul.Citizen.DID, "residency-card", digest, now-5, now+3600, issuerSeq)
		sig, _ := seoul.Issuer.Sign(sb)
		res, err := admin.Send(ctx, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: "key-1",
			SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 3600,
			IssuerSeq: issuerSeq, Signature: sig},
			&didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: channel, AttestationId: didtypes.AttestationID(sb)})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		pks, err := relayer.SendPackets(res.Events)
		if err != nil || len(pks) != 1 {
			t.Fatalf("send_packet events: %v %v", pks, err)
		}
		return pks[0].Sequence
	}
	// pending is whether Seoul still holds the packet's commitment (not acknowledged yet).
	pending := func(seq uint64) bool {
		t.Helper()
		var resp channeltypes.QueryPacketCommitmentsResponse
		if err := admin.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketCommitments", &channeltypes.QueryPacketCommitmentsRequest{
			PortId: didtypes.PortID, ChannelId: channel, Pagination: &query.PageRequest{Limit: 1000}}, &resp, 0); err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.Commitments {
			if c.Sequence == seq {
				return true
			}
		}
		return false
	}
	waitAcked := func(seq uint64, what string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for pending(seq) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: packet %d not acknowledged in 3 minutes", what, seq)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	gwangju := `chain="gwangju-1"`
	series := func() map[string]float64 {
		return metricSums(t, addr, map[string][]string{
			"cityrelay_gas_price_raised_total":    {gwangju},
			"cityrelay_gas_price_above_cap_total": {gwangju},
			"cityrelay_packets_retried_total":     {`reason="gas price above cap"`},
			"cityrelay_dead_letters_total":        nil,
		})
	}

	waitAcked(send(), "at the configured price")

	gw.RestartWithMinGasPrice("0.01" + citychain.BondDenom)
	start := time.Now()
	waitAcked(send(), "after the node raised its minimum to 0.01")
	t.Logf("delivered and acknowledged %s after the raise", time.Since(start).Round(time.Millisecond))
	if s := series(); s["cityrelay_gas_price_raised_total"] < 1 || s["cityrelay_gas_price_above_cap_total"] != 0 {
		t.Fatalf("after the raise: %v", s)
	}
	price := metricSums(t, addr, map[string][]string{"cityrelay_gas_price": {gwangju, `source="raised"`}})["cityrelay_gas_price"]
	if price < 0.01 || price >= 0.0101 {
		t.Fatalf("cityrelay_gas_price{chain=gwangju-1,source=raised} = %v, want 0.01 (rounded up)", price)
	}

	gw.RestartWithMinGasPrice("0.05" + citychain.BondDenom)
	seq := send()
	deadline := time.Now().Add(2 * time.Minute)
	for s := series(); s["cityrelay_gas_price_above_cap_total"] < 2 || s["cityrelay_packets_retried_total"] < 2; s = series() {
		if time.Now().After(deadline) {
			t.Fatalf("above the cap: never refused and retried twice: %v", s)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !pending(seq) {
		t.Fatal("a packet was delivered while the node's minimum was above max_gas_price")
	}
	if s := series(); s["cityrelay_dead_letters_total"] != 0 {
		t.Fatalf("work dead-lettered above the cap: %v", s)
	}
	waitLog(t, logPath, "above max_gas_price", 0)

	gw.RestartWithMinGasPrice(devnet.MinGasPrice)
	start = time.Now()
	waitAcked(seq, "after the node's minimum fell back")
	t.Logf("the packet held above the cap was delivered %s after the minimum fell back; %v", time.Since(start).Round(time.Millisecond), series())
}
