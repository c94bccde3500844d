package relayer_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// TestForgedCityCannotOpenADidChannel is the attack of issue 10, on real chains: a second chain that
// also calls itself seoul-1 gets, as anyone can, a client, a connection and the handshake's first step
// on Bucheon, with a stock relayer's moves (no check of ours in the way). Bucheon refuses the did
// channel: its registry recognises another client for seoul-1.
func TestForgedCityCannotOpenADidChannel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	legit, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil) // bucheon-1 recognises the real seoul-1
	bucheon := net.Chain("bucheon-1")

	fakeNet := testnet.Chains(t, "seoul-1")
	fake := fakeNet.Chain("seoul-1")

	attack := &relayer.Path{Name: "mallory", A: end(t, fake, didtypes.PortID), B: end(t, bucheon, didtypes.PortID),
		Version: didtypes.Version, Order: channeltypes.UNORDERED}
	stock := relayer.Linker{Check: light.VerifyProofAgainstAppHash}
	if err := stock.LinkConnection(ctx, attack); err != nil {
		t.Fatalf("clients and connection are permissionless and must open: %v", err)
	}
	if attack.B.ClientID == legit.B.ClientID {
		t.Fatalf("the attacker's client is the registered one: %s", attack.B.ClientID)
	}
	// Our link stops before the channel and says what the admin would have to do.
	err := stock.Link(ctx, attack)
	var nr *relayer.CityNotRegisteredError
	if !errors.As(err, &nr) || !errors.Is(err, relayer.ErrCityNotRegistered) {
		t.Fatalf("link over an unregistered client: want CityNotRegisteredError, got %v", err)
	}
	if !strings.Contains(err.Error(), "citychaind tx did register-city seoul-1 "+attack.B.ClientID) ||
		!strings.Contains(err.Error(), "recognises seoul-1 as client "+legit.B.ClientID) {
		t.Fatalf("the refusal must name the admin command and the registered client: %v", err)
	}

	// The attacker is the admin of its own chain: it recognises Bucheon there and starts the
	// handshake from its side. Bucheon's OnChanOpenTry refuses.
	if _, err := fake.RegisterCity(ctx, "bucheon-1", attack.A.ClientID); err != nil {
		t.Fatal(err)
	}
	err = stock.LinkChannel(ctx, attack)
	if err == nil || !strings.Contains(err.Error(), "client "+attack.B.ClientID+" is not a registered city's client") {
		t.Fatalf("channel open try on bucheon-1 over the forged client: want a refusal that says why, got %v", err)
	}
	if attack.B.ChannelID != "" {
		t.Fatalf("bucheon-1 opened channel %s for the forged city", attack.B.ChannelID)
	}
	// Nor does Bucheon start a did channel over it.
	reverse := &relayer.Path{Name: "mallory-reverse", A: attack.B, B: attack.A, Version: didtypes.Version, Order: channeltypes.UNORDERED}
	reverse.A.ChannelID, reverse.B.ChannelID = "", ""
	err = stock.LinkChannel(ctx, reverse)
	if err == nil || !strings.Contains(err.Error(), "not a registered city's client") || reverse.A.ChannelID != "" {
		t.Fatalf("channel open init on bucheon-1 over the forged client: %v (channel %q)", err, reverse.A.ChannelID)
	}
}

// TestRemovedCityGetsErrorAcks: a city removed from the registry speaks no more: a packet on its
// channel gets an error acknowledgement and writes nothing, and what it delivered before no longer
// verifies as valid.
func TestRemovedCityGetsErrorAcks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	p, before := validOnBucheon(t, r)
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)

	if _, err := bucheon.RemoveCity(ctx, "seoul-1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = bucheon.RegisterCity(context.Background(), "seoul-1", p.B.ClientID) })

	after := issue(t, admin, seoul, 0)
	acks := deliver(t, r, p, mustSend(t, admin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: after}))
	var ack channeltypes.Acknowledgement
	if err := channeltypes.SubModuleCdc.UnmarshalJSON(acks[0].Ack, &ack); err != nil {
		t.Fatal(err)
	}
	if ack.Success() || !strings.Contains(ack.GetError(), "is not a registered city's client") {
		t.Fatalf("ack of a packet over a removed city's client: %s", acks[0].Ack)
	}
	if res := verifyOn(t, p.B, "seoul-1", after); res.Status != verify.StatusAbsent {
		t.Fatalf("a refused packet wrote a record: %+v", res)
	}
	res := verifyOn(t, p.B, "seoul-1", before)
	if res.Status != verify.StatusUnrecognised || !strings.Contains(res.Reason, "does not recognise seoul-1") {
		t.Fatalf("a removed city's earlier record must not verify: %+v", res)
	}
	var dlv didtypes.QueryDeliveryResponse
	if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery", &didtypes.QueryDeliveryRequest{Channel: p.A.ChannelID, Sequence: acks[0].Packet.Sequence}, &dlv, 0); err != nil {
		t.Fatal(err)
	}
	if dlv.Delivery.State != didtypes.DELIVERY_STATE_REJECTED || !strings.Contains(dlv.Delivery.Error, "registered city") {
		t.Fatalf("delivery on seoul-1: %+v", dlv.Delivery)
	}
}

