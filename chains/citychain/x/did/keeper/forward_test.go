package keeper_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	storetypes "cosmossdk.io/store/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// hubIBC is the IBC core a hub sees: it holds every channel's capability, gives sent packets the next
// sequence of their channel and keeps what the did module sent and the acknowledgements it wrote.
type hubIBC struct {
	seqs  map[string]uint64
	sent  *[]channeltypes.Packet
	acked *[]writtenAck
	// failWrite makes WriteAcknowledgement fail (a closed first-hop channel, say).
	failWrite *bool
}

type writtenAck struct {
	packet exported.PacketI
	ack    channeltypes.Acknowledgement
}

func newHubIBC() hubIBC {
	return hubIBC{seqs: map[string]uint64{}, sent: &[]channeltypes.Packet{}, acked: &[]writtenAck{}, failWrite: new(bool)}
}

func (h hubIBC) SendPacket(_ sdk.Context, _ *capabilitytypes.Capability, port, channel string, th clienttypes.Height, tt uint64, data []byte) (uint64, error) {
	h.seqs[channel]++
	*h.sent = append(*h.sent, channeltypes.Packet{Sequence: h.seqs[channel], SourcePort: port, SourceChannel: channel, Data: data, TimeoutHeight: th, TimeoutTimestamp: tt})
	return h.seqs[channel], nil
}

func (h hubIBC) WriteAcknowledgement(_ sdk.Context, _ *capabilitytypes.Capability, p exported.PacketI, ack exported.Acknowledgement) error {
	if *h.failWrite {
		return errors.New("channel closed")
	}
	// As ibc-go does: the acknowledgement's bytes are what is committed.
	var a channeltypes.Acknowledgement
	if err := channeltypes.SubModuleCdc.UnmarshalJSON(ack.Acknowledgement(), &a); err != nil {
		return err
	}
	*h.acked = append(*h.acked, writtenAck{packet: p, ack: a})
	return nil
}
func (hubIBC) BindPort(sdk.Context, string) *capabilitytypes.Capability {
	return capabilitytypes.NewCapability(1)
}
func (hubIBC) GetCapability(sdk.Context, string) (*capabilitytypes.Capability, bool) {
	return capabilitytypes.NewCapability(1), true
}
func (hubIBC) AuthenticateCapability(sdk.Context, *capabilitytypes.Capability, string) bool {
	return true
}
func (hubIBC) ClaimCapability(sdk.Context, *capabilitytypes.Capability, string) error { return nil }

// hubChain is wego-1, the association's hub. Its registry recognises 07-tendermint-0 for seoul-1
// (channel-0) and 07-tendermint-1 for bucheon-1 (channel-1); channel-3 runs over 07-tendermint-3, a
// client of a chain that also calls itself seoul-1; gimpo-1 is registered (07-tendermint-5) but has no
// channel.
func hubChain(t *testing.T) (keeper.Keeper, sdk.Context, hubIBC) {
	t.Helper()
	ibc := fakeIBC{
		channels: map[string]string{"channel-0": "connection-0", "channel-1": "connection-1", "channel-3": "connection-3"},
		conns:    map[string]string{"connection-0": "07-tendermint-0", "connection-1": "07-tendermint-1", "connection-3": "07-tendermint-3"},
		clients:  map[string]string{"07-tendermint-0": "seoul-1", "07-tendermint-1": "bucheon-1", "07-tendermint-3": "seoul-1", "07-tendermint-5": "gimpo-1"},
	}
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tc := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t_did"))
	h := newHubIBC()
	k := keeper.NewKeeper(citychain.MakeEncodingConfig().Codec, runtime.NewKVStoreService(key), h, ibc, ibc, h, h)
	ctx := tc.Ctx.WithChainID("wego-1").WithBlockHeight(50).WithBlockTime(time.Unix(1_800_000_000, 0))
	if err := k.SetParams(ctx, types.Params{RegistryAdmin: adminAddr()}); err != nil {
		t.Fatal(err)
	}
	ms := keeper.NewMsgServer(k)
	for city, client := range map[string]string{"seoul-1": "07-tendermint-0", "bucheon-1": "07-tendermint-1", "gimpo-1": "07-tendermint-5"} {
		if _, err := ms.RegisterCity(ctx, &types.MsgRegisterCity{Admin: adminAddr(), ChainId: city, ClientId: client}); err != nil {
			t.Fatalf("register %s: %v", city, err)
		}
	}
	return k, ctx, h
}

