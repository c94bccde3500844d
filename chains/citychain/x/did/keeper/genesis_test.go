package keeper_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

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

// sendIBC is the IBC core a sender sees: every channel's capability is held and packets get the next
// sequence of their channel. Only the did module's records of what it sent matter here.
type sendIBC struct{ seqs map[string]uint64 }

func (s sendIBC) SendPacket(_ sdk.Context, _ *capabilitytypes.Capability, _, channel string, _ clienttypes.Height, _ uint64, _ []byte) (uint64, error) {
	s.seqs[channel]++
	return s.seqs[channel], nil
}
func (sendIBC) WriteAcknowledgement(sdk.Context, *capabilitytypes.Capability, exported.PacketI, exported.Acknowledgement) error {
	return nil
}
func (sendIBC) BindPort(sdk.Context, string) *capabilitytypes.Capability {
	return capabilitytypes.NewCapability(1)
}
func (sendIBC) GetCapability(sdk.Context, string) (*capabilitytypes.Capability, bool) {
	return capabilitytypes.NewCapability(1), true
}
func (sendIBC) AuthenticateCapability(sdk.Context, *capabilitytypes.Capability, string) bool {
	return true
}
func (sendIBC) ClaimCapability(sdk.Context, *capabilitytypes.Capability, string) error { return nil }

// bucheonChain is an empty bucheon-1 did store with the receive tests' channels and clients.
func bucheonChain(t *testing.T) (keeper.Keeper, sdk.Context, *storetypes.KVStoreKey) {
	t.Helper()
	ibc := fakeIBC{
		channels: map[string]string{"channel-0": "connection-0", "channel-1": "connection-1"},
		conns:    map[string]string{"connection-0": "07-tendermint-0", "connection-1": "07-tendermint-1"},
		clients:  map[string]string{"07-tendermint-0": "seoul-1", "07-tendermint-1": "wego-1"},
	}
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tc := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t_did"))
	s := sendIBC{seqs: map[string]uint64{}}
	k := keeper.NewKeeper(citychain.MakeEncodingConfig().Codec, runtime.NewKVStoreService(key), s, ibc, ibc, s, s)
	return k, tc.Ctx.WithChainID("bucheon-1").WithBlockHeight(1).WithBlockTime(time.Unix(1_800_000_000, 0)), key
}

// storeContents is every key and value of the did store.
func storeContents(t *testing.T, ctx sdk.Context, key *storetypes.KVStoreKey) map[string][]byte {
	t.Helper()
	it := ctx.KVStore(key).Iterator(nil, nil)
	defer it.Close()
	out := map[string][]byte{}
	for ; it.Valid(); it.Next() {
		out[string(it.Key())] = bytes.Clone(it.Value())
	}
	return out
}

