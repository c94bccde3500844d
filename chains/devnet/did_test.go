package devnet_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

func query[T proto.Message](t *testing.T, cl *cosmos.Client, method string, req proto.Message, resp T) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cl.QueryGRPC(ctx, "/cityrelay.did.v1.Query/"+method, req, resp, 0)
	return resp, err
}

func send(t *testing.T, cl *cosmos.Client, msgs ...sdk.Msg) (*cosmos.TxResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return cl.Send(ctx, msgs...)
}

// requireRefused checks that err is the chain refusing a tx with the given registered error.
func requireRefused(t *testing.T, err error, want *errorsmod.Error) {
	t.Helper()
	var txErr *cosmos.TxError
	if !errors.As(err, &txErr) {
		t.Fatalf("want the chain to refuse with %q, got %v", want.Error(), err)
	}
	if txErr.Codespace != want.Codespace() || txErr.Code != want.ABCICode() {
		t.Fatalf("want refusal %s/%d (%s), got %s/%d: %s", want.Codespace(), want.ABCICode(), want.Error(), txErr.Codespace, txErr.Code, txErr.Log)
	}
	if txErr.Log == "" {
		t.Fatalf("refusal %s has no reason", want.Error())
	}
}

// attestation builds a MsgIssueAttestation signed with key.
func attestation(chainID, submitter string, key devnet.DIDKey, subject, credType string, validFrom, validUntil int64, seq uint64) (*didtypes.MsgIssueAttestation, string) {
	digest := bytes.Repeat([]byte{0xab}, 32)
	sb := didtypes.AttestationSignBytes(chainID, key.DID, key.Method, subject, credType, digest, validFrom, validUntil, seq)
	sig, err := key.Sign(sb)
	if err != nil {
		panic(err)
	}
	return &didtypes.MsgIssueAttestation{
		Submitter: submitter, IssuerDid: key.DID, IssuerMethod: key.Method, SubjectDid: subject,
		CredentialType: credType, Digest: digest, ValidFrom: validFrom, ValidUntil: validUntil,
		IssuerSeq: seq, Signature: sig,
	}, didtypes.AttestationID(sb)
}

// newEd25519DID returns a MsgCreateDID for a fresh ed25519 key and the key.
func newEd25519DID(chainID, controller, suffix string) (*didtypes.MsgCreateDID, devnet.DIDKey) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := &didtypes.MsgCreateDID{Controller: controller, Suffix: suffix,
		Methods: []didtypes.MethodInput{{Id: "key-1", Type: didtypes.KEY_TYPE_ED25519, PublicKey: pub}}}
	return msg, devnet.DIDKey{DID: didtypes.FormatDID(chainID, suffix), Method: "key-1", Type: didtypes.KEY_TYPE_ED25519,
		PrivateKey: fmt.Sprintf("%x", []byte(priv)), PublicKey: fmt.Sprintf("%x", []byte(pub))}
}

func issuerSeq(t *testing.T, cl *cosmos.Client, did string) uint64 {
	t.Helper()
	doc, err := query(t, cl, "DID", &didtypes.QueryDIDRequest{Did: did}, &didtypes.QueryDIDResponse{})
	if err != nil {
		t.Fatalf("query %s: %v", did, err)
	}
	return doc.Document.IssuerSeq
}

func requireNoAttestation(t *testing.T, cl *cosmos.Client, id string) {
	t.Helper()
	_, err := query(t, cl, "Attestation", &didtypes.QueryAttestationRequest{Id: id}, &didtypes.QueryAttestationResponse{})
	if !errors.Is(err, cosmos.ErrNotFound) {
		t.Fatalf("attestation %s: want not found after a refused tx, got %v", id, err)
	}
}

