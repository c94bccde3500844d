package pipeline_test

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	ibcfeetypes "github.com/cosmos/ibc-go/v8/modules/apps/29-fee/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/rs/zerolog"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// TestMinFeesSkipsUnderpaidPackets runs the pipeline on a fee-enabled transfer channel (ICS-29 over
// ICS-20) whose Seoul end has min_fees 500ucity. One tx sends three transfers: the first with a
// recv fee of 700ucity escrowed (MsgPayPacketFee), the second with 100ucity, the third with none.
// The scanner relays the first (its recv fee is paid to the counterparty payee registered on
// Bucheon) and skips the other two, each counted once; a clearing pass skips them again (reported as
// below the minimum, not counted twice); a clear naming the second (as `tx flush --sequences` and the
// admin clear do) relays it.
func TestMinFeesSkipsUnderpaidPackets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dn := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := dn.Chain("seoul-1"), dn.Chain("bucheon-1")
	end := func(c *devnet.Chain) *relayer.End {
		return &relayer.End{Chain: testnet.ClientWith(t, c, devnet.RelayerKey, rpcOnly), Light: testnet.LightOf(t, c), PortID: transfertypes.PortID}
	}
	version := string(ibcfeetypes.ModuleCdc.MustMarshalJSON(&ibcfeetypes.Metadata{FeeVersion: ibcfeetypes.Version, AppVersion: transfertypes.Version}))
	p := &relayer.Path{Name: "seoul-bucheon-fee", A: end(seoul), B: end(bucheon), Version: version, Order: channeltypes.UNORDERED}
	testnet.LinkPath(t, dn, p)
	h := sha256.Sum256([]byte("min fee payee " + time.Now().String()))
	recvPayee := sdk.AccAddress(h[:20]).String()
	if _, err := relayer.RegisterPayee(ctx, p.B, p.A, relayer.PayeeOptions{CounterpartyPayee: recvPayee}); err != nil {
		t.Fatal(err)
	}
	minFee := sdk.NewInt64Coin(citychain.BondDenom, 500)
	p.A.MinFees = sdk.NewCoins(minFee)

	js := testnet.JetStream(t, time.Hour)
	var mu sync.Mutex
	below := map[string]int{}
	o := pipeline.Options{Paths: []*relayer.Path{p}, JS: js, Relayer: relayer.Relayer{Check: light.VerifyProofAgainstAppHash},
		BatchMax: 10, BatchWait: 300 * time.Millisecond, Exclusions: pipeline.NewExclusions(),
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel),
		OnBelowMinFee: func(path, chain string) {
			mu.Lock()
			defer mu.Unlock()
			below[path+"/"+chain]++
		}}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(rctx, o) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("pipeline: %v", err)
		}
	}()
	// Let the scanners start above the link before the sends.
	if err := seoul.WaitHeight(ctx, latestHeight(t, p.A.Chain.(*cosmos.Client))+2); err != nil {
		t.Fatal(err)
	}

	admin := seoul.Admin.Address
	xfer := func(amount int64) sdk.Msg {
		return transfertypes.NewMsgTransfer(transfertypes.PortID, p.A.ChannelID, sdk.NewInt64Coin(citychain.BondDenom, amount), admin,
			bucheon.Admin.Address, clienttypes.ZeroHeight(), uint64(time.Now().Add(20*time.Minute).UnixNano()), "")
	}
	pay := func(recv int64) sdk.Msg {
		fee := ibcfeetypes.NewFee(sdk.NewCoins(sdk.NewInt64Coin(citychain.BondDenom, recv)), sdk.NewCoins(sdk.NewInt64Coin(citychain.BondDenom, 1)), sdk.NewCoins(sdk.NewInt64Coin(citychain.BondDenom, 1)))
		return ibcfeetypes.NewMsgPayPacketFee(fee, p.A.PortID, p.A.ChannelID, admin, nil)
	}
	res, err := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly).Send(ctx, pay(700), xfer(1000), pay(100), xfer(20), xfer(300))
	if err != nil {
		t.Fatal(err)
	}
	pks, err := relayer.SendPackets(res.Events)
	if err != nil || len(pks) != 3 {
		t.Fatalf("send_packet events: %v %v", pks, err)
	}
	paid, under, unpaid := pks[0].Sequence, pks[1].Sequence, pks[2].Sequence

	// The paid packet is relayed and its ack pays the recv fee on Seoul.
	srcCl := testnet.Client(t, seoul, devnet.RelayerKey)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		coins, err := srcCl.Balances(ctx, recvPayee)
		if err == nil && coins.AmountOf(citychain.BondDenom).Int64() == 700 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recv fee not paid to %s: %v %v", recvPayee, coins, err)
		}
	}
	if got := testnet.Vouchers(t, bucheon, p.B.ChannelID, bucheon.Admin.Address); got.Int64() != 1000 {
		t.Fatalf("vouchers on bucheon-1 %s, want 1000 (only the paid packet %d)", got, paid)
	}
	// A few more blocks: the underpaid packets stay unreceived, each counted once.
	if err := bucheon.WaitHeight(ctx, latestHeight(t, p.B.Chain.(*cosmos.Client))+5); err != nil {
		t.Fatal(err)
	}
	unrecv, err := p.B.Chain.(*cosmos.Client).UnreceivedPackets(ctx, p.B.PortID, p.B.ChannelID, []uint64{paid, under, unpaid})
	if err != nil {
		t.Fatal(err)
	}
	if sequences.List(unrecv...).String() != sequences.List(under, unpaid).String() {
		t.Fatalf("unreceived %v, want %d and %d", unrecv, under, unpaid)
	}
	counted := func() int {
		mu.Lock()
		defer mu.Unlock()
		return below[p.Name+"/seoul-1"]
	}
	if n := counted(); n != 2 {
		t.Fatalf("below-min-fee count %d, want 2 (%v)", n, below)
	}

	// Clearing skips them again, reported, not counted twice.
	rep, err := pipeline.Clear(ctx, o, p.Name, sequences.Set{})
	if err != nil {
		t.Fatal(err)
	}
	var fromSeoul *pipeline.ClearDirection
	for i := range rep.Directions {
		if rep.Directions[i].From == "seoul-1" {
			fromSeoul = &rep.Directions[i]
		}
	}
	if fromSeoul == nil || fromSeoul.BelowMinFee.String() != sequences.List(under, unpaid).String() || fromSeoul.Packets != 0 {
		t.Fatalf("clear report %+v, want below min fee %d,%d and nothing published", rep, under, unpaid)
	}
	if n := counted(); n != 2 {
		t.Fatalf("below-min-fee count after clearing %d, want 2", n)
	}

	// Named, the underpaid packet is relayed.
	if _, err := pipeline.Clear(ctx, o, p.Name, sequences.List(under)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		got := testnet.Vouchers(t, bucheon, p.B.ChannelID, bucheon.Admin.Address)
		if got.Int64() == 1020 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vouchers %s after naming %d, want 1020", got, under)
		}
	}
}