func routed(d types.DIDPacketData, origin, dest, hub string) types.DIDPacketData {
	d.Route = &types.Route{OriginChainId: origin, DestinationChainId: dest, HubChainId: hub}
	return d
}

// receive is recv through Receive, with a packet timeout, reporting whether the packet was forwarded.
func receive(k keeper.Keeper, ctx sdk.Context, channel string, seq uint64, d types.DIDPacketData) (types.AckResult, bool, error) {
	decoded, err := types.DecodePacketData(d.GetBytes())
	if err != nil {
		return types.AckResult{}, false, err
	}
	p := channeltypes.Packet{Sequence: seq, SourcePort: types.PortID, SourceChannel: "channel-7", DestinationPort: types.PortID,
		DestinationChannel: channel, Data: d.GetBytes(), TimeoutTimestamp: 1_800_000_600_000_000_000}
	return k.Receive(ctx, p, decoded)
}

func TestHubForwardsAfterEveryCheck(t *testing.T) {
	k, ctx, h := hubChain(t)
	p := attestationPacket("seoul-1", 1, 1_900_000_000)
	res, forwarded, err := receive(k, ctx, "channel-0", 4, routed(att(p), "seoul-1", "bucheon-1", ""))
	if err != nil || !forwarded || res.Ref != p.Attestation.Id {
		t.Fatalf("forward: res %+v forwarded %v err %v", res, forwarded, err)
	}
	// Recorded on the hub like any received packet, with its route.
	f, ok, err := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if err != nil || !ok || f.Route == nil || f.Route.DestinationChainId != "bucheon-1" {
		t.Fatalf("hub's record %+v ok=%v err=%v", f, ok, err)
	}
	// Sent on bucheon-1's channel with the hub in the route, the first hop's timeout kept.
	if len(*h.sent) != 1 {
		t.Fatalf("sent %d packets", len(*h.sent))
	}
	out := (*h.sent)[0]
	d, err := types.DecodePacketData(out.Data)
	if err != nil {
		t.Fatal(err)
	}
	if out.SourceChannel != "channel-1" || d.Route == nil || *d.Route != (types.Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "wego-1"}) ||
		out.TimeoutTimestamp != 1_800_000_600_000_000_000 || d.GetAttestation().Attestation.Id != p.Attestation.Id {
		t.Fatalf("forwarded packet %+v route %+v", out, d.Route)
	}
	pf, ok, err := k.GetPendingForward(ctx, "channel-1", out.Sequence)
	if err != nil || !ok || pf.InDestinationChannel != "channel-0" || pf.InSequence != 4 || pf.OriginChainId != "seoul-1" {
		t.Fatalf("pending forward %+v ok=%v err=%v", pf, ok, err)
	}
	dlv, ok, err := k.GetDelivery(ctx, "channel-1", out.Sequence)
	if err != nil || !ok || dlv.Route == nil || dlv.Route.HubChainId != "wego-1" {
		t.Fatalf("hub's delivery %+v", dlv)
	}
	// The same attestation to another member: checked again, recorded once, forwarded.
	if _, forwarded, err := receive(k, ctx, "channel-0", 5, routed(att(p), "seoul-1", "bucheon-1", "")); err != nil || !forwarded {
		t.Fatalf("the same attestation forwarded again: forwarded %v err %v", forwarded, err)
	}

	// bucheon-1 rejects: the first hop's acknowledgement is an error naming where and through whom.
	second := channeltypes.Packet{Sequence: out.Sequence, SourcePort: types.PortID, SourceChannel: "channel-1", DestinationPort: types.PortID, DestinationChannel: "channel-9", Data: out.Data}
	// A first-hop acknowledgement that cannot be written loses nothing: the pending forward stays.
	*h.failWrite = true
	if err := k.OnAcknowledgement(ctx, second, types.ErrorAcknowledgement(errorsmod.Wrap(types.ErrNotHub, "wego-1 is not a hub"))); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := k.GetPendingForward(ctx, "channel-1", out.Sequence); !ok || len(*h.acked) != 0 {
		t.Fatalf("a failed first-hop acknowledgement: pending forward kept %v, %d written", ok, len(*h.acked))
	}
	*h.failWrite = false
	if err := k.OnAcknowledgement(ctx, second, types.ErrorAcknowledgement(errorsmod.Wrap(types.ErrNotHub, "wego-1 is not a hub"))); err != nil {
		t.Fatal(err)
	}
	if len(*h.acked) != 1 {
		t.Fatalf("%d acknowledgements written", len(*h.acked))
	}
	w := (*h.acked)[0]
	if w.packet.GetDestChannel() != "channel-0" || w.packet.GetSequence() != 4 || w.ack.Success() ||
		!strings.Contains(w.ack.GetError(), "rejected at bucheon-1 via wego-1: did: code 30: wego-1 is not a hub") {
		t.Fatalf("first hop's ack: packet %s/%d ack %+v", w.packet.GetDestChannel(), w.packet.GetSequence(), w.ack)
	}
	if _, ok, _ := k.GetPendingForward(ctx, "channel-1", out.Sequence); ok {
		t.Fatal("pending forward kept after its acknowledgement")
	}
	if dlv, _, _ := k.GetDelivery(ctx, "channel-1", out.Sequence); dlv.State != types.DELIVERY_STATE_REJECTED {
		t.Fatalf("hub's delivery after the error: %+v", dlv)
	}

	// A success passes through as it is; a timeout becomes an error.
	second2 := (*h.sent)[1]
	okAck := channeltypes.NewResultAcknowledgement([]byte("result"))
	if err := k.OnAcknowledgement(ctx, channeltypes.Packet{Sequence: second2.Sequence, SourceChannel: "channel-1", SourcePort: types.PortID}, okAck); err != nil {
		t.Fatal(err)
	}
	if w := (*h.acked)[1]; !w.ack.Success() || string(w.ack.GetResult()) != "result" || w.packet.GetSequence() != 5 {
		t.Fatalf("first hop's ack of a delivered packet: %+v", w)
	}
	if _, forwarded, err := receive(k, ctx, "channel-0", 6, routed(att(p), "seoul-1", "bucheon-1", "")); err != nil || !forwarded {
		t.Fatal(err)
	}
	third := (*h.sent)[2]
	if err := k.OnTimeout(ctx, channeltypes.Packet{Sequence: third.Sequence, SourceChannel: "channel-1", SourcePort: types.PortID}); err != nil {
		t.Fatal(err)
	}
	if w := (*h.acked)[2]; w.ack.Success() || !strings.Contains(w.ack.GetError(), "timed out on the way to bucheon-1 via wego-1") {
		t.Fatalf("first hop's ack of a timed-out forward: %+v", w.ack)
	}

	// A revocation follows the same way.
	r := revocationPacket(p.Attestation, types.ATTESTATION_STATUS_REVOKED, 2)
	if _, forwarded, err := receive(k, ctx, "channel-0", 7, routed(rev(r), "seoul-1", "bucheon-1", "")); err != nil || !forwarded {
		t.Fatalf("revocation: forwarded %v err %v", forwarded, err)
	}
	if f, _, _ := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id); f.Attestation.Status != types.ATTESTATION_STATUS_REVOKED {
		t.Fatalf("hub's record after the revocation: %+v", f.Attestation)
	}

	// The pending forward and nothing else of it survives an export.
	if _, forwarded, err := receive(k, ctx, "channel-0", 8, routed(svc(serviceMessage("seoul-1", "bucheon-1", 1, 1_900_000_000)), "seoul-1", "bucheon-1", "")); err != nil || !forwarded {
		t.Fatalf("service message: forwarded %v err %v", forwarded, err)
	}
	gs, err := k.ExportGenesis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(gs.PendingForwards) != 2 || len(gs.Inbox) != 0 {
		t.Fatalf("export: %d pending forwards (want the revocation's and the message's), %d inbox entries (a hub keeps no inbox for others)", len(gs.PendingForwards), len(gs.Inbox))
	}
}

