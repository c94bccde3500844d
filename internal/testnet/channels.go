package testnet

import (
	"context"
	"errors"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/relayer"
)

// OpenInit starts a channel handshake on c as someone other than the relayer does: a
// MsgChannelOpenInit over connectionID from port to counterpartyPort with version, signed with the
// devnet key key (e.g. devnet.AdminKey). It returns the new channel's id and waits until c holds a
// header committing to it.
func OpenInit(tb testing.TB, c *devnet.Chain, key, connectionID, port, counterpartyPort, version string, order channeltypes.Order) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := Client(tb, c, key)
	signer, err := cl.Address(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := cl.Send(ctx, channeltypes.NewMsgChannelOpenInit(port, version, order, []string{connectionID}, counterpartyPort, signer))
	if err != nil {
		tb.Fatalf("channel open init on %s over %s: %v", c.ChainID, connectionID, err)
	}
	for _, ev := range res.Events {
		if ev.Type != channeltypes.EventTypeChannelOpenInit {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == channeltypes.AttributeKeyChannelID {
				if err := c.WaitHeight(ctx, res.Height+1); err != nil {
					tb.Fatal(err)
				}
				return a.Value
			}
		}
	}
	tb.Fatalf("channel open init on %s: tx %s has no channel id", c.ChainID, res.Hash)
	return ""
}

// Transfer sends amount of the devnet's bond denomination from key's account on c over the transfer
// channel to receiver (timeout in an hour) and returns the packet's sequence.
func Transfer(tb testing.TB, c *devnet.Chain, key, channel string, amount int64, receiver string) uint64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := Client(tb, c, key)
	sender, err := cl.Address(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	msg := transfertypes.NewMsgTransfer(transfertypes.PortID, channel, sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(amount)), sender, receiver,
		clienttypes.ZeroHeight(), uint64(time.Now().Add(time.Hour).UnixNano()), "")
	res, err := cl.Send(ctx, msg)
	if err != nil {
		tb.Fatalf("transfer on %s over %s: %v", c.ChainID, channel, err)
	}
	pks, err := relayer.SendPackets(res.Events)
	if err != nil || len(pks) != 1 {
		tb.Fatalf("transfer on %s over %s: %d packets (%v)", c.ChainID, channel, len(pks), err)
	}
	return pks[0].Sequence
}

// Vouchers is the balance addr holds on c of the bond denomination of the chain at the other end of
// c's transfer channel (its ICS-20 voucher "ibc/<hash of transfer/channel/denom>").
func Vouchers(tb testing.TB, c *devnet.Chain, channel, addr string) sdkmath.Int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	denom := transfertypes.ParseDenomTrace(transfertypes.GetPrefixedDenom(transfertypes.PortID, channel, citychain.BondDenom)).IBCDenom()
	coins, err := Client(tb, c, devnet.RelayerKey).Balances(ctx, addr)
	if err != nil {
		tb.Fatalf("balances of %s on %s: %v", addr, c.ChainID, err)
	}
	return coins.AmountOf(denom)
}

// WaitChannel waits until c's channel (port, id) is in state want, up to timeout.
func WaitChannel(tb testing.TB, c *devnet.Chain, port, id string, want channeltypes.State, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cl := Client(tb, c, devnet.RelayerKey)
	for {
		ch, err := cl.Channel(ctx, port, id)
		if err == nil && ch.State == want {
			return
		}
		select {
		case <-ctx.Done():
			state := "missing"
			if ch != nil {
				state = ch.State.String()
			}
			if err != nil && !errors.Is(err, context.DeadlineExceeded) {
				state += " (" + err.Error() + ")"
			}
			tb.Fatalf("channel %s/%s on %s is %s after %s, want %s", port, id, c.ChainID, state, timeout, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