func TestDevnetServesRPCAndGenesisDIDs(t *testing.T) {
	for _, c := range net.Chains {
		cl := testnet.Client(t, c, devnet.RelayerKey)
		st, err := cl.Status(context.Background())
		if err != nil {
			t.Fatalf("%s status: %v", c.ChainID, err)
		}
		if st.NodeInfo.Network != c.ChainID {
			t.Fatalf("%s: rpc reports network %q", c.ChainID, st.NodeInfo.Network)
		}
		if !strings.HasPrefix(c.RPCAddr, "http://127.0.0.1:") || !strings.HasPrefix(c.GRPCAddr, "127.0.0.1:") {
			t.Fatalf("%s: listeners not on loopback: %s %s", c.ChainID, c.RPCAddr, c.GRPCAddr)
		}
		h := st.SyncInfo.LatestBlockHeight
		if err := c.WaitHeight(context.Background(), h+2); err != nil {
			t.Fatalf("%s does not produce blocks: %v", c.ChainID, err)
		}
		for _, k := range []devnet.DIDKey{c.Issuer, c.Citizen} {
			doc, err := query(t, cl, "DID", &didtypes.QueryDIDRequest{Did: k.DID}, &didtypes.QueryDIDResponse{})
			if err != nil {
				t.Fatalf("%s: genesis DID %s: %v", c.ChainID, k.DID, err)
			}
			if doc.Document.Controller != c.Admin.Address || len(doc.Document.Methods) != 1 {
				t.Fatalf("%s: genesis DID %s: unexpected document %+v", c.ChainID, k.DID, doc.Document)
			}
		}
	}
}

func TestIssueAndRevokeAttestation(t *testing.T) {
	c := net.Chain("seoul-1")
	admin := testnet.Client(t, c, devnet.AdminKey)
	now := time.Now().Unix()
	seq := issuerSeq(t, admin, c.Issuer.DID) + 1
	msg, id := attestation(c.ChainID, c.Admin.Address, c.Issuer, c.Citizen.DID, "residency-card", now-60, now+86400, seq)
	if _, err := send(t, admin, msg); err != nil {
		t.Fatalf("issue attestation: %v", err)
	}
	got, err := query(t, admin, "Attestation", &didtypes.QueryAttestationRequest{Id: id}, &didtypes.QueryAttestationResponse{})
	if err != nil {
		t.Fatalf("query attestation: %v", err)
	}
	a := got.Attestation
	if a.Status != didtypes.ATTESTATION_STATUS_ACTIVE || a.SubjectDid != c.Citizen.DID || a.OriginChainId != c.ChainID {
		t.Fatalf("unexpected attestation %+v", a)
	}

	seq++
	rsb := didtypes.RevocationSignBytes(c.ChainID, id, c.Issuer.DID, c.Issuer.Method, didtypes.ATTESTATION_STATUS_REVOKED, seq)
	sig, err := c.Issuer.Sign(rsb)
	if err != nil {
		t.Fatal(err)
	}
	revoke := &didtypes.MsgSetAttestationStatus{Submitter: c.Admin.Address, AttestationId: id, IssuerMethod: c.Issuer.Method,
		NewStatus: didtypes.ATTESTATION_STATUS_REVOKED, IssuerSeq: seq, Signature: sig}
	if _, err := send(t, admin, revoke); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	got, err = query(t, admin, "Attestation", &didtypes.QueryAttestationRequest{Id: id}, &didtypes.QueryAttestationResponse{})
	if err != nil {
		t.Fatalf("query attestation: %v", err)
	}
	if got.Attestation.Status != didtypes.ATTESTATION_STATUS_REVOKED {
		t.Fatalf("status after revoke: %v", got.Attestation.Status)
	}
	// Replaying the same revocation (same issuer_seq) is refused.
	_, err = send(t, admin, revoke)
	requireRefused(t, err, didtypes.ErrStaleSequence)
}