func TestHubRefusals(t *testing.T) {
	valid := attestationPacket("seoul-1", 1, 1_900_000_000)
	for _, tc := range []struct {
		name    string
		channel string
		data    types.DIDPacketData
		want    *errorsmod.Error
		remove  string
	}{
		{"origin's client not registered", "channel-3", routed(att(valid), "seoul-1", "bucheon-1", ""), types.ErrCityNotRegistered, ""},
		{"member removed from the hub's registry", "channel-0", routed(att(valid), "seoul-1", "bucheon-1", ""), types.ErrCityNotRegistered, "seoul-1"},
		{"issuer DID of another city", "channel-0", routed(att(attestationPacketBy("seoul-1", "did:city:busan-1:civil-office", 1)), "seoul-1", "bucheon-1", ""), types.ErrOriginMismatch, ""},
		{"destination not a member", "channel-0", routed(att(valid), "seoul-1", "jeju-1", ""), types.ErrRoute, ""},
		{"destination without a did channel", "channel-0", routed(att(valid), "seoul-1", "gimpo-1", ""), types.ErrRoute, ""},
		{"routed here without a hub", "channel-0", routed(att(valid), "seoul-1", "wego-1", ""), types.ErrRoute, ""},
		// A packet that already went through a hub is never forwarded again.
		{"a hub's packet for another chain", "channel-1", routed(att(attestationPacket("seoul-1", 1, 1_900_000_000)), "seoul-1", "gimpo-1", "bucheon-1"), types.ErrNotHub, ""},
		{"service message for another destination", "channel-0", routed(svc(serviceMessage("seoul-1", "gimpo-1", 1, 1_900_000_000)), "seoul-1", "bucheon-1", ""), types.ErrWrongDestination, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, ctx, h := hubChain(t)
			if tc.remove != "" {
				if _, err := keeper.NewMsgServer(k).RemoveCity(ctx, &types.MsgRemoveCity{Admin: adminAddr(), ChainId: tc.remove}); err != nil {
					t.Fatal(err)
				}
			}
			_, forwarded, err := receive(k, ctx, tc.channel, 1, tc.data)
			requireCode(t, err, tc.want)
			if forwarded || len(*h.sent) != 0 {
				t.Fatalf("refused packet forwarded (%d sent)", len(*h.sent))
			}
		})
	}
}

