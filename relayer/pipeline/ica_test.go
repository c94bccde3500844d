package pipeline_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/gogoproto/proto"
	icacontrollertypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/controller/types"
	icahosttypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/host/types"
	icatypes "github.com/cosmos/ibc-go/v8/modules/apps/27-interchain-accounts/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/pipeline"
)

// TestICAOrdered500InOrder: Seoul's admin registers an interchain account on Bucheon over an
// ORDERED ICS-27 channel (the stock ordered application of ibc-go v8; ICS-20 refuses ordered
// channels), the handshake Seoul began is completed with proofs, and 500 MsgSendTx packets (each a
// bank send of 1 from the account) are relayed: Bucheon's next_sequence_recv is 501, the recv and ack
// txs carry 1..500 in order, and the recipient holds exactly 500 more.
func TestICAOrdered500InOrder(t *testing.T) {
	ctx := context.Background()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	p, account := testnet.ICAPath(t, net, "seoul-bucheon-ica", "seoul-1", "bucheon-1")
	t.Logf("interchain account %s on bucheon-1 over %s/%s <-> %s/%s", account, p.A.PortID, p.A.ChannelID, p.B.PortID, p.B.ChannelID)
	bucheonAdmin := testnet.ClientWith(t, bucheon, devnet.AdminKey, rpcOnly)
	if _, err := bucheonAdmin.Send(ctx, banktypes.NewMsgSend(sdk.MustAccAddressFromBech32(bucheon.Admin.Address), sdk.MustAccAddressFromBech32(account),
		sdk.NewCoins(sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(1_000_000))))); err != nil {
		t.Fatalf("fund the interchain account: %v", err)
	}
	// The host runs only sends for an interchain account: never "*", which would let a remote account
	// send MsgChannelCloseInit on port did past the ante handler's close guard.
	var hp icahosttypes.QueryParamsResponse
	if err := bucheonAdmin.QueryGRPC(ctx, "/ibc.applications.interchain_accounts.host.v1.Query/Params", &icahosttypes.QueryParamsRequest{}, &hp, 0); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/cosmos.bank.v1beta1.MsgSend", "/cosmos.bank.v1beta1.MsgMultiSend"}; !hp.Params.HostEnabled || !reflect.DeepEqual(hp.Params.AllowMessages, want) {
		t.Fatalf("ICA host params %+v, want enabled with %v", hp.Params, want)
	}
	recipient := bucheon.Relayer2.Address
	before := balance(t, bucheonAdmin, recipient)

	var mu sync.Mutex
	var recvOrder, ackOrder []uint64
	js := testnet.JetStream(t, time.Hour)
	runPipeline(t, js, p, pipeline.Options{BatchMax: 50,
		OnDelivered: func(d pipeline.Delivered) {
			mu.Lock()
			defer mu.Unlock()
			switch d.Kind {
			case packets.KindRecv:
				recvOrder = append(recvOrder, d.Sequences...)
			case packets.KindAck:
				ackOrder = append(ackOrder, d.Sequences...)
			}
		}})
	time.Sleep(2 * time.Second) // the scanners start

	cdc := citychain.MakeEncodingConfig().Codec
	send := banktypes.NewMsgSend(sdk.MustAccAddressFromBech32(account), sdk.MustAccAddressFromBech32(recipient), sdk.NewCoins(sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(1))))
	data, err := icatypes.SerializeCosmosTx(cdc, []proto.Message{send}, icatypes.EncodingProtobuf)
	if err != nil {
		t.Fatal(err)
	}
	admin := testnet.ClientWith(t, seoul, devnet.AdminKey, rpcOnly)
	for range 10 {
		var msgs []sdk.Msg
		for range 50 {
			msgs = append(msgs, icacontrollertypes.NewMsgSendTx(seoul.Admin.Address, p.A.ConnectionID, uint64(10*time.Minute),
				icatypes.InterchainAccountPacketData{Type: icatypes.EXECUTE_TX, Data: data}))
		}
		if _, err := admin.Send(ctx, msgs...); err != nil {
			t.Fatalf("send 50 ICA txs: %v", err)
		}
	}
	start := time.Now()
	testnet.Eventually(t, 5*time.Minute, "500 ICA packets received on bucheon-1", func() bool {
		return testnet.NextSequenceRecv(t, p.B.Chain.(*cosmos.Client), p.B.PortID, p.B.ChannelID) == 501
	})
	t.Logf("500 ICA packets received in order %s after the last send", time.Since(start).Round(time.Millisecond))
	testnet.Eventually(t, 3*time.Minute, "500 acknowledgements relayed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ackOrder) >= 500
	})
	mu.Lock()
	defer mu.Unlock()
	if err := consecutive(recvOrder, 500); err != nil {
		t.Fatalf("recv order: %v", err)
	}
	if err := consecutive(ackOrder, 500); err != nil {
		t.Fatalf("ack order: %v", err)
	}
	if got := balance(t, bucheonAdmin, recipient); !got.Equal(before.AddRaw(500)) {
		t.Fatalf("recipient balance %s, want %s + 500: the host executed another number of sends", got, before)
	}
}

func balance(t *testing.T, cl *cosmos.Client, addr string) sdkmath.Int {
	t.Helper()
	var resp banktypes.QueryBalanceResponse
	if err := cl.QueryGRPC(context.Background(), "/cosmos.bank.v1beta1.Query/Balance", &banktypes.QueryBalanceRequest{Address: addr, Denom: citychain.BondDenom}, &resp, 0); err != nil {
		t.Fatal(err)
	}
	return resp.Balance.Amount
}
