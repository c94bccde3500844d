package keeper_test

import (
	"bytes"
	"crypto/ed25519"
	"math"
	"testing"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// origin is seoul-1 with did:city:seoul-1:office controlled by ctrl, with two ed25519 keys (key-1,
// the one that leaks, and key-2), trusted for residency-card.
type origin struct {
	t    *testing.T
	k    keeper.Keeper
	ms   types.MsgServer
	ctx  sdk.Context
	did  string
	ctrl string
	keys map[string]ed25519.PrivateKey
	n    byte
}

func ctrlAddr() string     { return sdk.AccAddress(bytes.Repeat([]byte{2}, 20)).String() }
func strangerAddr() string { return sdk.AccAddress(bytes.Repeat([]byte{3}, 20)).String() }

func newOrigin(t *testing.T) *origin {
	t.Helper()
	k, ctx, _ := receiverWithStore(t)
	return newOriginOn(t, k, ctx)
}

// newOriginOn is newOrigin on the keeper k.
func newOriginOn(t *testing.T, k keeper.Keeper, ctx sdk.Context) *origin {
	t.Helper()
	o := &origin{t: t, k: k, ms: keeper.NewMsgServer(k), ctx: ctx.WithChainID("seoul-1").WithBlockHeight(10), ctrl: ctrlAddr(),
		keys: map[string]ed25519.PrivateKey{
			"key-1": ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x11}, 32)),
			"key-2": ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x22}, 32)),
		}}
	var methods []types.MethodInput
	for _, id := range []string{"key-1", "key-2"} {
		methods = append(methods, types.MethodInput{Id: id, Type: types.KEY_TYPE_ED25519, PublicKey: o.keys[id].Public().(ed25519.PublicKey)})
	}
	res, err := o.ms.CreateDID(o.ctx, &types.MsgCreateDID{Controller: o.ctrl, Suffix: "office", Methods: methods})
	if err != nil {
		t.Fatal(err)
	}
	o.did = res.Did
	if _, err := o.ms.SetTrustedIssuer(o.ctx, &types.MsgSetTrustedIssuer{Admin: adminAddr(), CredentialType: "residency-card", IssuerDid: o.did, Trusted: true}); err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *origin) at(h int64) { o.ctx = o.ctx.WithBlockHeight(h) }

// issue signs an attestation with method at issuer sequence seq and submits it from submitter.
func (o *origin) issue(method string, seq uint64) (string, error) {
	o.n++
	digest := bytes.Repeat([]byte{o.n}, 32)
	subject := "did:city:seoul-1:citizen-1"
	sb := types.AttestationSignBytes("seoul-1", o.did, method, subject, "residency-card", digest, 1_700_000_000, 1_900_000_000, seq)
	res, err := o.ms.IssueAttestation(o.ctx, &types.MsgIssueAttestation{Submitter: strangerAddr(), IssuerDid: o.did, IssuerMethod: method,
		SubjectDid: subject, CredentialType: "residency-card", Digest: digest, ValidFrom: 1_700_000_000, ValidUntil: 1_900_000_000,
		IssuerSeq: seq, Signature: types.SignEd25519(o.keys[method], sb)})
	if err != nil {
		return "", err
	}
	return res.Id, nil
}

func (o *origin) mustIssue(method string, seq uint64) string {
	o.t.Helper()
	id, err := o.issue(method, seq)
	if err != nil {
		o.t.Fatalf("issue %s seq %d: %v", method, seq, err)
	}
	return id
}

func (o *origin) setStatus(id, method string, status types.AttestationStatus, seq uint64) error {
	sig := types.SignEd25519(o.keys[method], types.RevocationSignBytes("seoul-1", id, o.did, method, status, seq))
	_, err := o.ms.SetAttestationStatus(o.ctx, &types.MsgSetAttestationStatus{Submitter: strangerAddr(), AttestationId: id,
		IssuerMethod: method, NewStatus: status, IssuerSeq: seq, Signature: sig})
	return err
}

func (o *origin) seq() uint64 {
	o.t.Helper()
	doc, _, err := o.k.GetDID(o.ctx, o.did)
	if err != nil {
		o.t.Fatal(err)
	}
	return doc.IssuerSeq
}