// TestRevokedAttestationTravelsRevoked: revoked in Seoul, then sent to Bucheon, which never saw it:
// Bucheon records it revoked and verify says so.
func TestRevokedAttestationTravelsRevoked(t *testing.T) {
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	id := issue(t, admin, seoul, didtypes.ATTESTATION_STATUS_REVOKED)
	deliver(t, relayer.Relayer{Check: light.VerifyProofAgainstAppHash}, p,
		mustSend(t, admin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id}))
	res := verifyOn(t, p.B, "seoul-1", id)
	if res.Status != verify.StatusRevoked || res.Attestation.StatusSeq == 0 {
		t.Fatalf("revoked attestation sent afterwards: %+v", res)
	}
}

// TestFrozenClientStopsVerifying: Seoul's validators equivocate (a fork): the committed header and a
// conflicting one for the same height, both signed by Seoul's validator key, are submitted to Bucheon as
// misbehaviour and freeze Bucheon's 07-tendermint client of Seoul. A record that arrived over it
// verified valid before and verifies client-frozen after, with a reason naming the client and Seoul.
func TestFrozenClientStopsVerifying(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	p, id := validOnBucheon(t, relayer.Relayer{Check: light.VerifyProofAgainstAppHash})
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")

	// The client's latest consensus state is the trusted one both conflicting headers build on.
	typeURL, value, err := p.B.Chain.ClientState(ctx, p.B.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	var cs ibctm.ClientState
	if typeURL != "/"+proto.MessageName(&cs) || proto.Unmarshal(value, &cs) != nil || !cs.FrozenHeight.IsZero() {
		t.Fatalf("client %s of seoul-1 on bucheon-1: %s %+v", p.B.ClientID, typeURL, cs)
	}
	height := int64(cs.LatestHeight.RevisionHeight) + 1
	if err := seoul.WaitHeight(ctx, height+1); err != nil {
		t.Fatal(err)
	}
	mb, err := seoul.Misbehaviour(ctx, p.B.ClientID, cs.LatestHeight, height)
	if err != nil {
		t.Fatal(err)
	}
	submitter := testnet.Client(t, bucheon, devnet.Relayer2Key)
	msg, err := clienttypes.NewMsgUpdateClient(p.B.ClientID, mb, bucheon.Relayer2.Address)
	if err != nil {
		t.Fatal(err)
	}
	frozeAt := mustSend(t, submitter, msg).Height
	var st clienttypes.QueryClientStatusResponse
	if err := submitter.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ClientStatus", &clienttypes.QueryClientStatusRequest{ClientId: p.B.ClientID}, &st, 0); err != nil {
		t.Fatal(err)
	}
	if st.Status != string(ibcexported.Frozen) {
		t.Fatalf("client %s after misbehaviour: status %s", p.B.ClientID, st.Status)
	}
	// The header after the tx's block commits to the frozen client.
	if err := bucheon.WaitHeight(ctx, frozeAt+1); err != nil {
		t.Fatal(err)
	}
	res := verifyOn(t, p.B, "seoul-1", id)
	if res.Status != verify.StatusClientFrozen || res.Client != p.B.ClientID || res.RegisteredClient != p.B.ClientID || res.Attestation == nil ||
		!strings.Contains(res.Reason, "client "+p.B.ClientID+" of seoul-1 is frozen") {
		t.Fatalf("a record over a frozen client: %+v", res)
	}
}

