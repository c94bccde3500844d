package relayer_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	ibcfeetypes "github.com/cosmos/ibc-go/v8/modules/apps/29-fee/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// feeTransferVersion is the version of a fee-enabled ICS-20 channel.
var feeTransferVersion = string(ibcfeetypes.ModuleCdc.MustMarshalJSON(&ibcfeetypes.Metadata{FeeVersion: ibcfeetypes.Version, AppVersion: transfertypes.Version}))

// freshAddress is a new account address (no key, no balance) named by label.
func freshAddress(label string) string {
	h := sha256.Sum256([]byte("cityrelay fee test " + label + time.Now().String()))
	return sdk.AccAddress(h[:20]).String()
}

// TestFeeMiddlewarePaysRegisteredPayees links a fee-enabled transfer channel (ICS-29 over ICS-20)
// between two citychaind devnets, registers the relayer's payees with RegisterPayee, sends a
// transfer whose recv, ack and timeout fees are escrowed in the same tx (MsgPayPacketFee), reads the
// escrow back proven from Seoul's fee store, relays the packet and its ack, and checks that Seoul
// paid the recv fee to the counterparty payee registered on Bucheon and the ack fee to the payee
// registered on Seoul, and that the escrow is then proven empty. A plain "ics20-1" channel on the
// same chains is refused by RegisterPayee (ErrNotFeeEnabled).
func TestFeeMiddlewarePaysRegisteredPayees(t *testing.T) {
	p, _ := linkPath(t, transfertypes.PortID, feeTransferVersion, nil)
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, e := range []*relayer.End{p.A, p.B} {
		ch, err := e.Chain.Channel(ctx, e.PortID, e.ChannelID)
		if err != nil {
			t.Fatal(err)
		}
		if app, ok := relayer.FeeEnabled(ch.Version); !ok || app != transfertypes.Version {
			t.Fatalf("%s channel %s version %q: not fee-enabled ics20-1", e.ChainID(), e.ChannelID, ch.Version)
		}
	}
	srcCl, dstCl := p.A.Chain.(*cosmos.Client), p.B.Chain.(*cosmos.Client)
	relayerOnSeoul, err := srcCl.Address(ctx)
	if err != nil {
		t.Fatal(err)
	}
	relayerOnBucheon, err := dstCl.Address(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Defaults: the counterparty payee on Bucheon is the relayer's own address on Seoul.
	reg, err := relayer.RegisterPayee(ctx, p.B, p.A, relayer.PayeeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.CounterpartyPayee != relayerOnSeoul || reg.Relayer != relayerOnBucheon || reg.Payee != "" {
		t.Fatalf("default registration %+v, want counterparty payee %s for relayer %s", reg, relayerOnSeoul, relayerOnBucheon)
	}
	var cpq ibcfeetypes.QueryCounterpartyPayeeResponse
	if err := dstCl.QueryGRPC(ctx, "/ibc.applications.fee.v1.Query/CounterpartyPayee",
		&ibcfeetypes.QueryCounterpartyPayeeRequest{ChannelId: p.B.ChannelID, Relayer: relayerOnBucheon}, &cpq, 0); err != nil {
		t.Fatal(err)
	}
	if cpq.CounterpartyPayee != relayerOnSeoul {
		t.Fatalf("bucheon-1 counterparty payee %q, want %s", cpq.CounterpartyPayee, relayerOnSeoul)
	}

	// Registered again with addresses that pay no gas, so their balances are the fees alone.
	recvPayee, ackPayee := freshAddress("recv"), freshAddress("ack")
	if _, err := relayer.RegisterPayee(ctx, p.B, p.A, relayer.PayeeOptions{CounterpartyPayee: recvPayee}); err != nil {
		t.Fatal(err)
	}
	reg, err = relayer.RegisterPayee(ctx, p.A, p.B, relayer.PayeeOptions{Payee: ackPayee})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Payee != ackPayee || reg.CounterpartyPayee != relayerOnBucheon {
		t.Fatalf("seoul registration %+v", reg)
	}

	recvFee, ackFee, timeoutFee := sdk.NewInt64Coin(citychain.BondDenom, 700), sdk.NewInt64Coin(citychain.BondDenom, 300), sdk.NewInt64Coin(citychain.BondDenom, 200)
	fee := ibcfeetypes.NewFee(sdk.NewCoins(recvFee), sdk.NewCoins(ackFee), sdk.NewCoins(timeoutFee))
	pay := ibcfeetypes.NewMsgPayPacketFee(fee, p.A.PortID, p.A.ChannelID, seoul.Admin.Address, nil)
	xfer := transfertypes.NewMsgTransfer(transfertypes.PortID, p.A.ChannelID, sdk.NewInt64Coin(citychain.BondDenom, 5000), seoul.Admin.Address,
		bucheon.Admin.Address, transfertypesHeight(), uint64(time.Now().Add(10*time.Minute).UnixNano()), "")
	sent := mustSend(t, testnet.Client(t, seoul, devnet.AdminKey), pay, xfer)
	pks, err := relayer.SendPackets(sent.Events)
	if err != nil || len(pks) != 1 {
		t.Fatalf("send_packet events: %v %v", pks, err)
	}
	if err := seoul.WaitHeight(ctx, sent.Height+2); err != nil {
		t.Fatal(err)
	}
	esc, err := relayer.EscrowedFees(ctx, light.VerifyProofAgainstAppHash, p.A, pks[0].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if !esc.Proven || !esc.Recv.Equal(sdk.NewCoins(recvFee)) || !esc.Ack.Equal(sdk.NewCoins(ackFee)) || !esc.Timeout.Equal(sdk.NewCoins(timeoutFee)) {
		t.Fatalf("escrowed fees %+v, want recv %s ack %s timeout %s proven", esc, recvFee, ackFee, timeoutFee)
	}
	if !relayer.MeetsMinimum(esc.Recv, sdk.NewCoins(sdk.NewInt64Coin(citychain.BondDenom, 700))) ||
		relayer.MeetsMinimum(esc.Recv, sdk.NewCoins(sdk.NewInt64Coin(citychain.BondDenom, 701))) {
		t.Fatalf("minimum check on %s is wrong", esc.Recv)
	}

	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	recvTx, seqs, err := r.RecvPackets(ctx, p.A, p.B, pks, sent.Height)
	if err != nil || len(seqs) != 1 {
		t.Fatalf("recv: %v (seqs %v)", err, seqs)
	}
	acks, err := relayer.WrittenAcks(recvTx.Events)
	if err != nil || len(acks) != 1 {
		t.Fatalf("write_acknowledgement events: %v %v", acks, err)
	}
	if got := testnet.Vouchers(t, bucheon, p.B.ChannelID, bucheon.Admin.Address); got.Int64() != 5000 {
		t.Fatalf("vouchers on bucheon-1: %s, want 5000", got)
	}
	ackTx, _, err := r.AckPackets(ctx, p.B, p.A, acks, recvTx.Height)
	if err != nil {
		t.Fatalf("ack: %v", err)
	}
	if got := balanceOf(t, srcCl, recvPayee); !got.Equal(recvFee.Amount) {
		t.Fatalf("counterparty payee %s holds %s on seoul-1, want the recv fee %s", recvPayee, got, recvFee)
	}
	if got := balanceOf(t, srcCl, ackPayee); !got.Equal(ackFee.Amount) {
		t.Fatalf("payee %s holds %s on seoul-1, want the ack fee %s", ackPayee, got, ackFee)
	}
	if err := seoul.WaitHeight(ctx, ackTx.Height+2); err != nil {
		t.Fatal(err)
	}
	esc, err = relayer.EscrowedFees(ctx, light.VerifyProofAgainstAppHash, p.A, pks[0].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if !esc.Proven || !esc.Recv.IsZero() || esc.Height <= ackTx.Height {
		t.Fatalf("escrow after payout %+v (ack at %d), want proven empty", esc, ackTx.Height)
	}

	// A plain ICS-20 channel has no fee middleware behind it.
	plain, _ := linkPath(t, transfertypes.PortID, transfertypes.Version, p)
	if _, err := relayer.RegisterPayee(ctx, plain.B, plain.A, relayer.PayeeOptions{}); !errors.Is(err, relayer.ErrNotFeeEnabled) {
		t.Fatalf("register payee on a plain ics20-1 channel: %v, want ErrNotFeeEnabled", err)
	}
}