func (o *origin) attestation(id string) types.Attestation {
	o.t.Helper()
	a, ok, err := o.k.GetAttestation(o.ctx, id)
	if err != nil || !ok {
		o.t.Fatalf("attestation %s: %v %v", id, ok, err)
	}
	return a
}

// TestIssuerSequencePinIsRefused is the attack of issue 19 on the origin's rules: attestation A at
// issuer_seq 1, then a signature (a moment's hold of any key) with issuer_seq 2^64-1. The jump is
// refused and the DID goes on: the issuer's next change (seq 2) passes. A jump in a status change is
// refused alike, and so is a replayed or lower sequence.
func TestIssuerSequencePinIsRefused(t *testing.T) {
	o := newOrigin(t)
	a := o.mustIssue("key-1", 1)
	_, err := o.issue("key-1", math.MaxUint64)
	requireCode(t, err, types.ErrSequenceGap)
	_, err = o.issue("key-1", 3)
	requireCode(t, err, types.ErrSequenceGap)
	requireCode(t, o.setStatus(a, "key-1", types.ATTESTATION_STATUS_SUSPENDED, math.MaxUint64), types.ErrSequenceGap)
	requireCode(t, o.setStatus(a, "key-2", types.ATTESTATION_STATUS_SUSPENDED, 1), types.ErrStaleSequence)
	_, err = o.issue("key-1", 1)
	requireCode(t, err, types.ErrStaleSequence)
	if got := o.seq(); got != 1 {
		t.Fatalf("issuer seq %d after refused messages, want 1", got)
	}
	if err := o.setStatus(a, "key-2", types.ATTESTATION_STATUS_REVOKED, 2); err != nil {
		t.Fatalf("the issuer's next status change after the pin attempt: %v", err)
	}
	if st := o.attestation(a).Status; st != types.ATTESTATION_STATUS_REVOKED {
		t.Fatalf("status %s", st)
	}
}

// TestControllerRevokesAPinnedDID: a DID pinned before this rule (its sequence at 2^64-1: nothing an
// issuer key signs can pass) is still fully revocable by its controller, with no key and no sequence.
// Only the controller may; revoked is final; a revocation by the controller wins over a higher
// signed sequence.
func TestControllerRevokesAPinnedDID(t *testing.T) {
	o := newOrigin(t)
	a := o.mustIssue("key-1", 1)
	b := o.mustIssue("key-1", 2)
	doc, _, _ := o.k.GetDID(o.ctx, o.did)
	doc.IssuerSeq = math.MaxUint64 // the pinned state a chain with the old rule could be in
	if err := o.k.SetDID(o.ctx, doc); err != nil {
		t.Fatal(err)
	}
	requireCode(t, o.setStatus(a, "key-1", types.ATTESTATION_STATUS_REVOKED, 3), types.ErrSequenceExhausted)
	_, err := o.issue("key-1", 3)
	requireCode(t, err, types.ErrSequenceExhausted)

	_, err = o.ms.ControllerRevokeAttestation(o.ctx, &types.MsgControllerRevokeAttestation{Controller: strangerAddr(), AttestationId: a})
	requireCode(t, err, types.ErrUnauthorized)
	o.at(12)
	res, err := o.ms.ControllerRevokeAttestation(o.ctx, &types.MsgControllerRevokeAttestation{Controller: o.ctrl, AttestationId: a})
	if err != nil {
		t.Fatalf("controller revocation of a pinned DID's attestation: %v", err)
	}
	got := o.attestation(a)
	if got.Status != types.ATTESTATION_STATUS_REVOKED || !got.StatusByController || got.StatusSeq != math.MaxUint64 || res.StatusSeq != math.MaxUint64 ||
		got.StatusHeight != 12 || got.StatusMethod != "" || len(got.StatusSignature) != 0 {
		t.Fatalf("after controller revocation: %+v", got)
	}
	_, err = o.ms.ControllerRevokeAttestation(o.ctx, &types.MsgControllerRevokeAttestation{Controller: o.ctrl, AttestationId: a})
	requireCode(t, err, types.ErrInvalidStatus)
	_, err = o.ms.ControllerRevokeAttestation(o.ctx, &types.MsgControllerRevokeAttestation{Controller: o.ctrl, AttestationId: "00ff"})
	requireCode(t, err, types.ErrAttestationNotFound)
	if st := o.attestation(b).Status; st != types.ATTESTATION_STATUS_ACTIVE {
		t.Fatalf("b is %s, want untouched", st)
	}

	// On an unpinned DID the controller's revocation takes the next sequence, like any change.
	p := newOrigin(t)
	c := p.mustIssue("key-2", 1)
	if _, err := p.ms.ControllerRevokeAttestation(p.ctx, &types.MsgControllerRevokeAttestation{Controller: p.ctrl, AttestationId: c}); err != nil {
		t.Fatal(err)
	}
	if got := p.attestation(c); got.StatusSeq != 2 || p.seq() != 2 {
		t.Fatalf("status seq %d, DID seq %d; want 2 and 2", got.StatusSeq, p.seq())
	}
	requireCode(t, p.setStatus(c, "key-2", types.ATTESTATION_STATUS_ACTIVE, 3), types.ErrInvalidStatus)
}