// TestBadInputIsRefused sends each kind of bad input to a running chain over RPC and checks that
// the chain refuses it with the registered error and that the state is unchanged.
func TestBadInputIsRefused(t *testing.T) {
	c := net.Chain("seoul-1")
	admin := testnet.Client(t, c, devnet.AdminKey)
	relayer := testnet.Client(t, c, devnet.RelayerKey)
	now := time.Now().Unix()

	t.Run("bad signature", func(t *testing.T) {
		seq := issuerSeq(t, admin, c.Issuer.DID) + 1
		msg, id := attestation(c.ChainID, c.Admin.Address, c.Issuer, c.Citizen.DID, "residency-card", now-60, now+3600, seq)
		msg.Signature[0] ^= 0xff
		_, err := send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrInvalidSignature)
		requireNoAttestation(t, admin, id)
		if got := issuerSeq(t, admin, c.Issuer.DID); got != seq-1 {
			t.Fatalf("issuer seq moved to %d after a refused tx", got)
		}
	})

	t.Run("signed by another key", func(t *testing.T) {
		seq := issuerSeq(t, admin, c.Issuer.DID) + 1
		_, other := newEd25519DID(c.ChainID, c.Admin.Address, "unused")
		other.DID, other.Method = c.Issuer.DID, c.Issuer.Method
		msg, id := attestation(c.ChainID, c.Admin.Address, other, c.Citizen.DID, "residency-card", now-60, now+3600, seq)
		_, err := send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrInvalidSignature)
		requireNoAttestation(t, admin, id)
	})

	t.Run("unknown issuer DID", func(t *testing.T) {
		ghost := c.Issuer
		ghost.DID = didtypes.FormatDID(c.ChainID, "nobody")
		msg, id := attestation(c.ChainID, c.Admin.Address, ghost, c.Citizen.DID, "residency-card", now-60, now+3600, 1)
		_, err := send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrDIDNotFound)
		requireNoAttestation(t, admin, id)
	})

	t.Run("deactivated DID", func(t *testing.T) {
		create, key := newEd25519DID(c.ChainID, c.Admin.Address, "closed-office")
		trust := &didtypes.MsgSetTrustedIssuer{Admin: c.Admin.Address, CredentialType: "residency-card", IssuerDid: key.DID, Trusted: true}
		deactivate := &didtypes.MsgDeactivateDID{Controller: c.Admin.Address, Did: key.DID}
		if _, err := send(t, admin, create, trust, deactivate); err != nil {
			t.Fatalf("set up: %v", err)
		}
		msg, id := attestation(c.ChainID, c.Admin.Address, key, c.Citizen.DID, "residency-card", now-60, now+3600, 1)
		_, err := send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrDIDDeactivated)
		requireNoAttestation(t, admin, id)
		// A deactivated DID takes no new keys either.
		add := &didtypes.MsgAddKey{Controller: c.Admin.Address, Did: key.DID,
			Method: didtypes.MethodInput{Id: "key-2", Type: didtypes.KEY_TYPE_ED25519, PublicKey: bytes.Repeat([]byte{1}, 32)}}
		_, err = send(t, admin, add)
		requireRefused(t, err, didtypes.ErrDIDDeactivated)
	})

	t.Run("revoked key", func(t *testing.T) {
		create, key := newEd25519DID(c.ChainID, c.Admin.Address, "rotating-office")
		_, key2 := newEd25519DID(c.ChainID, c.Admin.Address, "rotating-office")
		pub2, _ := decodeHex(key2.PublicKey)
		add := &didtypes.MsgAddKey{Controller: c.Admin.Address, Did: key.DID,
			Method: didtypes.MethodInput{Id: "key-2", Type: didtypes.KEY_TYPE_ED25519, PublicKey: pub2}}
		trust := &didtypes.MsgSetTrustedIssuer{Admin: c.Admin.Address, CredentialType: "certificate", IssuerDid: key.DID, Trusted: true}
		revoke := &didtypes.MsgRevokeKey{Controller: c.Admin.Address, Did: key.DID, MethodId: "key-1"}
		if _, err := send(t, admin, create, add, trust, revoke); err != nil {
			t.Fatalf("set up: %v", err)
		}
		msg, id := attestation(c.ChainID, c.Admin.Address, key, c.Citizen.DID, "certificate", now-60, now+3600, 1)
		_, err := send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrKeyRevoked)
		requireNoAttestation(t, admin, id)
		// The key that was not revoked still signs.
		key2.DID, key2.Method = key.DID, "key-2"
		msg, id = attestation(c.ChainID, c.Admin.Address, key2, c.Citizen.DID, "certificate", now-60, now+3600, 1)
		if _, err := send(t, admin, msg); err != nil {
			t.Fatalf("issue with the remaining key: %v", err)
		}
		if _, err := query(t, admin, "Attestation", &didtypes.QueryAttestationRequest{Id: id}, &didtypes.QueryAttestationResponse{}); err != nil {
			t.Fatalf("attestation by the remaining key: %v", err)
		}
	})

	t.Run("change by a non-controller", func(t *testing.T) {
		before, err := query(t, relayer, "DID", &didtypes.QueryDIDRequest{Did: c.Issuer.DID}, &didtypes.QueryDIDResponse{})
		if err != nil {
			t.Fatal(err)
		}
		add := &didtypes.MsgAddKey{Controller: c.Relayer.Address, Did: c.Issuer.DID,
			Method: didtypes.MethodInput{Id: "key-9", Type: didtypes.KEY_TYPE_ED25519, PublicKey: bytes.Repeat([]byte{2}, 32)}}
		_, err = send(t, relayer, add)
		requireRefused(t, err, didtypes.ErrUnauthorized)
		revoke := &didtypes.MsgRevokeKey{Controller: c.Relayer.Address, Did: c.Issuer.DID, MethodId: "key-1"}
		_, err = send(t, relayer, revoke)
		requireRefused(t, err, didtypes.ErrUnauthorized)
		after, err := query(t, relayer, "DID", &didtypes.QueryDIDRequest{Did: c.Issuer.DID}, &didtypes.QueryDIDResponse{})
		if err != nil {
			t.Fatal(err)
		}
		if len(after.Document.Methods) != len(before.Document.Methods) || after.Document.Methods[0].RevokedHeight != 0 {
			t.Fatalf("document changed by a non-controller: %+v", after.Document)
		}
		// The registry is the admin's alone.
		trust := &didtypes.MsgSetTrustedIssuer{Admin: c.Relayer.Address, CredentialType: "residency-card", IssuerDid: c.Citizen.DID, Trusted: true}
		_, err = send(t, relayer, trust)
		requireRefused(t, err, didtypes.ErrUnauthorized)
	})

	t.Run("DID suffix taken", func(t *testing.T) {
		create, _ := newEd25519DID(c.ChainID, c.Relayer.Address, "civil-office")
		_, err := send(t, relayer, create)
		requireRefused(t, err, didtypes.ErrDIDExists)
		doc, err := query(t, relayer, "DID", &didtypes.QueryDIDRequest{Did: c.Issuer.DID}, &didtypes.QueryDIDResponse{})
		if err != nil || doc.Document.Controller != c.Admin.Address {
			t.Fatalf("issuer DID taken over: %+v %v", doc, err)
		}
	})

	t.Run("duplicate attestation id", func(t *testing.T) {
		seq := issuerSeq(t, admin, c.Issuer.DID) + 1
		msg, id := attestation(c.ChainID, c.Admin.Address, c.Issuer, c.Citizen.DID, "business-licence", now-60, now+3600, seq)
		if _, err := send(t, admin, msg); err != nil {
			t.Fatalf("first issue: %v", err)
		}
		_, err := send(t, admin, msg)
		if err == nil {
			t.Fatal("the same attestation was accepted twice")
		}
		// The same signed attestation replays both its id and its issuer_seq; either refusal is right,
		// and the stored attestation must be the first one.
		var txErr *cosmos.TxError
		if !errors.As(err, &txErr) || txErr.Codespace != didtypes.ModuleName ||
			(txErr.Code != didtypes.ErrAttestationExists.ABCICode() && txErr.Code != didtypes.ErrStaleSequence.ABCICode()) {
			t.Fatalf("duplicate: want ErrAttestationExists or ErrStaleSequence, got %v", err)
		}
		got, err := query(t, admin, "Attestation", &didtypes.QueryAttestationRequest{Id: id}, &didtypes.QueryAttestationResponse{})
		if err != nil || got.Attestation.IssuerSeq != seq {
			t.Fatalf("stored attestation changed: %+v %v", got, err)
		}
	})

	t.Run("issuer not trusted for the credential type", func(t *testing.T) {
		msg, id := attestation(c.ChainID, c.Admin.Address, c.Citizen, c.Citizen.DID, "residency-card", now-60, now+3600, 1)
		_, err := send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrUntrustedIssuer)
		requireNoAttestation(t, admin, id)
		seq := issuerSeq(t, admin, c.Issuer.DID) + 1
		msg, id = attestation(c.ChainID, c.Admin.Address, c.Issuer, c.Citizen.DID, "fishing-licence", now-60, now+3600, seq)
		_, err = send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrUntrustedIssuer)
		requireNoAttestation(t, admin, id)
	})

	t.Run("validity window already past", func(t *testing.T) {
		seq := issuerSeq(t, admin, c.Issuer.DID) + 1
		msg, id := attestation(c.ChainID, c.Admin.Address, c.Issuer, c.Citizen.DID, "residency-card", now-7200, now-3600, seq)
		_, err := send(t, admin, msg)
		requireRefused(t, err, didtypes.ErrValidityWindow)
		requireNoAttestation(t, admin, id)
	})

	t.Run("oversized payload", func(t *testing.T) {
		m := didtypes.ServiceMessage{ServiceType: "mileage.transfer", SenderDid: c.Citizen.DID, SenderMethod: c.Citizen.Method,
			OriginChainId: c.ChainID, DestinationChainId: "bucheon-1", Nonce: 1, Expiry: now + 600,
			Payload: bytes.Repeat([]byte("x"), didtypes.MaxPayloadBytes+1)}
		sig, err := c.Citizen.Sign(m.SignBytes())
		if err != nil {
			t.Fatal(err)
		}
		m.Signature = sig
		_, err = send(t, admin, &didtypes.MsgSendServiceMessage{Sender: c.Admin.Address, SourceChannel: "channel-0", Message: m})
		requireRefused(t, err, didtypes.ErrTooLarge)
	})

	t.Run("oversized DID", func(t *testing.T) {
		create, _ := newEd25519DID(c.ChainID, c.Admin.Address, strings.Repeat("a", didtypes.MaxSuffixLength+1))
		_, err := send(t, admin, create)
		requireRefused(t, err, didtypes.ErrInvalidDID)
	})

	t.Run("malformed DID", func(t *testing.T) {
		for _, subject := range []string{"did:foo:bar", "did:city:seoul-1", "did:city::x", "did:city:Seoul 1:x", "citizen-1"} {
			seq := issuerSeq(t, admin, c.Issuer.DID) + 1
			msg, id := attestation(c.ChainID, c.Admin.Address, c.Issuer, subject, "residency-card", now-60, now+3600, seq)
			_, err := send(t, admin, msg)
			requireRefused(t, err, didtypes.ErrInvalidDID)
			requireNoAttestation(t, admin, id)
		}
	})
}