// TestExpiredClientStopsVerifying: Bucheon's client of Seoul has a 25 s trusting period. A record that
// arrived over it verifies valid, with the client's latest state of Seoul as of when; once no relayer
// has updated the client for its trusting period, ibc-go calls it Expired, and verify answers
// client-expired (a revocation issued in Seoul since could not have arrived), with a reason naming the
// client, Seoul and when it expired. Bucheon's own headers stay verifiable: verify's light client of
// Bucheon trusts for 24 h.
func TestExpiredClientStopsVerifying(t *testing.T) {
	const trusting = 25 * time.Second // room for linking and relaying on a loaded machine
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	p, _ := linkPathTrusting(t, didtypes.PortID, didtypes.Version, nil, trusting)
	id := relayValid(t, relayer.Relayer{Check: light.VerifyProofAgainstAppHash}, p)
	bucheon := net.Chain("bucheon-1")

	// From here on nothing updates the client: its latest consensus state is the one the relay left.
	now := time.Now()
	left, tp, err := relayer.Client{Dst: p.B, Src: p.A}.Expiry(ctx, now)
	if err != nil || tp != trusting || left <= 0 {
		t.Fatalf("client %s of seoul-1 on bucheon-1: %s of trusting period %s left (%v)", p.B.ClientID, left, tp, err)
	}
	expiry := now.Add(left)
	asOf := expiry.Add(-trusting)
	before := verifyOn(t, p.B, "seoul-1", id)
	if before.Status != verify.StatusValid || !before.OriginStateAsOf.Equal(asOf) {
		t.Fatalf("before expiry (client's latest state of seoul-1 of %s): %+v", asOf, before)
	}
	client := testnet.Client(t, bucheon, devnet.RelayerKey)
	status := func() string {
		var st clienttypes.QueryClientStatusResponse
		if err := client.QueryGRPC(ctx, "/ibc.core.client.v1.Query/ClientStatus", &clienttypes.QueryClientStatusRequest{ClientId: p.B.ClientID}, &st, 0); err != nil {
			t.Fatal(err)
		}
		return st.Status
	}
	if st := status(); st != string(ibcexported.Active) {
		t.Fatalf("client %s before expiry: status %s", p.B.ClientID, st)
	}

	t.Logf("waiting %s for client %s to expire at %s", time.Until(expiry).Round(time.Millisecond), p.B.ClientID, expiry.UTC().Format(time.RFC3339Nano))
	time.Sleep(time.Until(expiry))
	// Wait for a Bucheon header whose time is past the expiry (the chain judges by its block time),
	// and the one after, whose app hash commits to that state.
	var h int64
	for lc := testnet.LightOf(t, bucheon); ; {
		lb, err := lc.VerifyLatest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !lb.Time.Before(expiry) {
			h = lb.Height
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := bucheon.WaitHeight(ctx, h+1); err != nil {
		t.Fatal(err)
	}
	if st := status(); st != string(ibcexported.Expired) {
		t.Fatalf("client %s %s after its trusting period: status %s", p.B.ClientID, time.Since(expiry), st)
	}
	res := verifyOn(t, p.B, "seoul-1", id)
	if res.Status != verify.StatusClientExpired || res.Client != p.B.ClientID || res.RegisteredClient != p.B.ClientID || res.Attestation == nil ||
		!res.OriginStateAsOf.Equal(asOf) || res.HeaderTime.Before(expiry) ||
		!strings.Contains(res.Reason, "client "+p.B.ClientID+" of seoul-1 expired at "+expiry.UTC().Format(time.RFC3339)) ||
		!strings.Contains(res.Reason, "revocations issued by seoul-1 since "+asOf.UTC().Format(time.RFC3339)+" cannot have arrived") {
		t.Fatalf("a record over an expired client: %+v", res)
	}
	t.Logf("verify: %s: %s", res.Status, res.Reason)
}

// validOnBucheon links a new did path, issues an attestation in Seoul, relays it to Bucheon with r and
// checks that it verifies valid there, over the path's client, the one Bucheon's registry names for
// Seoul. It returns the path and the attestation's id.
func validOnBucheon(t testing.TB, r relayer.Relayer) (*relayer.Path, string) {
	t.Helper()
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	return p, relayValid(t, r, p)
}

// relayValid issues an attestation in Seoul, relays it over the linked did path p to Bucheon with r and
// checks that it verifies valid there over p's client, the one Bucheon's registry names for Seoul; it
// returns the attestation's id.
func relayValid(t testing.TB, r relayer.Relayer, p *relayer.Path) string {
	t.Helper()
	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	id := issue(t, admin, seoul, 0)
	deliver(t, r, p, mustSend(t, admin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id}))
	if res := verifyOn(t, p.B, "seoul-1", id); res.Status != verify.StatusValid || res.Client != p.B.ClientID || res.RegisteredClient != p.B.ClientID {
		t.Fatalf("relayed to bucheon-1: %+v", res)
	}
	return id
}

// issue issues a residency card in Seoul and, with status set, changes its status; it returns its id.
func issue(t testing.TB, admin *cosmos.Client, seoul *devnet.Chain, status didtypes.AttestationStatus) string {
	t.Helper()
	ctx := context.Background()
	var doc didtypes.QueryDIDResponse
	if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: seoul.Issuer.DID}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	seq := doc.Document.IssuerSeq + 1
	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{byte(seq)}, 32)
	sb := didtypes.AttestationSignBytes(seoul.ChainID, seoul.Issuer.DID, seoul.Issuer.Method, seoul.Citizen.DID, "residency-card", digest, now-60, now+86400, seq)
	sig, err := seoul.Issuer.Sign(sb)
	if err != nil {
		t.Fatal(err)
	}
	id := didtypes.AttestationID(sb)
	msgs := []sdk.Msg{&didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: seoul.Issuer.Method,
		SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 60, ValidUntil: now + 86400, IssuerSeq: seq, Signature: sig}}
	if status != 0 {
		rsig, err := seoul.Issuer.Sign(didtypes.RevocationSignBytes(seoul.ChainID, id, seoul.Issuer.DID, seoul.Issuer.Method, status, seq+1))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, &didtypes.MsgSetAttestationStatus{Submitter: seoul.Admin.Address, AttestationId: id, IssuerMethod: seoul.Issuer.Method,
			NewStatus: status, IssuerSeq: seq + 1, Signature: rsig})
	}
	mustSend(t, admin, msgs...)
	return id
}