// TestRevokeLeakedKey: the city's key-1 leaks at height 100; the attacker issues forged attestations
// with it. The controller revokes the key and what it signed from height 100 on, 3 per tx: the
// answers say more remain until the last, legit attestations of key-1 before the leak and of key-2
// stay active, and the key signs nothing afterwards.
func TestRevokeLeakedKey(t *testing.T) {
	o := newOrigin(t)
	seq := uint64(0)
	next := func() uint64 { seq++; return seq }
	var legit, forged []string
	for h := int64(20); h < 25; h++ {
		o.at(h)
		legit = append(legit, o.mustIssue("key-1", next()), o.mustIssue("key-2", next()))
	}
	for h := int64(100); h < 107; h++ {
		o.at(h)
		forged = append(forged, o.mustIssue("key-1", next()))
	}
	o.at(110)
	forged = append(forged, o.mustIssue("key-1", next()), o.mustIssue("key-1", next())) // two in one block
	// One forged attestation the issuer itself already revoked (a signed revocation) is not redone.
	if err := o.setStatus(forged[0], "key-2", types.ATTESTATION_STATUS_REVOKED, next()); err != nil {
		t.Fatal(err)
	}

	_, err := o.ms.RevokeLeakedKey(o.ctx, &types.MsgRevokeLeakedKey{Controller: strangerAddr(), Did: o.did, MethodId: "key-1", FromHeight: 100, Limit: 3})
	requireCode(t, err, types.ErrUnauthorized)
	_, err = o.ms.RevokeLeakedKey(o.ctx, &types.MsgRevokeLeakedKey{Controller: o.ctrl, Did: o.did, MethodId: "key-9", FromHeight: 100, Limit: 3})
	requireCode(t, err, types.ErrKeyNotFound)
	tooMany := &types.MsgRevokeLeakedKey{Controller: o.ctrl, Did: o.did, MethodId: "key-1", FromHeight: 100, Limit: types.MaxLeakRevocationsPerTx + 1}
	requireCode(t, tooMany.ValidateBasic(), types.ErrTooLarge)

	var revoked []string
	var answers []bool
	for h := int64(120); ; h++ {
		o.at(h)
		gas := o.ctx.GasMeter().GasConsumed()
		res, err := o.ms.RevokeLeakedKey(o.ctx, &types.MsgRevokeLeakedKey{Controller: o.ctrl, Did: o.did, MethodId: "key-1", FromHeight: 100, Limit: 3})
		if err != nil {
			t.Fatalf("revoke-leaked-key at %d: %v", h, err)
		}
		t.Logf("tx at %d: revoked %d, more %v, gas %d", h, len(res.Revoked), res.More, o.ctx.GasMeter().GasConsumed()-gas)
		if res.KeyRevokedHeight != 120 {
			t.Fatalf("key revoked at %d, want 120 (the first tx)", res.KeyRevokedHeight)
		}
		if len(res.Revoked) > 3 {
			t.Fatalf("%d revoked in one tx, limit 3", len(res.Revoked))
		}
		revoked = append(revoked, res.Revoked...)
		answers = append(answers, res.More)
		if !res.More {
			break
		}
		if h > 130 {
			t.Fatal("revocation does not end")
		}
	}
	if want := []bool{true, true, false}; len(answers) != 3 || answers[0] != want[0] || answers[1] != want[1] || answers[2] != want[2] {
		t.Fatalf("more answers %v, want %v", answers, want)
	}
	if len(revoked) != len(forged)-1 {
		t.Fatalf("revoked %d, want the %d forged ones not yet revoked", len(revoked), len(forged)-1)
	}
	for i, id := range forged {
		a := o.attestation(id)
		if a.Status != types.ATTESTATION_STATUS_REVOKED {
			t.Fatalf("forged %d is %s", i, a.Status)
		}
		if i == 0 {
			if a.StatusByController || a.StatusMethod != "key-2" {
				t.Fatalf("the issuer's own revocation was redone: %+v", a)
			}
			continue
		}
		if !a.StatusByController || revoked[i-1] != id {
			t.Fatalf("forged %d: by controller %v, revoked in order %v", i, a.StatusByController, revoked[i-1] == id)
		}
	}
	for _, id := range legit {
		if st := o.attestation(id).Status; st != types.ATTESTATION_STATUS_ACTIVE {
			t.Fatalf("legit %s is %s", id, st)
		}
	}
	// Nothing left: another tx revokes nothing; the key signs nothing; key-2 still works.
	res, err := o.ms.RevokeLeakedKey(o.ctx, &types.MsgRevokeLeakedKey{Controller: o.ctrl, Did: o.did, MethodId: "key-1", FromHeight: 100})
	if err != nil || len(res.Revoked) != 0 || res.More {
		t.Fatalf("after the end: %+v %v", res, err)
	}
	_, err = o.issue("key-1", o.seq()+1)
	requireCode(t, err, types.ErrKeyRevoked)
	o.mustIssue("key-2", o.seq()+1)

	// From height 0 the same message would take the legit key-1 attestations too: the height is
	// the controller's choice, and the index makes each tx's work what it revokes.
	res, err = o.ms.RevokeLeakedKey(o.ctx, &types.MsgRevokeLeakedKey{Controller: o.ctrl, Did: o.did, MethodId: "key-1", FromHeight: 0, Limit: 100})
	if err != nil || len(res.Revoked) != 5 || res.More {
		t.Fatalf("from 0: %+v %v", res, err)
	}
}