func decodeHex(s string) ([]byte, error) {
	var b []byte
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}

// TestCityRegistryMessages: on a running chain, only the registry admin changes the city registry, and
// a bad chain id or a client the chain does not have is refused with a reason.
func TestCityRegistryMessages(t *testing.T) {
	c := net.Chain("bucheon-1")
	admin := testnet.Client(t, c, devnet.AdminKey)
	relayer := testnet.Client(t, c, devnet.RelayerKey)

	_, err := send(t, relayer, &didtypes.MsgRegisterCity{Admin: c.Relayer.Address, ChainId: "seoul-1", ClientId: "07-tendermint-0"})
	requireRefused(t, err, didtypes.ErrUnauthorized)
	_, err = send(t, relayer, &didtypes.MsgRemoveCity{Admin: c.Relayer.Address, ChainId: "seoul-1"})
	requireRefused(t, err, didtypes.ErrUnauthorized)
	_, err = send(t, admin, &didtypes.MsgRegisterCity{Admin: c.Admin.Address, ChainId: "seoul-1", ClientId: "07-tendermint-42"})
	requireRefused(t, err, didtypes.ErrClientNotFound)
	_, err = send(t, admin, &didtypes.MsgRemoveCity{Admin: c.Admin.Address, ChainId: "seoul-1"})
	requireRefused(t, err, didtypes.ErrCityNotRegistered)
	for _, bad := range []*didtypes.MsgRegisterCity{
		{Admin: c.Admin.Address, ChainId: "Seoul_1", ClientId: "07-tendermint-0"},
		{Admin: c.Admin.Address, ChainId: "seoul/1", ClientId: "07-tendermint-0"},
		{Admin: c.Admin.Address, ChainId: "seoul-1", ClientId: "x"},
	} {
		if err := bad.ValidateBasic(); !didtypes.ErrInvalidRequest.Is(err) {
			t.Fatalf("%+v: want invalid request, got %v", bad, err)
		}
		_, err := send(t, admin, bad) // the chain checks it too
		requireRefused(t, err, didtypes.ErrInvalidRequest)
	}
	cities, err := query(t, admin, "Cities", &didtypes.QueryCitiesRequest{}, &didtypes.QueryCitiesResponse{})
	if err != nil || len(cities.Cities) != 0 {
		t.Fatalf("a refused registration changed the registry: %+v %v", cities, err)
	}
	if _, err := query(t, admin, "City", &didtypes.QueryCityRequest{ChainId: "seoul-1"}, &didtypes.QueryCityResponse{}); !errors.Is(err, cosmos.ErrNotFound) {
		t.Fatalf("city seoul-1: want not found, got %v", err)
	}
}
