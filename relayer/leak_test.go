package relayer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// TestLeakedKeyRemedyRelayed is issue 19 on real chains. Seoul's office DID (controlled by Seoul's
// admin account) issues A at issuer_seq 1; a signature with issuer_seq 2^64-1 (the pin) is refused.
// Then its key leaks: the attacker, from its own account, issues forged attestations with it and
// sends them, with A, to Bucheon. The controller revokes the key and what it signed from the leak's
// height on, two per tx over three txs (the answers say more remain until the last), with no issuer
// key and no issuer sequence; the forged attestations are revoked on Seoul, A is not. The revocations
// are sent and relayed with proofs: Bucheon records the forged attestations revoked by the controller
// and verify says revoked; A still verifies valid.
func TestLeakedKeyRemedyRelayed(t *testing.T) {
	p, _ := linkPath(t, didtypes.PortID, didtypes.Version, nil)
	seoul := net.Chain("seoul-1")
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	attacker := testnet.Client(t, seoul, devnet.RelayerKey)
	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	ctx := context.Background()

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	suffix := fmt.Sprintf("office-%d", time.Now().UnixNano())
	did := didtypes.FormatDID(seoul.ChainID, suffix)
	mustSend(t, admin,
		&didtypes.MsgCreateDID{Controller: seoul.Admin.Address, Suffix: suffix,
			Methods: []didtypes.MethodInput{{Id: "key-1", Type: didtypes.KEY_TYPE_ED25519, PublicKey: pub}}},
		&didtypes.MsgSetTrustedIssuer{Admin: seoul.Admin.Address, CredentialType: "residency-card", IssuerDid: did, Trusted: true})

	now := time.Now().Unix()
	n := byte(0)
	issueMsg := func(submitter string, seq uint64) (*didtypes.MsgIssueAttestation, string) {
		n++
		digest := bytes.Repeat([]byte{n, 0x19}, 16)
		sb := didtypes.AttestationSignBytes(seoul.ChainID, did, "key-1", seoul.Citizen.DID, "residency-card", digest, now-60, now+86400, seq)
		return &didtypes.MsgIssueAttestation{Submitter: submitter, IssuerDid: did, IssuerMethod: "key-1", SubjectDid: seoul.Citizen.DID,
			CredentialType: "residency-card", Digest: digest, ValidFrom: now - 60, ValidUntil: now + 86400, IssuerSeq: seq,
			Signature: didtypes.SignEd25519(priv, sb)}, didtypes.AttestationID(sb)
	}

	a, aID := issueMsg(seoul.Admin.Address, 1)
	mustSend(t, admin, a)
	pin, pinID := issueMsg(seoul.Relayer.Address, math.MaxUint64)
	_, err := attacker.Send(ctx, pin)
	var txErr *cosmos.TxError
	if !errors.As(err, &txErr) || txErr.Codespace != didtypes.ModuleName || txErr.Code != didtypes.ErrSequenceGap.ABCICode() {
		t.Fatalf("the pin (issuer_seq 2^64-1 after 1): want refusal %q, got %v", didtypes.ErrSequenceGap, err)
	}
	if _, err := getAttestation(ctx, admin, pinID); !errors.Is(err, cosmos.ErrNotFound) {
		t.Fatalf("the pinned attestation: want not found, got %v", err)
	}

	// The leak: five forged attestations, sequences 2..6, from the attacker's account.
	var forgedMsgs []sdk.Msg
	var forged []string
	for seq := uint64(2); seq <= 6; seq++ {
		m, id := issueMsg(seoul.Relayer.Address, seq)
		forgedMsgs, forged = append(forgedMsgs, m), append(forged, id)
	}
	leak := mustSend(t, attacker, forgedMsgs...)
	var sends []sdk.Msg
	for _, id := range append([]string{aID}, forged...) {
		sends = append(sends, &didtypes.MsgSendAttestation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id})
	}
	deliver(t, r, p, mustSend(t, admin, sends...))
	if res := verifyOn(t, p.B, seoul.ChainID, forged[0]); res.Status != verify.StatusValid {
		t.Fatalf("a forged attestation before the remedy: %+v", res)
	}

	// The remedy, two per tx.
	var more []bool
	var revoked []string
	for i := 0; ; i++ {
		res := mustSend(t, admin, &didtypes.MsgRevokeLeakedKey{Controller: seoul.Admin.Address, Did: did, MethodId: "key-1", FromHeight: leak.Height, Limit: 2})
		var out didtypes.MsgRevokeLeakedKeyResponse
		msgResponse(t, res, &out)
		t.Logf("revoke-leaked-key tx %d at %d: revoked %d, more %v, gas used %d", i, res.Height, len(out.Revoked), out.More, res.GasUsed)
		revoked, more = append(revoked, out.Revoked...), append(more, out.More)
		if !out.More || i > 5 {
			break
		}
	}
	if len(more) != 3 || !more[0] || !more[1] || more[2] {
		t.Fatalf("more answers %v, want [true true false]", more)
	}
	// All five were issued in one block: the index orders them by height, then id.
	if fmt.Sprint(slices.Sorted(slices.Values(revoked))) != fmt.Sprint(slices.Sorted(slices.Values(forged))) {
		t.Fatalf("revoked %v, want the forged %v", revoked, forged)
	}
	for _, id := range forged {
		got, err := getAttestation(ctx, admin, id)
		if err != nil || got.Status != didtypes.ATTESTATION_STATUS_REVOKED || !got.StatusByController {
			t.Fatalf("forged %s on seoul-1: %+v %v", id, got, err)
		}
	}
	if got, err := getAttestation(ctx, admin, aID); err != nil || got.Status != didtypes.ATTESTATION_STATUS_ACTIVE {
		t.Fatalf("A on seoul-1 after the remedy: %+v %v", got, err)
	}
	// The key is revoked: it signs nothing more.
	var doc didtypes.QueryDIDResponse
	if err := admin.QueryGRPC(ctx, "/cityrelay.did.v1.Query/DID", &didtypes.QueryDIDRequest{Did: did}, &doc, 0); err != nil {
		t.Fatal(err)
	}
	late, _ := issueMsg(seoul.Relayer.Address, doc.Document.IssuerSeq+1)
	if _, err := attacker.Send(ctx, late); !errors.As(err, &txErr) || txErr.Code != didtypes.ErrKeyRevoked.ABCICode() {
		t.Fatalf("the leaked key after the remedy: want refusal %q, got %v", didtypes.ErrKeyRevoked, err)
	}

	// The revocations travel: Bucheon marks the forged attestations revoked, by the controller.
	var revs []sdk.Msg
	for _, id := range forged {
		revs = append(revs, &didtypes.MsgSendRevocation{Sender: seoul.Admin.Address, SourceChannel: p.A.ChannelID, AttestationId: id})
	}
	deliver(t, r, p, mustSend(t, admin, revs...))
	bucheon := p.B.Chain.(*cosmos.Client)
	for _, id := range forged {
		var f didtypes.QueryForeignAttestationResponse
		if err := bucheon.QueryGRPC(ctx, "/cityrelay.did.v1.Query/ForeignAttestation",
			&didtypes.QueryForeignAttestationRequest{OriginChainId: seoul.ChainID, Id: id}, &f, 0); err != nil {
			t.Fatal(err)
		}
		if a := f.Attestation.Attestation; a.Status != didtypes.ATTESTATION_STATUS_REVOKED || !a.StatusByController {
			t.Fatalf("forged %s on bucheon-1: %+v", id, a)
		}
	}
	if res := verifyOn(t, p.B, seoul.ChainID, forged[4]); res.Status != verify.StatusRevoked {
		t.Fatalf("verify a forged attestation on bucheon-1 after the remedy: %+v", res)
	}
	if res := verifyOn(t, p.B, seoul.ChainID, aID); res.Status != verify.StatusValid {
		t.Fatalf("verify A on bucheon-1 after the remedy: %+v", res)
	}
}

func getAttestation(ctx context.Context, cl *cosmos.Client, id string) (didtypes.Attestation, error) {
	var out didtypes.QueryAttestationResponse
	err := cl.QueryGRPC(ctx, "/cityrelay.did.v1.Query/Attestation", &didtypes.QueryAttestationRequest{Id: id}, &out, 0)
	return out.Attestation, err
}

// msgResponse decodes the first message response of a committed tx into out.
func msgResponse(t *testing.T, res *cosmos.TxResult, out proto.Message) {
	t.Helper()
	var data sdk.TxMsgData
	if err := proto.Unmarshal(res.Data, &data); err != nil || len(data.MsgResponses) == 0 {
		t.Fatalf("tx %s data: %v (%d responses)", res.Hash, err, len(data.MsgResponses))
	}
	if err := proto.Unmarshal(data.MsgResponses[0].Value, out); err != nil {
		t.Fatalf("tx %s response: %v", res.Hash, err)
	}
}
