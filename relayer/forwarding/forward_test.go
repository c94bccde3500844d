// Package forwarding_test runs forwarding through a hub on real chains: a star of city chains
// (seoul-1 and bucheon-1 members, wego-1 the association's hub), each member linked once to the hub,
// packets relayed hop by hop by the relayer with proofs checked against verified app hashes.
package forwarding_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

var net *devnet.Devnet

func TestMain(m *testing.M) {
	testnet.Main(m, testnet.Shared{Net: &net, Options: devnet.Options{ChainIDs: []string{"seoul-1", "wego-1", "bucheon-1", "suwon-1"}}})
}

func end(t testing.TB, c *devnet.Chain) *relayer.End {
	return &relayer.End{Chain: testnet.Client(t, c, devnet.RelayerKey), Light: testnet.LightOf(t, c), PortID: didtypes.PortID}
}

func mustSend(t testing.TB, cl *cosmos.Client, msgs ...sdk.Msg) *cosmos.TxResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := cl.Send(ctx, msgs...)
	if err != nil {
		t.Fatalf("send on %s: %v", cl.ChainID(), err)
	}
	return res
}

// star links seoul-1 ↔ wego-1 and wego-1 ↔ bucheon-1 (did paths, each registry recognising the
// other's new client): the member side is A on the first path, B on the second.
func star(t *testing.T) (toHub, fromHub *relayer.Path) {
	t.Helper()
	return link(t, "seoul-1"), spoke(t, "bucheon-1")
}

// link links member ↔ wego-1 (member is A).
func link(t *testing.T, member string) *relayer.Path {
	t.Helper()
	p := &relayer.Path{Name: member + "-wego", A: end(t, net.Chain(member)), B: end(t, net.Chain("wego-1")), Version: didtypes.Version, Order: channeltypes.UNORDERED}
	start := time.Now()
	testnet.LinkPath(t, net, p)
	t.Logf("linked %s in %s", p.Name, time.Since(start).Round(time.Millisecond))
	return p
}

// spoke links wego-1 ↔ member (the hub is A).
func spoke(t *testing.T, member string) *relayer.Path {
	t.Helper()
	p := &relayer.Path{Name: "wego-" + member, A: end(t, net.Chain("wego-1")), B: end(t, net.Chain(member)), Version: didtypes.Version, Order: channeltypes.UNORDERED}
	start := time.Now()
	testnet.LinkPath(t, net, p)
	t.Logf("linked %s in %s", p.Name, time.Since(start).Round(time.Millisecond))
	return p
}

// issue issues a residency card in Seoul (status, if set, changed in the same tx); it returns its id.
func issue(t testing.TB, admin *cosmos.Client, seoul *devnet.Chain) string {
	t.Helper()
	var doc didtypes.QueryDIDResponse
	if err := admin.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: seoul.Issuer.DID}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	seq := doc.Document.IssuerSeq + 1
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{byte(seq), 0x22}, 16)
	sb := didtypes.AttestationSignBytes(seoul.ChainID, seoul.Issuer.DID, seoul.Issuer.Method, seoul.Citizen.DID, "residency-card", digest, now-60, now+86400, seq)
	sig, err := seoul.Issuer.Sign(sb)
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, admin, &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: seoul.Issuer.Method,
		SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 60, ValidUntil: now + 86400, IssuerSeq: seq, Signature: sig})
	return didtypes.AttestationID(sb)
}

// revoke revokes attestation id in Seoul with the issuer's next sequence.
func revoke(t testing.TB, admin *cosmos.Client, seoul *devnet.Chain, id string) {
	t.Helper()
	var doc didtypes.QueryDIDResponse
	if err := admin.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: seoul.Issuer.DID}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	seq := doc.Document.IssuerSeq + 1
	sig, err := seoul.Issuer.Sign(didtypes.RevocationSignBytes(seoul.ChainID, id, seoul.Issuer.DID, seoul.Issuer.Method, didtypes.ATTESTATION_STATUS_REVOKED, seq))
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, admin, &didtypes.MsgSetAttestationStatus{Submitter: seoul.Admin.Address, AttestationId: id, IssuerMethod: seoul.Issuer.Method,
		NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: seq, Signature: sig})
}

