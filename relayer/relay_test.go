package relayer_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

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

// TestRelayAttestationAndAck issues an attestation in Seoul, sends it over the did channel, relays it
// to Bucheon with a proof checked against Seoul's verified app hash, and relays Bucheon's
// acknowledgement back: Bucheon stores the foreign attestation and Seoul records the delivery.
func TestRelayAttestationAndAck(t *testing.T) {
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	ctx := context.Background()

	now := time.Now().Unix()
	digest := bytes.Repeat([]byte{0x5a}, 32)
	var doc didtypes.QueryDIDResponse
	if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: seoul.Issuer.DID}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	seq := doc.Document.IssuerSeq + 1
	sb := didtypes.AttestationSignBytes(seoul.ChainID, seoul.Issuer.DID, seoul.Issuer.Method, seoul.Citizen.DID, "residency-card", digest, now-60, now+86400, seq)
	sig, err := seoul.Issuer.Sign(sb)
	if err != nil {
		t.Fatal(err)
	}
	id := didtypes.AttestationID(sb)
	issue := &didtypes.MsgIssueAttestation{Submitter: seoul.Admin.Address, IssuerDid: seoul.Issuer.DID, IssuerMethod: seoul.Issuer.Method,
		SubjectDid: seoul.Citizen.DID, CredentialType: "residency-card", Digest: digest, ValidFrom: now - 60, ValidUntil: now + 86400,
		IssuerSeq: seq, Signature: sig}
	send := &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id}
	sent := mustSend(t, admin, issue, send)
	packets, err := relayer.SendPackets(sent.Events)
	if err != nil || len(packets) != 1 {
		t.Fatalf("send_packet events: %v %v", packets, err)
	}

	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	// Bring Bucheon's client above the send height first so the recv tx carries MsgRecvPacket alone
	// and its gas is the packet's.
	if err := seoul.WaitHeight(ctx, sent.Height+2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (relayer.Client{Dst: p.B, Src: p.A}).Update(ctx); err != nil {
		t.Fatal(err)
	}
	recvTx, seqs, err := r.RecvPackets(ctx, p.A, p.B, packets, sent.Height)
	if err != nil || len(seqs) != 1 {
		t.Fatalf("recv: %v (seqs %v)", err, seqs)
	}
	t.Logf("recv tx %s at %d: gas used %d by one MsgRecvPacket carrying an attestation", recvTx.Hash, recvTx.Height, recvTx.GasUsed)

	var foreign didtypes.QueryForeignAttestationResponse
	if err := p.B.Chain.(*cosmos.Client).QueryGRPC(ctx, "/cityrelay.did.v1.Query/ForeignAttestation",
		&didtypes.QueryForeignAttestationRequest{OriginChainId: seoul.ChainID, Id: id}, &foreign, 0); err != nil {
		t.Fatalf("foreign attestation on bucheon-1: %v", err)
	}
	if a := foreign.Attestation.Attestation; a.SubjectDid != seoul.Citizen.DID || a.Status != didtypes.ATTESTATION_STATUS_ACTIVE {
		t.Fatalf("foreign attestation %+v", a)
	}

	// Relaying the same packet again does nothing: the destination already has it.
	if again, _, err := r.RecvPackets(ctx, p.A, p.B, packets, sent.Height); err != nil || again != nil {
		t.Fatalf("second recv: tx %v err %v", again, err)
	}

	acks, err := relayer.WrittenAcks(recvTx.Events)
	if err != nil || len(acks) != 1 {
		t.Fatalf("write_acknowledgement events: %v %v", acks, err)
	}
	if _, _, err := r.AckPackets(ctx, p.B, p.A, acks, recvTx.Height); err != nil {
		t.Fatalf("ack: %v", err)
	}
	var dlv didtypes.QueryDeliveryResponse
	if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Delivery",
		&didtypes.QueryDeliveryRequest{Channel: p.A.ChannelID, Sequence: packets[0].Sequence}, &dlv, 0); err != nil {
		t.Fatal(err)
	}
	if dlv.Delivery.State != didtypes.DELIVERY_STATE_DELIVERED || dlv.Delivery.Ref != id {
		t.Fatalf("delivery on seoul-1: %+v", dlv.Delivery)
	}
}

// TestRelayICS20 shows the relayer is not specific to the did port: an ICS-20 transfer is relayed the
// same way and the voucher arrives.
func TestRelayICS20(t *testing.T) {
	p, _ := linkPath(t, transfertypes.PortID, transfertypes.Version, nil)
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	ctx := context.Background()
	amount := sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(12345))
	msg := transfertypes.NewMsgTransfer(transfertypes.PortID, p.A.ChannelID, amount, seoul.Admin.Address, bucheon.Admin.Address,
		transfertypesHeight(), uint64(time.Now().Add(10*time.Minute).UnixNano()), "")
	sent := mustSend(t, admin, msg)
	packets, err := relayer.SendPackets(sent.Events)
	if err != nil || len(packets) != 1 {
		t.Fatalf("send_packet events: %v %v", packets, err)
	}
	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	if _, seqs, err := r.RecvPackets(ctx, p.A, p.B, packets, sent.Height); err != nil || len(seqs) != 1 {
		t.Fatalf("recv: %v", err)
	}
	denom := transfertypes.ParseDenomTrace(transfertypes.GetPrefixedDenom(transfertypes.PortID, p.B.ChannelID, citychain.BondDenom)).IBCDenom()
	var bal banktypes.QueryBalanceResponse
	if err := p.B.Chain.(*cosmos.Client).QueryGRPC(ctx, "/cosmos.bank.v1beta1.Query/Balance",
		&banktypes.QueryBalanceRequest{Address: bucheon.Admin.Address, Denom: denom}, &bal, 0); err != nil {
		t.Fatal(err)
	}
	if !bal.Balance.Amount.Equal(amount.Amount) {
		t.Fatalf("voucher balance %s, want %s", bal.Balance, amount.Amount)
	}
}

func transfertypesHeight() clienttypes.Height { return clienttypes.ZeroHeight() }