// deliver relays the packets a tx sent from A to B and their acknowledgements back; it returns the
// acknowledgements B wrote.
func deliver(t testing.TB, r relayer.Relayer, p *relayer.Path, sent *cosmos.TxResult) []relayer.Ack {
	t.Helper()
	ctx := context.Background()
	packets, err := relayer.SendPackets(sent.Events)
	if err != nil || len(packets) == 0 {
		t.Fatalf("send_packet events: %v %v", packets, err)
	}
	recvTx, seqs, err := r.RecvPackets(ctx, p.A, p.B, packets, sent.Height)
	if err != nil || len(seqs) != len(packets) {
		t.Fatalf("recv: %v (seqs %v)", err, seqs)
	}
	acks, err := relayer.WrittenAcks(recvTx.Events)
	if err != nil || len(acks) != len(packets) {
		t.Fatalf("write_acknowledgement events: %v %v", acks, err)
	}
	if _, _, err := r.AckPackets(ctx, p.B, p.A, acks, recvTx.Height); err != nil {
		t.Fatalf("ack: %v", err)
	}
	// The header after the recv block commits to its writes.
	if err := net.Chain(p.B.ChainID()).WaitHeight(ctx, recvTx.Height+1); err != nil {
		t.Fatal(err)
	}
	return acks
}

// verifyOn verifies on e's chain, as `cityrelay verify` does, with a fresh light client, proving the
// origin's own status with a light client of the devnet's origin chain.
func verifyOn(t testing.TB, e *relayer.End, origin, id string) *verify.Result {
	t.Helper()
	res, err := verifyWith(t, e, origin, id, verify.Options{MaxHeaderAge: time.Minute, Origins: devnetOrigins(t)})
	if err != nil {
		t.Fatalf("verify %s on %s: %v", id, e.ChainID(), err)
	}
	return res
}

// verifyWith verifies on e's chain with a fresh light client and the options o.
func verifyWith(t testing.TB, e *relayer.End, origin, id string, o verify.Options) (*verify.Result, error) {
	t.Helper()
	lc := testnet.LightOf(t, net.Chain(e.ChainID()))
	return verify.Attestation(context.Background(), e.Chain, lc, origin, id, o)
}

// devnetOrigins finds the devnet's chains as origins, each with a fresh light client of its own.
func devnetOrigins(t testing.TB) verify.Origins {
	return func(id string) (verify.Origin, bool) {
		c := net.Chain(id)
		if c == nil {
			return nil, false
		}
		return verify.CosmosOrigin{Chain: testnet.Client(t, c, devnet.RelayerKey), Headers: testnet.LightOf(t, c)}, true
	}
}

// TestForgeryOfAnHonestSequenceIsRefusedAlone: a forged packet carrying the sequence of an honest one,
// in the same batch, is refused on its own; the honest one is delivered.
func TestForgeryOfAnHonestSequenceIsRefusedAlone(t *testing.T) {
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	id := issue(t, admin, seoul, 0)
	sent := mustSend(t, admin, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id})
	pks, err := relayer.SendPackets(sent.Events)
	if err != nil || len(pks) != 1 {
		t.Fatalf("send_packet events: %v %v", pks, err)
	}
	forged := pks[0]
	forged.Data = []byte("forged")
	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	out, err := r.Recv(context.Background(), p.A, p.B,
		[]channeltypes.Packet{pks[0], forged}, sent.Height)
	if err != nil || out.Tx == nil {
		t.Fatalf("recv: %v", err)
	}
	if _, bad := out.Bad[0]; bad || !errors.Is(out.Bad[1], relayer.ErrBadEvent) || len(out.Delivered) != 1 || out.Delivered[0] != pks[0].Sequence {
		t.Fatalf("outcome: delivered %v, bad %v, done %v", out.Delivered, out.Bad, out.Done)
	}
}