// TestMemberAcceptsForwardedOnlyFromAHub is the destination's side: bucheon-1 (receiver) holds
// wego-1's client on channel-1 and seoul-1's on channel-0.
func TestMemberAcceptsForwardedOnlyFromAHub(t *testing.T) {
	k, ctx := receiver(t)
	ms := keeper.NewMsgServer(k)
	p := attestationPacket("gimpo-1", 1, 1_900_000_000) // bucheon-1 has no client of gimpo-1: the hub vouches
	viaWego := routed(att(p), "gimpo-1", "bucheon-1", "wego-1")

	_, err := recv(k, ctx, "channel-1", 1, viaWego)
	requireCode(t, err, types.ErrNotHub)
	if !strings.Contains(err.Error(), "wego-1 (channel channel-1) is not a hub in the registry of bucheon-1") {
		t.Fatalf("refusal must say why: %v", err)
	}
	if _, err := ms.RegisterHub(ctx, &types.MsgRegisterHub{Admin: "cosmos1notadmin", ChainId: "wego-1"}); !types.ErrUnauthorized.Is(err) {
		t.Fatalf("register-hub by another account: %v", err)
	}
	if _, err := ms.RegisterHub(ctx, &types.MsgRegisterHub{Admin: adminAddr(), ChainId: "jeju-1"}); !types.ErrCityNotRegistered.Is(err) {
		t.Fatalf("register-hub of an unregistered city: %v", err)
	}
	if _, err := ms.RegisterHub(ctx, &types.MsgRegisterHub{Admin: adminAddr(), ChainId: "wego-1"}); err != nil {
		t.Fatal(err)
	}
	if hubs, err := k.Hubs(ctx); err != nil || len(hubs) != 1 || hubs[0] != "wego-1" {
		t.Fatalf("hubs %v %v", hubs, err)
	}

	for _, tc := range []struct {
		name    string
		channel string
		data    types.DIDPacketData
		want    *errorsmod.Error
	}{
		{"route names a hub that is not the channel's city", "channel-0", routed(att(attestationPacket("seoul-1", 1, 1_900_000_000)), "seoul-1", "bucheon-1", "wego-1"), types.ErrNotHub},
		{"issuer DID of another city than the route's origin", "channel-1", routed(att(attestationPacketBy("gimpo-1", "did:city:busan-1:civil-office", 1)), "gimpo-1", "bucheon-1", "wego-1"), types.ErrOriginMismatch},
		{"forwarded for another chain", "channel-1", routed(att(p), "gimpo-1", "jeju-1", "wego-1"), types.ErrRoute},
		{"a hub speaking for this chain", "channel-1", routed(att(attestationPacket("bucheon-1", 1, 1_900_000_000)), "bucheon-1", "jeju-1", "wego-1"), types.ErrRoute},
		{"signature by another key", "channel-1", func() types.DIDPacketData {
			q := attestationPacket("gimpo-1", 1, 1_900_000_000)
			q.Attestation.Signature = types.SignEd25519(otherPriv(), q.Attestation.SignBytes())
			return routed(att(q), "gimpo-1", "bucheon-1", "wego-1")
		}(), types.ErrInvalidSignature},
	} {
		if _, err := recv(k, ctx, tc.channel, 2, tc.data); !tc.want.Is(err) {
			t.Fatalf("%s: want %v, got %v", tc.name, tc.want, err)
		}
	}

	res, err := recv(k, ctx, "channel-1", 3, viaWego)
	if err != nil || res.Ref != p.Attestation.Id {
		t.Fatalf("forwarded by a hub: %+v %v", res, err)
	}
	f, ok, err := k.GetForeignAttestation(ctx, "gimpo-1", p.Attestation.Id)
	if err != nil || !ok || f.Route == nil || f.Route.HubChainId != "wego-1" || f.SourceChannel != "channel-1" {
		t.Fatalf("record %+v ok=%v err=%v", f, ok, err)
	}
	// Recorded once: the same again is a duplicate, as over any channel.
	if _, err := recv(k, ctx, "channel-1", 4, viaWego); !types.ErrAttestationExists.Is(err) {
		t.Fatalf("duplicate through the hub: %v", err)
	}
	// The revocation follows through the hub, with the origin's sequence rules.
	r := revocationPacket(p.Attestation, types.ATTESTATION_STATUS_REVOKED, 2)
	if _, err := recv(k, ctx, "channel-1", 5, routed(rev(r), "gimpo-1", "bucheon-1", "wego-1")); err != nil {
		t.Fatal(err)
	}
	if f, _, _ := k.GetForeignAttestation(ctx, "gimpo-1", p.Attestation.Id); f.Attestation.Status != types.ATTESTATION_STATUS_REVOKED {
		t.Fatalf("after the revocation: %+v", f.Attestation)
	}
	// A service message through the hub lands in the inbox.
	if _, err := recv(k, ctx, "channel-1", 6, routed(svc(serviceMessage("gimpo-1", "bucheon-1", 1, 1_900_000_000)), "gimpo-1", "bucheon-1", "wego-1")); err != nil {
		t.Fatal(err)
	}

	gs, err := k.ExportGenesis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Validate(); err != nil || len(gs.Hubs) != 1 {
		t.Fatalf("export: hubs %v, %v", gs.Hubs, err)
	}
	// Removing the hub role, or the city with it, stops forwarded packets.
	if _, err := ms.RemoveHub(ctx, &types.MsgRemoveHub{Admin: adminAddr(), ChainId: "wego-1"}); err != nil {
		t.Fatal(err)
	}
	q := attestationPacket("gimpo-1", 3, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-1", 7, routed(att(q), "gimpo-1", "bucheon-1", "wego-1")); !types.ErrNotHub.Is(err) {
		t.Fatalf("after remove-hub: %v", err)
	}
	if _, err := ms.RegisterHub(ctx, &types.MsgRegisterHub{Admin: adminAddr(), ChainId: "wego-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.RemoveCity(ctx, &types.MsgRemoveCity{Admin: adminAddr(), ChainId: "wego-1"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := k.IsHub(ctx, "wego-1"); ok {
		t.Fatal("a removed city kept its hub role")
	}
}

func otherPriv() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)) }