// populate gives bucheon-1 every kind of did state through the module's own messages and packet
// handlers: DIDs (one deactivated, one with a revoked key), the registries, attestations active,
// suspended, revoked by a key and by the controller, attestations and a tombstone received over IBC
// and one proven from an EVM city, service messages received (inbox and nonces) and packets sent and
// resolved every way (deliveries). It returns a received service message and the issuer's keys.
func populate(t *testing.T, k keeper.Keeper, ctx sdk.Context) (*types.ServiceMessagePacket, string) {
	t.Helper()
	ms := keeper.NewMsgServer(k)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("genesis", k.InitGenesis(ctx, types.GenesisState{PortId: types.PortID, Params: types.Params{RegistryAdmin: adminAddr()}}))
	ctx = ctx.WithBlockHeight(10)
	for city, client := range map[string]string{"seoul-1": "07-tendermint-0", "wego-1": "07-tendermint-1"} {
		_, err := ms.RegisterCity(ctx, &types.MsgRegisterCity{Admin: adminAddr(), ChainId: city, ClientId: client})
		must("register "+city, err)
	}
	keys := map[string]ed25519.PrivateKey{"key-1": ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x11}, 32)), "key-2": ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x22}, 32))}
	method := func(id string) types.MethodInput {
		return types.MethodInput{Id: id, Type: types.KEY_TYPE_ED25519, PublicKey: keys[id].Public().(ed25519.PublicKey)}
	}
	res, err := ms.CreateDID(ctx, &types.MsgCreateDID{Controller: ctrlAddr(), Suffix: "civil-office", Methods: []types.MethodInput{method("key-1"), method("key-2")}})
	must("create issuer", err)
	issuer := res.Did
	for _, suffix := range []string{"citizen-1", "old-office"} {
		_, err := ms.CreateDID(ctx, &types.MsgCreateDID{Controller: ctrlAddr(), Suffix: suffix, Methods: []types.MethodInput{method("key-1")}})
		must("create "+suffix, err)
	}
	for _, ct := range []string{"residency-card", "parking-permit"} {
		_, err := ms.SetTrustedIssuer(ctx, &types.MsgSetTrustedIssuer{Admin: adminAddr(), CredentialType: ct, IssuerDid: issuer, Trusted: true})
		must("trust "+ct, err)
	}

	ctx = ctx.WithBlockHeight(11)
	var ids []string
	for seq, m := range []string{"key-1", "key-2", "key-1", "key-1", "key-2"} {
		digest := bytes.Repeat([]byte{byte(seq + 1)}, 32)
		sb := types.AttestationSignBytes("bucheon-1", issuer, m, "did:city:bucheon-1:citizen-1", "residency-card", digest, 1_700_000_000, 1_900_000_000, uint64(seq+1))
		r, err := ms.IssueAttestation(ctx, &types.MsgIssueAttestation{Submitter: strangerAddr(), IssuerDid: issuer, IssuerMethod: m,
			SubjectDid: "did:city:bucheon-1:citizen-1", CredentialType: "residency-card", Digest: digest, ValidFrom: 1_700_000_000,
			ValidUntil: 1_900_000_000, IssuerSeq: uint64(seq + 1), Signature: types.SignEd25519(keys[m], sb)})
		must("issue", err)
		ids = append(ids, r.Id)
	}
	ctx = ctx.WithBlockHeight(12)
	status := func(id, m string, st types.AttestationStatus, seq uint64) {
		t.Helper()
		sig := types.SignEd25519(keys[m], types.RevocationSignBytes("bucheon-1", id, issuer, m, st, seq))
		_, err := ms.SetAttestationStatus(ctx, &types.MsgSetAttestationStatus{Submitter: strangerAddr(), AttestationId: id,
			IssuerMethod: m, NewStatus: st, IssuerSeq: seq, Signature: sig})
		must("status", err)
	}
	status(ids[1], "key-2", types.ATTESTATION_STATUS_REVOKED, 6)
	status(ids[2], "key-1", types.ATTESTATION_STATUS_SUSPENDED, 7)
	_, err = ms.ControllerRevokeAttestation(ctx, &types.MsgControllerRevokeAttestation{Controller: ctrlAddr(), AttestationId: ids[3]})
	must("controller revoke", err)

	ctx = ctx.WithBlockHeight(13)
	_, err = ms.AddKey(ctx, &types.MsgAddKey{Controller: ctrlAddr(), Did: "did:city:bucheon-1:citizen-1", Method: method("key-2")})
	must("add key", err)
	_, err = ms.RevokeKey(ctx, &types.MsgRevokeKey{Controller: ctrlAddr(), Did: "did:city:bucheon-1:citizen-1", MethodId: "key-1"})
	must("revoke key", err)
	_, err = ms.DeactivateDID(ctx, &types.MsgDeactivateDID{Controller: ctrlAddr(), Did: "did:city:bucheon-1:old-office"})
	must("deactivate", err)

	// Received over IBC: attestations, a revocation before its attestation (a tombstone), messages.
	ctx = ctx.WithBlockHeight(14)
	_, err = recv(k, ctx, "channel-0", 1, att(attestationPacket("seoul-1", 1, 1_900_000_000)))
	must("recv seoul attestation", err)
	_, err = recv(k, ctx, "channel-1", 1, att(attestationPacket("wego-1", 1, 1_900_000_000)))
	must("recv wego attestation", err)
	_, err = recv(k, ctx, "channel-0", 2, rev(revocationPacket(attestationPacket("seoul-1", 2, 1_900_000_000).Attestation, types.ATTESTATION_STATUS_REVOKED, 3)))
	must("recv tombstone", err)
	msg := serviceMessage("seoul-1", "bucheon-1", 1, 1_900_000_000)
	_, err = recv(k, ctx, "channel-0", 3, svc(msg))
	must("recv message", err)
	_, err = recv(k, ctx, "channel-0", 4, svc(serviceMessage("seoul-1", "bucheon-1", 2, 1_900_000_000)))
	must("recv message 2", err)
	_, err = recv(k, ctx, "channel-1", 2, svc(serviceMessage("wego-1", "bucheon-1", 7, 1_900_000_000)))
	must("recv wego message", err)
	// An attestation proven from an EVM city's registry (no channel: a client and a proof height).
	evm := attestationPacket("wego-1", 9, 1_900_000_000).Attestation
	must("evm attestation", k.SetForeignAttestation(ctx, types.ForeignAttestation{Attestation: evm, ReceivedHeight: 14, ClientId: "07-tendermint-1", ProofHeight: 77}))

	// Sent from here, resolved every way: delivered, rejected, timed out, pending.
	ctx = ctx.WithBlockHeight(15)
	_, err = ms.SendAttestation(ctx, &types.MsgSendAttestation{Sender: strangerAddr(), AttestationId: ids[0], SourceChannel: "channel-0"})
	must("send attestation", err)
	_, err = ms.SendRevocation(ctx, &types.MsgSendRevocation{Sender: strangerAddr(), AttestationId: ids[1], SourceChannel: "channel-0"})
	must("send revocation", err)
	sm := types.ServiceMessage{ServiceType: "parking.permit", SenderDid: issuer, SenderMethod: "key-1", OriginChainId: "bucheon-1",
		DestinationChainId: "wego-1", Nonce: 1, Expiry: 1_900_000_000, Payload: []byte(`{"zone":3}`)}
	sm.Signature = types.SignEd25519(keys["key-1"], sm.SignBytes())
	_, err = ms.SendServiceMessage(ctx, &types.MsgSendServiceMessage{Sender: strangerAddr(), Message: sm, SourceChannel: "channel-1"})
	must("send message", err)
	_, err = ms.SendAttestation(ctx, &types.MsgSendAttestation{Sender: strangerAddr(), AttestationId: ids[2], SourceChannel: "channel-1"})
	must("send suspended attestation", err)
	ctx = ctx.WithBlockHeight(16)
	must("ack", k.OnAcknowledgement(ctx, channeltypes.Packet{SourceChannel: "channel-0", Sequence: 1}, channeltypes.NewResultAcknowledgement([]byte{1})))
	must("error ack", k.OnAcknowledgement(ctx, channeltypes.Packet{SourceChannel: "channel-0", Sequence: 2}, channeltypes.NewErrorAcknowledgement(errors.New("rejected"))))
	must("timeout", k.OnTimeout(ctx, channeltypes.Packet{SourceChannel: "channel-1", Sequence: 1}))

	// Forwarding (issue 22): wego-1 marked as a hub, an attestation it forwarded from seoul-1 (recorded
	// with its route), and one this chain forwards to wego-1 whose second hop is still pending.
	ctx = ctx.WithBlockHeight(17)
	_, err = ms.RegisterHub(ctx, &types.MsgRegisterHub{Admin: adminAddr(), ChainId: "wego-1"})
	must("register hub", err)
	viaWego := att(attestationPacket("seoul-1", 5, 1_900_000_000))
	viaWego.Route = &types.Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "wego-1"}
	_, err = recv(k, ctx, "channel-1", 3, viaWego)
	must("recv through the hub", err)
	toWego := att(attestationPacket("seoul-1", 6, 1_900_000_000))
	toWego.Route = &types.Route{OriginChainId: "seoul-1", DestinationChainId: "wego-1"}
	_, err = recv(k, ctx, "channel-0", 5, toWego)
	must("forward as a hub", err)
	return msg, issuer
}