// through relays what sent (a tx on seoul-1) put on the way to the hub: the first hop to wego-1; what
// the hub forwarded on to bucheon-1 and bucheon-1's acknowledgements back to the hub; and the
// acknowledgements the hub wrote (synchronously for a packet it refused, asynchronously for one it
// forwarded) back to seoul-1. It returns the acknowledgements seoul-1 received and whether the hub
// forwarded.
func through(t *testing.T, r *relayer.Relayer, toHub, fromHub *relayer.Path, sent *cosmos.TxResult) ([]relayer.Ack, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	packets, err := relayer.SendPackets(sent.Events)
	if err != nil || len(packets) != 1 {
		t.Fatalf("send_packet events on seoul-1: %v %v", packets, err)
	}
	start := time.Now()
	hop1, _, err := r.RecvPackets(ctx, toHub.A, toHub.B, packets, sent.Height)
	if err != nil {
		t.Fatalf("recv on wego-1: %v", err)
	}
	acks, err := relayer.WrittenAcks(hop1.Events)
	if err != nil {
		t.Fatal(err)
	}
	forwarded, err := relayer.SendPackets(hop1.Events)
	if err != nil {
		t.Fatal(err)
	}
	ackHeight := hop1.Height
	if len(forwarded) > 0 {
		if len(acks) != 0 || len(forwarded) != 1 {
			t.Fatalf("the hub forwarded %d packets and acknowledged %d at once", len(forwarded), len(acks))
		}
		hop2, _, err := r.RecvPackets(ctx, fromHub.A, fromHub.B, forwarded, hop1.Height)
		if err != nil {
			t.Fatalf("recv on bucheon-1: %v", err)
		}
		acks2, err := relayer.WrittenAcks(hop2.Events)
		if err != nil || len(acks2) != 1 {
			t.Fatalf("write_acknowledgement on bucheon-1: %v %v", acks2, err)
		}
		back, _, err := r.AckPackets(ctx, fromHub.B, fromHub.A, acks2, hop2.Height)
		if err != nil {
			t.Fatalf("ack on wego-1: %v", err)
		}
		// The hub writes the first hop's acknowledgement when the second's arrives.
		if acks, err = relayer.WrittenAcks(back.Events); err != nil {
			t.Fatal(err)
		}
		ackHeight = back.Height
	}
	if len(acks) != 1 || acks[0].Packet.Sequence != packets[0].Sequence || acks[0].Packet.DestinationChannel != toHub.B.ChannelID {
		t.Fatalf("the first hop's acknowledgement: %+v", acks)
	}
	if _, _, err := r.AckPackets(ctx, toHub.B, toHub.A, acks, ackHeight); err != nil {
		t.Fatalf("ack on seoul-1: %v", err)
	}
	t.Logf("%s → %s → %s and back (forwarded %v) in %s", toHub.A.ChainID(), toHub.B.ChainID(), fromHub.B.ChainID(), len(forwarded) > 0, time.Since(start).Round(time.Millisecond))
	return acks, len(forwarded) > 0
}

func delivery(t *testing.T, cl *cosmos.Client, channel string, seq uint64) didtypes.Delivery {
	t.Helper()
	var res didtypes.QueryDeliveryResponse
	if err := cl.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: channel, Sequence: seq}, &res, 0); err != nil {
		t.Fatal(err)
	}
	return res.Delivery
}

func foreign(cl *cosmos.Client, origin, id string) (didtypes.ForeignAttestation, error) {
	var res didtypes.QueryForeignAttestationResponse
	err := cl.QueryGRPC(context.Background(), "/cityrelay.did.v1.Query/ForeignAttestation", &didtypes.QueryForeignAttestationRequest{OriginChainId: origin, Id: id}, &res, 0)
	return res.Attestation, err
}