// controllerRevocation is the packet the origin sends for a revocation by the controller.
func controllerRevocation(a types.Attestation, seq uint64) *types.RevocationPacket {
	return &types.RevocationPacket{AttestationId: a.Id, OriginChainId: a.OriginChainId, IssuerDid: a.IssuerDid,
		NewStatus: types.ATTESTATION_STATUS_REVOKED, IssuerSeq: seq, SourceHeight: 30, StatusHeight: 25, ByController: true}
}

// TestRecvControllerRevocation: the receiver's rules for a controller's revocation. It needs no
// issuer signature (the origin's commitment, proven through the registered client, is its authority)
// and wins over any sequence: a status the leaked key signed with a high sequence does not outrank
// it, and after it nothing signed moves the record. It must still come over the registered city's
// client, for a DID of that city and the record's issuer, and be a bare revocation.
func TestRecvControllerRevocation(t *testing.T) {
	k, ctx := receiver(t)
	p := attestationPacket("seoul-1", 3, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-0", 1, att(p)); err != nil {
		t.Fatal(err)
	}
	// The attacker's key suspends it with a high sequence first (relayed packets arrive in any order).
	if _, err := recv(k, ctx, "channel-0", 2, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_SUSPENDED, 1000))); err != nil {
		t.Fatal(err)
	}

	bad := func(mod func(*types.RevocationPacket)) *types.RevocationPacket {
		r := controllerRevocation(p.Attestation, 5)
		mod(r)
		return r
	}
	_, err := recv(k, ctx, "channel-0", 3, rev(bad(func(r *types.RevocationPacket) { r.NewStatus = types.ATTESTATION_STATUS_ACTIVE })))
	requireCode(t, err, types.ErrInvalidStatus)
	_, err = recv(k, ctx, "channel-0", 3, rev(bad(func(r *types.RevocationPacket) { r.Signature = []byte{1} })))
	requireCode(t, err, types.ErrInvalidPacket)
	_, err = recv(k, ctx, "channel-0", 3, rev(bad(func(r *types.RevocationPacket) { r.IssuerMethod = "key-1" })))
	requireCode(t, err, types.ErrInvalidPacket)
	_, err = recv(k, ctx, "channel-0", 3, rev(bad(func(r *types.RevocationPacket) { r.IssuerKey = issuerKey() })))
	requireCode(t, err, types.ErrInvalidPacket)
	_, err = recv(k, ctx, "channel-0", 3, rev(bad(func(r *types.RevocationPacket) { r.StatusHeight = 31 })))
	requireCode(t, err, types.ErrInvalidPacket)
	_, err = recv(k, ctx, "channel-3", 3, rev(controllerRevocation(p.Attestation, 5))) // a forged seoul-1's client
	if err == nil {
		t.Fatal("a controller revocation over an unregistered client was accepted")
	}
	_, err = recv(k, ctx, "channel-1", 3, rev(controllerRevocation(p.Attestation, 5))) // wego-1 speaking for seoul-1
	requireCode(t, err, types.ErrOriginMismatch)
	_, err = recv(k, ctx, "channel-0", 3, rev(bad(func(r *types.RevocationPacket) { r.IssuerDid = "did:city:seoul-1:someone-else" })))
	requireCode(t, err, types.ErrUnauthorized)
	f, _, _ := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if f.Attestation.Status != types.ATTESTATION_STATUS_SUSPENDED {
		t.Fatalf("a refused packet changed the record: %+v", f.Attestation)
	}

	// A lower sequence than the attacker's: accepted, revoked, by the controller.
	if _, err := recv(k, ctx, "channel-0", 4, rev(controllerRevocation(p.Attestation, 5))); err != nil {
		t.Fatalf("controller revocation: %v", err)
	}
	f, _, _ = k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if a := f.Attestation; a.Status != types.ATTESTATION_STATUS_REVOKED || !a.StatusByController || a.StatusSeq != 5 || a.StatusMethod != "" || len(a.StatusSignature) != 0 {
		t.Fatalf("after the controller's revocation: %+v", a)
	}
	// Revoked is final: a signed reinstatement with any sequence is refused.
	_, err = recv(k, ctx, "channel-0", 5, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_ACTIVE, 5000)))
	requireCode(t, err, types.ErrInvalidStatus)

	// Before its attestation: a tombstone, which the attestation (sent active) cannot undo.
	q := attestationPacket("seoul-1", 7, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-0", 6, rev(controllerRevocation(q.Attestation, 9))); err != nil {
		t.Fatal(err)
	}
	if _, err := recv(k, ctx, "channel-0", 7, att(q)); err != nil {
		t.Fatal(err)
	}
	f, _, _ = k.GetForeignAttestation(ctx, "seoul-1", q.Attestation.Id)
	if a := f.Attestation; f.Tombstone || a.Status != types.ATTESTATION_STATUS_REVOKED || !a.StatusByController || a.SubjectDid == "" {
		t.Fatalf("attestation after a controller's tombstone: %+v", f)
	}

	// An attestation that travels with the controller's revocation as its status.
	r := attestationPacket("seoul-1", 11, 1_900_000_000)
	ra := &r.Attestation
	ra.Status, ra.StatusSeq, ra.StatusHeight, ra.StatusByController = types.ATTESTATION_STATUS_REVOKED, 12, 15, true
	sk := issuerKey()
	r.StatusKey = &sk
	_, err = recv(k, ctx, "channel-0", 8, att(r))
	requireCode(t, err, types.ErrInvalidStatus)
	r.StatusKey = nil
	ra.StatusHeight = 5 // before its issue at 10
	_, err = recv(k, ctx, "channel-0", 8, att(r))
	requireCode(t, err, types.ErrInvalidPacket)
	ra.StatusHeight = 15
	if _, err := recv(k, ctx, "channel-0", 8, att(r)); err != nil {
		t.Fatal(err)
	}
	f, _, _ = k.GetForeignAttestation(ctx, "seoul-1", ra.Id)
	if !f.Attestation.StatusByController || f.Attestation.Status != types.ATTESTATION_STATUS_REVOKED {
		t.Fatalf("attestation sent revoked by the controller: %+v", f.Attestation)
	}
}
