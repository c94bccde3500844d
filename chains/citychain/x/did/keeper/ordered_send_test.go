package keeper_test

import (
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	storetypes "cosmossdk.io/store/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// orderedOrigin is seoul-1 with two did channels to wego-1 (its hub): channel-0 ORDERED, channel-1
// UNORDERED, over the same registered client.
func orderedOrigin(t *testing.T) (*origin, hubIBC) {
	t.Helper()
	ibc := fakeIBC{
		channels: map[string]string{"channel-0": "connection-1", "channel-1": "connection-1"},
		conns:    map[string]string{"connection-1": "07-tendermint-1"},
		clients:  map[string]string{"07-tendermint-0": "bucheon-1", "07-tendermint-1": "wego-1"},
		ordered:  map[string]bool{"channel-0": true},
	}
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tc := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t_did"))
	h := newHubIBC()
	k := keeper.NewKeeper(citychain.MakeEncodingConfig().Codec, runtime.NewKVStoreService(key), h, ibc, ibc, h, h)
	ctx := tc.Ctx.WithChainID("seoul-1").WithBlockHeight(10).WithBlockTime(time.Unix(1_800_000_000, 0))
	if err := k.SetParams(ctx, types.Params{RegistryAdmin: adminAddr()}); err != nil {
		t.Fatal(err)
	}
	ms := keeper.NewMsgServer(k)
	for city, client := range map[string]string{"bucheon-1": "07-tendermint-0", "wego-1": "07-tendermint-1"} {
		if _, err := ms.RegisterCity(ctx, &types.MsgRegisterCity{Admin: adminAddr(), ChainId: city, ClientId: client}); err != nil {
			t.Fatalf("register %s: %v", city, err)
		}
	}
	return newOriginOn(t, k, ctx), h
}

// TestOrderedChannelSendIsAdminOnly is the attack on an ORDERED did channel: any account sends an
// attestation on it with a timeout just past what the counterparty's client has seen, the packet
// times out, and a MsgTimeout (anyone's) closes the channel, past the app's close guard. Only the
// registry admin sends on an ORDERED did channel, with the timeout it chooses; everyone still sends
// on an UNORDERED one; a route never takes an ORDERED first hop, not even the admin's.
func TestOrderedChannelSendIsAdminOnly(t *testing.T) {
	o, h := orderedOrigin(t)
	id := o.mustIssue("key-1", 1)
	if err := o.setStatus(id, "key-1", types.ATTESTATION_STATUS_SUSPENDED, 2); err != nil {
		t.Fatal(err)
	}
	sm := types.ServiceMessage{ServiceType: "parking.permit", SenderDid: o.did, SenderMethod: "key-1", OriginChainId: "seoul-1",
		DestinationChainId: "wego-1", Nonce: 1, Expiry: o.ctx.BlockTime().Unix() + 600, Payload: []byte(`{"zone":3}`)}
	sm.Signature = types.SignEd25519(o.keys["key-1"], sm.SignBytes())
	soon := uint64(o.ctx.BlockTime().Add(time.Second).UnixNano())

	refused := []struct {
		name string
		want *errorsmod.Error
		run  func() error
	}{
		{"stranger's attestation, short timeout", types.ErrUnauthorized, func() error {
			_, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: strangerAddr(), SourceChannel: "channel-0", AttestationId: id, TimeoutTimestamp: soon})
			return err
		}},
		{"stranger's attestation, timeout height", types.ErrUnauthorized, func() error {
			_, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: strangerAddr(), SourceChannel: "channel-0", AttestationId: id, TimeoutHeight: 11})
			return err
		}},
		{"stranger's attestation, default timeout", types.ErrUnauthorized, func() error {
			_, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: strangerAddr(), SourceChannel: "channel-0", AttestationId: id})
			return err
		}},
		{"issuer controller's revocation", types.ErrUnauthorized, func() error {
			_, err := o.ms.SendRevocation(o.ctx, &types.MsgSendRevocation{Sender: o.ctrl, SourceChannel: "channel-0", AttestationId: id, TimeoutTimestamp: soon})
			return err
		}},
		{"stranger's service message", types.ErrUnauthorized, func() error {
			_, err := o.ms.SendServiceMessage(o.ctx, &types.MsgSendServiceMessage{Sender: strangerAddr(), SourceChannel: "channel-0", Message: sm, TimeoutTimestamp: soon})
			return err
		}},
		{"admin's route over the ORDERED channel", types.ErrRoute, func() error {
			_, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: adminAddr(), SourceChannel: "channel-0", AttestationId: id,
				DestinationChainId: "bucheon-1", ViaChainId: "wego-1"})
			return err
		}},
		{"admin's routed service message over the ORDERED channel", types.ErrRoute, func() error {
			_, err := o.ms.SendServiceMessage(o.ctx, &types.MsgSendServiceMessage{Sender: adminAddr(), SourceChannel: "channel-0", Message: sm, ViaChainId: "wego-1"})
			return err
		}},
	}
	for _, tc := range refused {
		err := tc.run()
		requireCode(t, err, tc.want)
		if tc.want == types.ErrUnauthorized && !strings.Contains(err.Error(), "only the registry admin sends on an ORDERED did channel") {
			t.Fatalf("%s: refusal does not say why: %v", tc.name, err)
		}
		if len(*h.sent) != 0 {
			t.Fatalf("%s: refused send put %d packets on a channel", tc.name, len(*h.sent))
		}
		if _, ok, err := o.k.GetDelivery(o.ctx, "channel-0", 1); err != nil || ok {
			t.Fatalf("%s: refused send recorded a delivery (%v, %v)", tc.name, ok, err)
		}
	}

	// The admin sends on the ORDERED channel, with the timeout it chooses.
	res, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: adminAddr(), SourceChannel: "channel-0", AttestationId: id, TimeoutTimestamp: soon})
	if err != nil {
		t.Fatalf("admin's send on the ORDERED channel: %v", err)
	}
	if res.Sequence != 1 || len(*h.sent) != 1 {
		t.Fatalf("admin's send: sequence %d, %d packets sent; want 1, 1", res.Sequence, len(*h.sent))
	}
	if p := (*h.sent)[0]; p.SourceChannel != "channel-0" || p.TimeoutTimestamp != soon {
		t.Fatalf("admin's packet on %s with timeout %d; want channel-0, %d", p.SourceChannel, p.TimeoutTimestamp, soon)
	}
	if _, err := o.ms.SendRevocation(o.ctx, &types.MsgSendRevocation{Sender: adminAddr(), SourceChannel: "channel-0", AttestationId: id}); err != nil {
		t.Fatalf("admin's revocation on the ORDERED channel: %v", err)
	}

	// Anyone sends on the UNORDERED channel (a timeout there resolves only its packet), directly or routed.
	if _, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: strangerAddr(), SourceChannel: "channel-1", AttestationId: id, TimeoutTimestamp: soon}); err != nil {
		t.Fatalf("stranger's send on the UNORDERED channel: %v", err)
	}
	if _, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: strangerAddr(), SourceChannel: "channel-1", AttestationId: id,
		DestinationChainId: "bucheon-1", ViaChainId: "wego-1"}); err != nil {
		t.Fatalf("stranger's route over the UNORDERED channel: %v", err)
	}
	// Without a channel the route takes the hub's UNORDERED channel, passing the ORDERED channel-0.
	if _, err := o.ms.SendRevocation(o.ctx, &types.MsgSendRevocation{Sender: strangerAddr(), AttestationId: id,
		DestinationChainId: "bucheon-1", ViaChainId: "wego-1"}); err != nil {
		t.Fatalf("stranger's route through the hub: %v", err)
	}
	sent := *h.sent
	if len(sent) != 5 {
		t.Fatalf("%d packets sent, want 5", len(sent))
	}
	for i, p := range sent[2:] {
		if p.SourceChannel != "channel-1" {
			t.Fatalf("packet %d on %s, want the UNORDERED channel-1", i+2, p.SourceChannel)
		}
	}
}