// TestForwardingThroughTheHub: an attestation and then its revocation go from seoul-1 to bucheon-1
// through the hub wego-1 (bucheon-1 holds no client of seoul-1); before bucheon-1's registry marks
// wego-1 as a hub, the forwarded packet is refused there and the refusal comes back to seoul-1's
// delivery record naming bucheon-1 and wego-1; a third member gets the same attestation through the
// hub; a member removed from the hub's registry can no longer send through it.
func TestForwardingThroughTheHub(t *testing.T) {
	toHub, fromHub := star(t)
	r := &relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	seoul, wego, bucheon := net.Chain("seoul-1"), net.Chain("wego-1"), net.Chain("bucheon-1")
	seoulAdmin, wegoAdmin, bucheonAdmin := testnet.Client(t, seoul, devnet.AdminKey), testnet.Client(t, wego, devnet.AdminKey), testnet.Client(t, bucheon, devnet.AdminKey)
	sendVia := func(id string) *cosmos.TxResult {
		// No channel: seoul-1 sends on the did channel of wego-1's registered client.
		return mustSend(t, seoulAdmin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, AttestationId: id, DestinationChainId: "bucheon-1", ViaChainId: "wego-1"})
	}
	id := issue(t, seoulAdmin, seoul)

	// 1. bucheon-1 does not (yet) take wego-1 for a hub: a forwarded packet over its channel is refused,
	// and the second hop's refusal reaches seoul-1.
	acks, fwd := through(t, r, toHub, fromHub, sendVia(id))
	if !fwd {
		t.Fatal("the hub did not forward a packet that passed its checks")
	}
	d := delivery(t, seoulAdmin, toHub.A.ChannelID, acks[0].Packet.Sequence)
	if d.State != didtypes.DELIVERY_STATE_REJECTED || !strings.Contains(d.Error, "rejected at bucheon-1 via wego-1") || !strings.Contains(d.Error, "is not a hub in the registry of bucheon-1") ||
		d.Route == nil || d.Route.HubChainId != "wego-1" || d.Route.DestinationChainId != "bucheon-1" {
		t.Fatalf("seoul-1's delivery after the refusal at bucheon-1: %+v", d)
	}
	t.Logf("refused at the destination: %s", d.Error)
	if _, err := foreign(testnet.Client(t, bucheon, devnet.RelayerKey), "seoul-1", id); err == nil {
		t.Fatal("bucheon-1 recorded a packet it refused")
	}
	// The hub ran its checks and holds the record, as for any packet it received.
	if f, err := foreign(wegoAdmin, "seoul-1", id); err != nil || f.Route == nil || f.Route.DestinationChainId != "bucheon-1" {
		t.Fatalf("the hub's record: %+v %v", f, err)
	}

	// 2. The registry admin of bucheon-1 marks wego-1 as a hub: the same attestation sent again goes
	// through, recorded with its route, and the ack reaches seoul-1.
	mustSend(t, bucheonAdmin, &didtypes.MsgRegisterHub{Admin: bucheon.Admin.Address, ChainId: "wego-1"})
	acks, _ = through(t, r, toHub, fromHub, sendVia(id))
	if d := delivery(t, seoulAdmin, toHub.A.ChannelID, acks[0].Packet.Sequence); d.State != didtypes.DELIVERY_STATE_DELIVERED {
		t.Fatalf("seoul-1's delivery through the hub: %+v", d)
	}
	f, err := foreign(bucheonAdmin, "seoul-1", id)
	if err != nil || f.Attestation.Status != didtypes.ATTESTATION_STATUS_ACTIVE || f.Route == nil ||
		*f.Route != (didtypes.Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "wego-1"}) || f.SourceChannel != fromHub.B.ChannelID {
		t.Fatalf("bucheon-1's record: %+v %v", f, err)
	}

	// 3. The revocation follows the same way.
	revoke(t, seoulAdmin, seoul, id)
	acks, _ = through(t, r, toHub, fromHub, mustSend(t, seoulAdmin, &didtypes.MsgSendRevocation{Sender: seoul.Admin.Address,
		SourceChannel: toHub.A.ChannelID, AttestationId: id, DestinationChainId: "bucheon-1", ViaChainId: "wego-1"}))
	if d := delivery(t, seoulAdmin, toHub.A.ChannelID, acks[0].Packet.Sequence); d.State != didtypes.DELIVERY_STATE_DELIVERED || d.Kind != didtypes.KindRevocation {
		t.Fatalf("seoul-1's revocation delivery: %+v", d)
	}
	if f, err := foreign(bucheonAdmin, "seoul-1", id); err != nil || f.Attestation.Status != didtypes.ATTESTATION_STATUS_REVOKED {
		t.Fatalf("bucheon-1's record after the revocation: %+v %v", f.Attestation, err)
	}

	// 4. A third member, suwon-1, linked to the hub only and taking it for a hub: the same attestation
	// (revoked by now) goes there too. The hub holds it already: it checks it again, records it once and
	// forwards it; suwon-1 records it revoked, with its route.
	toSuwon := spoke(t, "suwon-1")
	suwon := net.Chain("suwon-1")
	suwonAdmin := testnet.Client(t, suwon, devnet.AdminKey)
	mustSend(t, suwonAdmin, &didtypes.MsgRegisterHub{Admin: suwon.Admin.Address, ChainId: "wego-1"})
	acks, fwd = through(t, r, toHub, toSuwon, mustSend(t, seoulAdmin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, AttestationId: id,
		DestinationChainId: "suwon-1", ViaChainId: "wego-1"}))
	if d := delivery(t, seoulAdmin, toHub.A.ChannelID, acks[0].Packet.Sequence); !fwd || d.State != didtypes.DELIVERY_STATE_DELIVERED {
		t.Fatalf("seoul-1's delivery to suwon-1 through the hub: %+v", d)
	}
	if f, err := foreign(suwonAdmin, "seoul-1", id); err != nil || f.Attestation.Status != didtypes.ATTESTATION_STATUS_REVOKED || f.Route == nil || f.Route.HubChainId != "wego-1" {
		t.Fatalf("suwon-1's record: %+v %v", f, err)
	}

	// 5. The association removes seoul-1 from the hub's registry: it can no longer send through it.
	ctx := context.Background()
	if _, err := wego.RemoveCity(ctx, "seoul-1"); err != nil {
		t.Fatal(err)
	}
	after := issue(t, seoulAdmin, seoul)
	acks, fwd = through(t, r, toHub, fromHub, sendVia(after))
	if fwd {
		t.Fatal("the hub forwarded for a member it no longer has")
	}
	if d := delivery(t, seoulAdmin, toHub.A.ChannelID, acks[0].Packet.Sequence); d.State != didtypes.DELIVERY_STATE_REJECTED || !strings.Contains(d.Error, "is not a registered city's client") {
		t.Fatalf("seoul-1's delivery after its removal from the hub: %+v", d)
	}
	if _, err := foreign(bucheonAdmin, "seoul-1", after); err == nil {
		t.Fatal("bucheon-1 holds an attestation sent by a removed member")
	}
}