// TestGenesisRoundTripKeepsEveryKey is issue 20 (5): a populated chain's did state goes through export,
// a JSON genesis file and import into a fresh store, and the two stores hold the same keys with the
// same values. After the import a stranger cannot take the issuer's DID, a received message cannot be
// received again, and the key index still finds what a leaked key signed.
func TestGenesisRoundTripKeepsEveryKey(t *testing.T) {
	k, ctx, key := bucheonChain(t)
	msg, issuer := populate(t, k, ctx)
	before := storeContents(t, ctx, key)
	prefixes := map[string]int{}
	for sk := range before {
		p, _, _ := bytes.Cut([]byte(sk), []byte("/"))
		prefixes[string(p)]++
	}
	for _, p := range []string{"params", "dids", "att", "keyatt", "fatt", "dlv", "inbox", "nonce", "trust", "city", "cityclient", "hub", "fwd"} {
		if prefixes[p] == 0 {
			t.Fatalf("the populated store has no %s key: the test would not cover it (%v)", p, prefixes)
		}
	}

	gs, err := k.ExportGenesis(ctx)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	enc := citychain.MakeEncodingConfig()
	file := enc.Codec.MustMarshalJSON(gs)
	var imported types.GenesisState
	if err := enc.Codec.UnmarshalJSON(file, &imported); err != nil {
		t.Fatalf("decode exported genesis: %v", err)
	}
	if err := imported.Validate(); err != nil {
		t.Fatalf("exported genesis does not validate: %v", err)
	}
	k2, ctx2, key2 := bucheonChain(t)
	ctx2 = ctx2.WithBlockHeight(20)
	if err := k2.InitGenesis(ctx2, imported); err != nil {
		t.Fatalf("import: %v", err)
	}
	after := storeContents(t, ctx2, key2)
	for sk, v := range before {
		w, ok := after[sk]
		switch {
		case !ok:
			t.Errorf("lost by export/import: %s", sk)
		case !bytes.Equal(v, w):
			t.Errorf("changed by export/import: %s: %x → %x", sk, v, w)
		}
	}
	for sk := range after {
		if _, ok := before[sk]; !ok {
			t.Errorf("added by export/import: %s", sk)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d keys round-tripped (%v), genesis %d bytes", len(before), prefixes, len(file))

	// The imported chain behaves as the old one: the issuer DID is taken, the nonce is used, the
	// key index still lists what key-1 signed and is not revoked (the active and the suspended one).
	ms := keeper.NewMsgServer(k2)
	_, err = ms.CreateDID(ctx2, &types.MsgCreateDID{Controller: strangerAddr(), Suffix: "civil-office",
		Methods: []types.MethodInput{{Id: "key-1", Type: types.KEY_TYPE_ED25519, PublicKey: issuerPriv.Public().(ed25519.PublicKey)}}})
	requireCode(t, err, types.ErrDIDExists)
	_, err = recv(k2, ctx2, "channel-0", 9, svc(msg))
	requireCode(t, err, types.ErrNonceUsed)
	r, err := ms.RevokeLeakedKey(ctx2, &types.MsgRevokeLeakedKey{Controller: ctrlAddr(), Did: issuer, MethodId: "key-1"})
	if err != nil {
		t.Fatalf("revoke leaked key after import: %v", err)
	}
	if len(r.Revoked) != 2 {
		t.Fatalf("revoke leaked key after import revoked %v, want the 2 unrevoked attestations key-1 signed", r.Revoked)
	}
}

// TestGenesisValidateRefusesBrokenState: an imported state that breaks the module's invariants is
// refused before it reaches the store, by ValidateGenesis and by InitGenesis.
func TestGenesisValidateRefusesBrokenState(t *testing.T) {
	k, ctx, _ := bucheonChain(t)
	populate(t, k, ctx)
	good, err := k.ExportGenesis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(gs *types.GenesisState)
	}{
		{"attestation whose issuer DID is not carried", func(gs *types.GenesisState) {
			for i, d := range gs.Dids {
				if d.Id == gs.Attestations[0].IssuerDid {
					gs.Dids = append(gs.Dids[:i:i], gs.Dids[i+1:]...)
					return
				}
			}
		}},
		{"issuer sequence behind its attestations", func(gs *types.GenesisState) {
			for i := range gs.Dids {
				if gs.Dids[i].Id == gs.Attestations[0].IssuerDid {
					gs.Dids[i].IssuerSeq = 1
				}
			}
		}},
		{"attestation id not its signing bytes", func(gs *types.GenesisState) { gs.Attestations[0].SubjectDid = "did:city:bucheon-1:someone-else" }},
		{"attestation repeated", func(gs *types.GenesisState) { gs.Attestations = append(gs.Attestations, gs.Attestations[0]) }},
		{"inbox message whose nonce is not used", func(gs *types.GenesisState) { gs.UsedNonces = gs.UsedNonces[1:] }},
		{"inbox message id not its signing bytes", func(gs *types.GenesisState) { gs.Inbox[0].Message.Nonce++ }},
		{"delivery repeated", func(gs *types.GenesisState) { gs.Deliveries = append(gs.Deliveries, gs.Deliveries[0]) }},
		{"delivery without a state", func(gs *types.GenesisState) { gs.Deliveries[0].State = types.DELIVERY_STATE_UNSPECIFIED }},
		{"foreign attestation repeated", func(gs *types.GenesisState) {
			gs.ForeignAttestations = append(gs.ForeignAttestations, gs.ForeignAttestations[0])
		}},
		{"foreign attestation id with a slash", func(gs *types.GenesisState) { gs.ForeignAttestations[0].Attestation.Id = "a/b" }},
		{"nonce repeated", func(gs *types.GenesisState) { gs.UsedNonces = append(gs.UsedNonces, gs.UsedNonces[0]) }},
		{"hub that is not a registered city", func(gs *types.GenesisState) { gs.Hubs = append(gs.Hubs, "jeju-1") }},
		{"hub repeated", func(gs *types.GenesisState) { gs.Hubs = append(gs.Hubs, gs.Hubs[0]) }},
		{"pending forward repeated", func(gs *types.GenesisState) { gs.PendingForwards = append(gs.PendingForwards, gs.PendingForwards[0]) }},
		{"pending forward without its first hop's packet", func(gs *types.GenesisState) { gs.PendingForwards[0].InData = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gs types.GenesisState
			enc := citychain.MakeEncodingConfig()
			enc.Codec.MustUnmarshalJSON(enc.Codec.MustMarshalJSON(good), &gs)
			tc.break_(&gs)
			if err := gs.Validate(); err == nil {
				t.Fatal("validate accepted it")
			} else {
				t.Logf("refused: %v", err)
			}
			k2, ctx2, key2 := bucheonChain(t)
			if err := k2.InitGenesis(ctx2, gs); err == nil {
				t.Fatal("InitGenesis accepted it")
			}
			if n := len(storeContents(t, ctx2, key2)); n != 0 {
				t.Fatalf("a refused genesis left %d keys", n)
			}
		})
	}
}

// TestGenesisExportRefusesWhatItCannotCarry: a key the export does not know, or an index entry its
// records do not imply, fails the export instead of vanishing from it.
func TestGenesisExportRefusesWhatItCannotCarry(t *testing.T) {
	for _, tc := range []struct{ name, key string }{
		{"unknown prefix", "future/thing"},
		{"stray key index entry", fmt.Sprintf("keyatt/did:city:bucheon-1:civil-office/key-1/%020d/%s", 11, "deadbeef")},
		{"stray reverse city entry", "cityclient/07-tendermint-9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, ctx, key := bucheonChain(t)
			populate(t, k, ctx)
			ctx.KVStore(key).Set([]byte(tc.key), []byte{1})
			if _, err := k.ExportGenesis(ctx); err == nil {
				t.Fatalf("export with %s succeeded", tc.key)
			} else {
				t.Logf("refused: %v", err)
			}
		})
	}
}
