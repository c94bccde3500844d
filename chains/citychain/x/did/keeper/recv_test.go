package keeper_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"sort"
	"testing"
	"time"

	errorsmod "cosmossdk.io/errors"
	storetypes "cosmossdk.io/store/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	"github.com/cosmos/cosmos-sdk/testutil"
	sdk "github.com/cosmos/cosmos-sdk/types"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// fakeIBC is the IBC core a receiver sees: channels over connections over clients. A fake is enough
// here: these tests are about the did module's checks, not about IBC core (the end-to-end tests in
// relayer/ run the same checks on real chains).
type fakeIBC struct {
	channels map[string]string // channel → connection
	conns    map[string]string // connection → client
	clients  map[string]string // client → the chain id it tracks
	frozen   map[string]bool
	ordered  map[string]bool // channel → ORDERED (the others are UNORDERED)
}

func (f fakeIBC) order(channelID string) channeltypes.Order {
	if f.ordered[channelID] {
		return channeltypes.ORDERED
	}
	return channeltypes.UNORDERED
}

// GetChannel is the fake's channel channelID on port did, open.
func (f fakeIBC) GetChannel(_ sdk.Context, portID, channelID string) (channeltypes.Channel, bool) {
	conn, ok := f.channels[channelID]
	if !ok || portID != types.PortID {
		return channeltypes.Channel{}, false
	}
	return channeltypes.Channel{State: channeltypes.OPEN, Ordering: f.order(channelID), ConnectionHops: []string{conn}}, true
}

func (f fakeIBC) GetChannelClientState(_ sdk.Context, _, channelID string) (string, exported.ClientState, error) {
	_, conn, err := f.GetChannelConnection(sdk.Context{}, "", channelID)
	if err != nil {
		return "", nil, err
	}
	id := conn.GetClientID()
	return id, &ibctm.ClientState{ChainId: f.clients[id], LatestHeight: clienttypes.NewHeight(1, 10)}, nil
}

func (f fakeIBC) GetChannelConnection(_ sdk.Context, _, channelID string) (string, exported.ConnectionI, error) {
	conn, ok := f.channels[channelID]
	if !ok {
		return "", nil, errors.New("no such channel")
	}
	c, err := f.GetConnection(sdk.Context{}, conn)
	return conn, c, err
}

func (f fakeIBC) GetConnection(_ sdk.Context, connectionID string) (exported.ConnectionI, error) {
	client, ok := f.conns[connectionID]
	if !ok {
		return nil, errors.New("no such connection")
	}
	return connectiontypes.ConnectionEnd{ClientId: client, State: connectiontypes.OPEN}, nil
}

func (f fakeIBC) GetClientState(_ sdk.Context, clientID string) (exported.ClientState, bool) {
	chainID, ok := f.clients[clientID]
	if !ok {
		return nil, false
	}
	return &ibctm.ClientState{ChainId: chainID, LatestHeight: clienttypes.NewHeight(1, 10)}, true
}

// ClientStore: the receive tests prove nothing through a client, so a client's store is never read.
func (f fakeIBC) ClientStore(sdk.Context, string) storetypes.KVStore { return nil }

func (f fakeIBC) GetClientStatus(_ sdk.Context, _ exported.ClientState, clientID string) exported.Status {
	if f.frozen[clientID] {
		return exported.Frozen
	}
	return exported.Active
}

// GetAllChannelsWithPortPrefix lists the fake's channels on port did, all open, in id order.
func (f fakeIBC) GetAllChannelsWithPortPrefix(_ sdk.Context, _ string) []channeltypes.IdentifiedChannel {
	ids := make([]string, 0, len(f.channels))
	for id := range f.channels {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]channeltypes.IdentifiedChannel, 0, len(ids))
	for _, id := range ids {
		out = append(out, channeltypes.IdentifiedChannel{PortId: types.PortID, ChannelId: id, State: channeltypes.OPEN,
			Ordering: f.order(id), ConnectionHops: []string{f.channels[id]}})
	}
	return out
}

type noIBC struct{}

func (noIBC) WriteAcknowledgement(sdk.Context, *capabilitytypes.Capability, exported.PacketI, exported.Acknowledgement) error {
	return errors.New("not used")
}

func (noIBC) SendPacket(sdk.Context, *capabilitytypes.Capability, string, string, clienttypes.Height, uint64, []byte) (uint64, error) {
	return 0, errors.New("not used")
}
func (noIBC) BindPort(sdk.Context, string) *capabilitytypes.Capability { return nil }
func (noIBC) GetCapability(sdk.Context, string) (*capabilitytypes.Capability, bool) {
	return nil, false
}
func (noIBC) AuthenticateCapability(sdk.Context, *capabilitytypes.Capability, string) bool {
	return false
}
func (noIBC) ClaimCapability(sdk.Context, *capabilitytypes.Capability, string) error { return nil }

// adminAddr is the registry admin of the receiver (any valid address, in the app's prefix).
func adminAddr() string { return sdk.AccAddress(bytes.Repeat([]byte{1}, 20)).String() }

// receiver is bucheon-1. Its registry recognises 07-tendermint-0 for seoul-1 and 07-tendermint-1 for
// wego-1. channel-0 and channel-2 run over seoul-1's registered client, channel-1 over wego-1's, and
// channel-3 over 07-tendermint-3: a client of another chain that also calls itself seoul-1, which
// anyone can create.
func receiver(t *testing.T) (keeper.Keeper, sdk.Context) {
	t.Helper()
	k, ctx, _ := receiverWithStore(t)
	return k, ctx
}

func receiverWithStore(t *testing.T) (keeper.Keeper, sdk.Context, *storetypes.KVStoreKey) {
	t.Helper()
	return receiverWithIBC(t, noIBC{}, noIBC{})
}

// receiverWithIBC is receiverWithStore sending packets with ics4 and holding capabilities in scoped.
func receiverWithIBC(t *testing.T, ics4 keeper.ICS4Wrapper, scoped keeper.ScopedKeeper) (keeper.Keeper, sdk.Context, *storetypes.KVStoreKey) {
	t.Helper()
	ibc := fakeIBC{
		channels: map[string]string{"channel-0": "connection-0", "channel-1": "connection-1", "channel-2": "connection-2", "channel-3": "connection-3"},
		conns:    map[string]string{"connection-0": "07-tendermint-0", "connection-1": "07-tendermint-1", "connection-2": "07-tendermint-0", "connection-3": "07-tendermint-3"},
		clients:  map[string]string{"07-tendermint-0": "seoul-1", "07-tendermint-1": "wego-1", "07-tendermint-3": "seoul-1", "07-tendermint-4": "busan-1"},
		frozen:   map[string]bool{"07-tendermint-4": true},
	}
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tc := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t_did"))
	enc := citychain.MakeEncodingConfig()
	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), ics4, ibc, ibc, noIBC{}, scoped)
	ctx := tc.Ctx.WithChainID("bucheon-1").WithBlockHeight(50).WithBlockTime(time.Unix(1_800_000_000, 0))
	if err := k.SetParams(ctx, types.Params{RegistryAdmin: adminAddr()}); err != nil {
		t.Fatal(err)
	}
	ms := keeper.NewMsgServer(k)
	for city, client := range map[string]string{"seoul-1": "07-tendermint-0", "wego-1": "07-tendermint-1"} {
		if _, err := ms.RegisterCity(ctx, &types.MsgRegisterCity{Admin: adminAddr(), ChainId: city, ClientId: client}); err != nil {
			t.Fatalf("register %s: %v", city, err)
		}
	}
	return k, ctx, key
}

var issuerPriv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

func issuerKey() types.IssuerKey {
	return types.IssuerKey{Type: types.KEY_TYPE_ED25519, PublicKey: issuerPriv.Public().(ed25519.PublicKey), CreatedHeight: 1}
}

func attestationPacket(origin string, seq uint64, validUntil int64) *types.AttestationPacket {
	a := types.Attestation{OriginChainId: origin, IssuerDid: "did:city:" + origin + ":civil-office", IssuerMethod: "key-1",
		SubjectDid: "did:city:" + origin + ":citizen-1", CredentialType: "residency-card", Digest: bytes.Repeat([]byte{1}, 32),
		ValidFrom: 1_700_000_000, ValidUntil: validUntil, IssuerSeq: seq, Status: types.ATTESTATION_STATUS_ACTIVE, IssuedHeight: 10}
	sb := a.SignBytes()
	a.Id, a.Signature = types.AttestationID(sb), types.SignEd25519(issuerPriv, sb)
	return &types.AttestationPacket{Attestation: a, IssuerKey: issuerKey(), SourceHeight: 20}
}

// attestationPacketBy is an attestation of origin signed for the issuer DID issuer (a DID of another
// city, say): what a registered but dishonest city chain could send.
func attestationPacketBy(origin, issuer string, seq uint64) *types.AttestationPacket {
	p := attestationPacket(origin, seq, 1_900_000_000)
	a := &p.Attestation
	a.IssuerDid = issuer
	sb := a.SignBytes()
	a.Id, a.Signature = types.AttestationID(sb), types.SignEd25519(issuerPriv, sb)
	return p
}

// withStatus gives an attestation packet a status change signed by the issuer at origin height 15.
func withStatus(p *types.AttestationPacket, status types.AttestationStatus, seq uint64) *types.AttestationPacket {
	a := &p.Attestation
	a.Status, a.StatusSeq, a.StatusHeight, a.StatusMethod = status, seq, 15, "key-1"
	a.StatusSignature = types.SignEd25519(issuerPriv, types.RevocationSignBytes(a.OriginChainId, a.Id, a.IssuerDid, a.StatusMethod, status, seq))
	k := issuerKey()
	p.StatusKey = &k
	return p
}

func revocationPacket(a types.Attestation, status types.AttestationStatus, seq uint64) *types.RevocationPacket {
	r := &types.RevocationPacket{AttestationId: a.Id, OriginChainId: a.OriginChainId, IssuerDid: a.IssuerDid, IssuerMethod: "key-1",
		NewStatus: status, IssuerSeq: seq, IssuerKey: issuerKey(), SourceHeight: 30, StatusHeight: 25}
	r.Signature = types.SignEd25519(issuerPriv, r.SignBytes())
	return r
}

func serviceMessage(origin, dest string, nonce uint64, expiry int64) *types.ServiceMessagePacket {
	return serviceMessageBy(origin, "did:city:"+origin+":civil-office", dest, nonce, expiry)
}

func serviceMessageBy(origin, sender, dest string, nonce uint64, expiry int64) *types.ServiceMessagePacket {
	m := types.ServiceMessage{ServiceType: "mileage.transfer", SenderDid: sender, SenderMethod: "key-1",
		OriginChainId: origin, DestinationChainId: dest, Nonce: nonce, Expiry: expiry, Payload: []byte(`{"points":100}`)}
	sb := m.SignBytes()
	m.MsgId, m.Signature = types.MessageID(sb), types.SignEd25519(issuerPriv, sb)
	return &types.ServiceMessagePacket{Message: m, SenderKey: issuerKey(), SourceHeight: 20}
}

func recv(k keeper.Keeper, ctx sdk.Context, channel string, seq uint64, d types.DIDPacketData) (types.AckResult, error) {
	// Round-trip through the wire format, as OnRecvPacket sees it.
	decoded, err := types.DecodePacketData(d.GetBytes())
	if err != nil {
		return types.AckResult{}, err
	}
	p := channeltypes.Packet{Sequence: seq, SourcePort: types.PortID, SourceChannel: "channel-9", DestinationPort: types.PortID,
		DestinationChannel: channel, Data: d.GetBytes()}
	return k.OnRecvPacket(ctx, p, decoded)
}

func att(p *types.AttestationPacket) types.DIDPacketData {
	return types.DIDPacketData{Packet: &types.DIDPacketData_Attestation{Attestation: p}}
}
func rev(p *types.RevocationPacket) types.DIDPacketData {
	return types.DIDPacketData{Packet: &types.DIDPacketData_Revocation{Revocation: p}}
}
func svc(p *types.ServiceMessagePacket) types.DIDPacketData {
	return types.DIDPacketData{Packet: &types.DIDPacketData_ServiceMessage{ServiceMessage: p}}
}

func requireCode(t *testing.T, err error, want *errorsmod.Error) {
	t.Helper()
	if !want.Is(err) {
		t.Fatalf("want %v, got %v", want, err)
	}
}

func TestRecvAttestation(t *testing.T) {
	k, ctx := receiver(t)
	p := attestationPacket("seoul-1", 1, 1_900_000_000)
	res, err := recv(k, ctx, "channel-0", 1, att(p))
	if err != nil {
		t.Fatalf("recv: %v", err)
	}
	if res.Kind != types.KindAttestation || res.Ref != p.Attestation.Id || res.Height != 50 {
		t.Fatalf("ack result %+v", res)
	}
	f, ok, err := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if err != nil || !ok || f.Tombstone || f.Attestation.Status != types.ATTESTATION_STATUS_ACTIVE || f.SourceChannel != "channel-0" {
		t.Fatalf("stored %+v ok=%v err=%v", f, ok, err)
	}
}

func TestRecvRefusals(t *testing.T) {
	valid := attestationPacket("seoul-1", 1, 1_900_000_000)
	for _, tc := range []struct {
		name    string
		channel string
		data    func() types.DIDPacketData
		want    *errorsmod.Error
	}{
		// channel-1 is a client of wego-1: a packet claiming to come from seoul-1 over it is forged.
		{"origin does not match the channel's client", "channel-1", func() types.DIDPacketData { return att(valid) }, types.ErrOriginMismatch},
		{"signature by another key", "channel-0", func() types.DIDPacketData {
			p := attestationPacket("seoul-1", 1, 1_900_000_000)
			p.Attestation.Signature = ed25519.Sign(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)), p.Attestation.SignBytes())
			return att(p)
		}, types.ErrInvalidSignature},
		{"issuer key revoked before the issued height", "channel-0", func() types.DIDPacketData {
			p := attestationPacket("seoul-1", 1, 1_900_000_000)
			p.IssuerKey.RevokedHeight = 8 // issued at 10
			return att(p)
		}, types.ErrKeyRevoked},
		{"issued after the source height", "channel-0", func() types.DIDPacketData {
			p := attestationPacket("seoul-1", 1, 1_900_000_000)
			p.SourceHeight = 9 // issued at 10
			return att(p)
		}, types.ErrInvalidPacket},
		// channel-3 runs over a client of a chain that calls itself seoul-1 but is not the registered one.
		{"channel's client is not a registered city's", "channel-3", func() types.DIDPacketData { return att(valid) }, types.ErrCityNotRegistered},
		{"issuer DID of another city", "channel-0", func() types.DIDPacketData {
			return att(attestationPacketBy("seoul-1", "did:city:busan-1:civil-office", 1))
		}, types.ErrOriginMismatch},
		{"revocation by an issuer DID of another city", "channel-0", func() types.DIDPacketData {
			a := attestationPacketBy("seoul-1", "did:city:busan-1:civil-office", 1).Attestation
			return rev(revocationPacket(a, types.ATTESTATION_STATUS_REVOKED, 2))
		}, types.ErrOriginMismatch},
		{"service message from a sender DID of another city", "channel-0", func() types.DIDPacketData {
			return svc(serviceMessageBy("seoul-1", "did:city:busan-1:civil-office", "bucheon-1", 1, 1_900_000_000))
		}, types.ErrOriginMismatch},
		{"service message over an unregistered client", "channel-3", func() types.DIDPacketData {
			return svc(serviceMessage("seoul-1", "bucheon-1", 1, 1_900_000_000))
		}, types.ErrCityNotRegistered},
		{"revoked status without a signed status change", "channel-0", func() types.DIDPacketData {
			p := attestationPacket("seoul-1", 1, 1_900_000_000)
			p.Attestation.Status = types.ATTESTATION_STATUS_REVOKED
			return att(p)
		}, types.ErrInvalidStatus},
		{"status change signed by another key", "channel-0", func() types.DIDPacketData {
			p := withStatus(attestationPacket("seoul-1", 1, 1_900_000_000), types.ATTESTATION_STATUS_ACTIVE, 2)
			p.Attestation.StatusSignature = ed25519.Sign(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)), []byte("x"))
			return att(p)
		}, types.ErrInvalidSignature},
		{"status key revoked before the status height", "channel-0", func() types.DIDPacketData {
			p := withStatus(attestationPacket("seoul-1", 1, 1_900_000_000), types.ATTESTATION_STATUS_SUSPENDED, 2)
			p.StatusKey.RevokedHeight = 12 // status set at 15
			return att(p)
		}, types.ErrKeyRevoked},
		{"status change without its key", "channel-0", func() types.DIDPacketData {
			p := withStatus(attestationPacket("seoul-1", 1, 1_900_000_000), types.ATTESTATION_STATUS_REVOKED, 2)
			p.StatusKey = nil
			return att(p)
		}, types.ErrInvalidPacket},
		{"id not derived from the signing bytes", "channel-0", func() types.DIDPacketData {
			p := attestationPacket("seoul-1", 1, 1_900_000_000)
			p.Attestation.Id = types.AttestationID([]byte("something else"))
			return att(p)
		}, types.ErrInvalidPacket},
		{"validity window already past", "channel-0", func() types.DIDPacketData {
			return att(attestationPacket("seoul-1", 1, 1_750_000_000)) // block time is 1_800_000_000
		}, types.ErrValidityWindow},
		{"service message for another destination", "channel-0", func() types.DIDPacketData {
			return svc(serviceMessage("seoul-1", "wego-1", 1, 1_900_000_000))
		}, types.ErrWrongDestination},
		{"expired service message", "channel-0", func() types.DIDPacketData {
			return svc(serviceMessage("seoul-1", "bucheon-1", 1, 1_799_999_999))
		}, types.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, ctx, key := receiverWithStore(t)
			_, err := recv(k, ctx, tc.channel, 1, tc.data())
			requireCode(t, err, tc.want)
			if _, ok, _ := k.GetForeignAttestation(ctx, "seoul-1", valid.Attestation.Id); ok {
				t.Fatal("state written by a refused packet")
			}
			requireNothingReceived(t, ctx, key)
		})
	}
}

func TestRecvReplayThroughSecondChannel(t *testing.T) {
	k, ctx := receiver(t)
	p := attestationPacket("seoul-1", 1, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-0", 1, att(p)); err != nil {
		t.Fatal(err)
	}
	// channel-2 is another channel to seoul-1: the same attestation through it is a replay.
	_, err := recv(k, ctx, "channel-2", 1, att(p))
	requireCode(t, err, types.ErrAttestationExists)
	f, _, _ := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if f.SourceChannel != "channel-0" {
		t.Fatalf("replay overwrote the first receipt: %+v", f)
	}
}

func TestRecvRevocationBeforeAttestation(t *testing.T) {
	k, ctx := receiver(t)
	p := attestationPacket("seoul-1", 1, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-0", 2, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_REVOKED, 2))); err != nil {
		t.Fatalf("revocation first: %v", err)
	}
	f, ok, _ := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if !ok || !f.Tombstone || f.Attestation.Status != types.ATTESTATION_STATUS_REVOKED {
		t.Fatalf("want a revoked tombstone, got %+v", f)
	}
	if _, err := recv(k, ctx, "channel-0", 1, att(p)); err != nil {
		t.Fatalf("attestation after its revocation: %v", err)
	}
	f, _, _ = k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if f.Tombstone || f.Attestation.Status != types.ATTESTATION_STATUS_REVOKED || f.Attestation.SubjectDid == "" {
		t.Fatalf("attestation must complete the tombstone and stay revoked: %+v", f)
	}
}

func TestRecvStaleRevocation(t *testing.T) {
	k, ctx := receiver(t)
	p := attestationPacket("seoul-1", 5, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-0", 1, att(p)); err != nil {
		t.Fatal(err)
	}
	_, err := recv(k, ctx, "channel-0", 2, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_REVOKED, 5)))
	requireCode(t, err, types.ErrStaleSequence)
	if _, err := recv(k, ctx, "channel-0", 3, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_SUSPENDED, 6))); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	// A replay of an older status change cannot undo a newer one.
	_, err = recv(k, ctx, "channel-0", 4, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_ACTIVE, 6)))
	requireCode(t, err, types.ErrStaleSequence)
	f, _, _ := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if f.Attestation.Status != types.ATTESTATION_STATUS_SUSPENDED {
		t.Fatalf("status %v", f.Attestation.Status)
	}
}

func TestRecvServiceMessageNonce(t *testing.T) {
	k, ctx := receiver(t)
	m := serviceMessage("seoul-1", "bucheon-1", 7, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-0", 1, svc(m)); err != nil {
		t.Fatalf("service message: %v", err)
	}
	// The same sender and nonce again (even re-signed with new content) is refused.
	again := serviceMessage("seoul-1", "bucheon-1", 7, 1_900_000_001)
	_, err := recv(k, ctx, "channel-0", 2, svc(again))
	requireCode(t, err, types.ErrNonceUsed)
}

func TestDecodeRefusesGarbage(t *testing.T) {
	for _, bz := range [][]byte{nil, {0xff, 0xff, 0xff}, (&types.DIDPacketData{}).GetBytes()} {
		if _, err := types.DecodePacketData(bz); !types.ErrInvalidPacket.Is(err) {
			t.Fatalf("decode %x: want ErrInvalidPacket, got %v", bz, err)
		}
	}
}

// requireNothingReceived checks that no foreign attestation, tombstone or inbox entry was written.
func requireNothingReceived(t *testing.T, ctx sdk.Context, key *storetypes.KVStoreKey) {
	t.Helper()
	for _, prefix := range []string{"fatt/", "inbox/", "nonce/"} {
		it := ctx.KVStore(key).Iterator([]byte(prefix), storetypes.PrefixEndBytes([]byte(prefix)))
		valid := it.Valid()
		_ = it.Close()
		if valid {
			t.Fatalf("a refused packet wrote under %s", prefix)
		}
	}
}

// An attestation travels with its status: one revoked in Seoul before it was sent is recorded revoked
// by a city that never saw it active.
func TestRecvAttestationWithItsStatus(t *testing.T) {
	for _, status := range []types.AttestationStatus{types.ATTESTATION_STATUS_REVOKED, types.ATTESTATION_STATUS_SUSPENDED} {
		k, ctx := receiver(t)
		p := withStatus(attestationPacket("seoul-1", 1, 1_900_000_000), status, 2)
		if _, err := recv(k, ctx, "channel-0", 1, att(p)); err != nil {
			t.Fatalf("%s attestation: %v", status, err)
		}
		f, _, _ := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
		if f.Attestation.Status != status || f.Attestation.StatusSeq != 2 || f.Attestation.StatusHeight != 15 {
			t.Fatalf("want %s at seq 2, height 15; stored %+v", status, f.Attestation)
		}
	}
}

// A key rotated after it signed stays good for what it signed while valid: keys are judged at the
// issued and status heights, not at the time of sending.
func TestRecvKeyRotatedAfterSigning(t *testing.T) {
	k, ctx := receiver(t)
	p := withStatus(attestationPacket("seoul-1", 1, 1_900_000_000), types.ATTESTATION_STATUS_REVOKED, 2)
	p.IssuerKey.RevokedHeight = 12 // issued at 10, rotated at 12, packet sent at 20
	p.StatusKey.RevokedHeight = 18 // status set at 15
	if _, err := recv(k, ctx, "channel-0", 1, att(p)); err != nil {
		t.Fatalf("attestation signed before its key's rotation: %v", err)
	}
	k, ctx = receiver(t)
	r := revocationPacket(p.Attestation, types.ATTESTATION_STATUS_REVOKED, 2)
	r.IssuerKey.RevokedHeight = 26 // status set at 25, sent at 30
	if _, err := recv(k, ctx, "channel-0", 1, rev(r)); err != nil {
		t.Fatalf("revocation signed before its key's rotation: %v", err)
	}
}

func TestTombstoneRules(t *testing.T) {
	k, ctx := receiver(t)
	p := attestationPacket("seoul-1", 1, 1_900_000_000)
	if _, err := recv(k, ctx, "channel-0", 1, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_REVOKED, 5))); err != nil {
		t.Fatalf("revocation first: %v", err)
	}
	// Revoked is final, in a tombstone too: neither a lower nor a higher sequence reinstates it.
	for i, seq := range []uint64{3, 7} {
		_, err := recv(k, ctx, "channel-0", uint64(2+i), rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_ACTIVE, seq)))
		requireCode(t, err, types.ErrInvalidStatus)
	}
	if _, err := recv(k, ctx, "channel-0", 5, att(p)); err != nil {
		t.Fatalf("attestation completing its tombstone: %v", err)
	}
	f, _, _ := k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if f.Tombstone || f.Attestation.Status != types.ATTESTATION_STATUS_REVOKED || f.Attestation.StatusSeq != 5 {
		t.Fatalf("completed tombstone must stay revoked at seq 5: %+v", f)
	}

	// The attestation that completes a tombstone must be the tombstone issuer's: a status change
	// signed by another DID of the city does not bind the attestation of this one.
	k, ctx = receiver(t)
	forged := p.Attestation
	forged.IssuerDid = "did:city:seoul-1:other-office"
	if _, err := recv(k, ctx, "channel-0", 1, rev(revocationPacket(forged, types.ATTESTATION_STATUS_SUSPENDED, 5))); err != nil {
		t.Fatal(err)
	}
	_, err := recv(k, ctx, "channel-0", 2, att(p))
	requireCode(t, err, types.ErrUnauthorized)

	// A suspended tombstone keeps its highest sequence: an older status cannot replace it.
	k, ctx = receiver(t)
	if _, err := recv(k, ctx, "channel-0", 1, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_SUSPENDED, 5))); err != nil {
		t.Fatal(err)
	}
	_, err = recv(k, ctx, "channel-0", 2, rev(revocationPacket(p.Attestation, types.ATTESTATION_STATUS_ACTIVE, 4)))
	requireCode(t, err, types.ErrStaleSequence)
	// An attestation arriving with an older status of its own takes the tombstone's newer one.
	if _, err := recv(k, ctx, "channel-0", 3, att(withStatus(attestationPacket("seoul-1", 1, 1_900_000_000), types.ATTESTATION_STATUS_ACTIVE, 3))); err != nil {
		t.Fatal(err)
	}
	f, _, _ = k.GetForeignAttestation(ctx, "seoul-1", p.Attestation.Id)
	if f.Attestation.Status != types.ATTESTATION_STATUS_SUSPENDED || f.Attestation.StatusSeq != 5 {
		t.Fatalf("want the tombstone's suspension at seq 5: %+v", f.Attestation)
	}
}

func TestRemovedCityIsRefused(t *testing.T) {
	k, ctx := receiver(t)
	ms := keeper.NewMsgServer(k)
	if _, err := ms.RemoveCity(ctx, &types.MsgRemoveCity{Admin: adminAddr(), ChainId: "seoul-1"}); err != nil {
		t.Fatal(err)
	}
	p := attestationPacket("seoul-1", 1, 1_900_000_000)
	_, err := recv(k, ctx, "channel-0", 1, att(p))
	requireCode(t, err, types.ErrCityNotRegistered)
	if _, err := k.CheckOpenChannelCity(ctx, "channel-0"); !types.ErrCityNotRegistered.Is(err) {
		t.Fatalf("handshake over a removed city's client: %v", err)
	}
	_, err = ms.RemoveCity(ctx, &types.MsgRemoveCity{Admin: adminAddr(), ChainId: "seoul-1"})
	requireCode(t, err, types.ErrCityNotRegistered)
}

func TestCityRegistryRules(t *testing.T) {
	k, ctx := receiver(t)
	ms := keeper.NewMsgServer(k)
	reg := func(signer, city, client string) error {
		_, err := ms.RegisterCity(ctx, &types.MsgRegisterCity{Admin: signer, ChainId: city, ClientId: client})
		return err
	}
	requireCode(t, reg(sdk.AccAddress(bytes.Repeat([]byte{2}, 20)).String(), "busan-1", "07-tendermint-3"), types.ErrUnauthorized)
	requireCode(t, reg(adminAddr(), "busan-1", "07-tendermint-9"), types.ErrClientNotFound)   // no such client
	requireCode(t, reg(adminAddr(), "busan-1", "07-tendermint-4"), types.ErrClientNotFound)   // frozen
	requireCode(t, reg(adminAddr(), "busan-1", "07-tendermint-1"), types.ErrInvalidRequest)   // tracks wego-1
	requireCode(t, reg(adminAddr(), "bucheon-1", "07-tendermint-3"), types.ErrInvalidRequest) // this chain
	requireCode(t, (&types.MsgRegisterCity{Admin: adminAddr(), ChainId: "Seoul_1", ClientId: "07-tendermint-0"}).ValidateBasic(), types.ErrInvalidRequest)
	requireCode(t, (&types.MsgRegisterCity{Admin: adminAddr(), ChainId: "seoul-1", ClientId: "x"}).ValidateBasic(), types.ErrInvalidRequest)

	// One client per city: re-registering seoul-1 with a new client replaces the old one entirely.
	res, err := ms.RegisterCity(ctx, &types.MsgRegisterCity{Admin: adminAddr(), ChainId: "seoul-1", ClientId: "07-tendermint-3"})
	if err != nil || res.PreviousClientId != "07-tendermint-0" {
		t.Fatalf("replace seoul-1's client: %v %+v", err, res)
	}
	if city, ok, _ := k.CityOfClient(ctx, "07-tendermint-0"); ok {
		t.Fatalf("old client still speaks for %s", city)
	}
	if _, err := recv(k, ctx, "channel-0", 1, att(attestationPacket("seoul-1", 1, 1_900_000_000))); !types.ErrCityNotRegistered.Is(err) {
		t.Fatalf("packet over the replaced client: %v", err)
	}
	cities, err := k.Cities(ctx)
	if err != nil || len(cities) != 2 || cities[0] != (types.City{ChainId: "seoul-1", ClientId: "07-tendermint-3"}) || cities[1].ChainId != "wego-1" {
		t.Fatalf("registry %+v %v", cities, err)
	}
	// One city per client.
	requireCode(t, reg(adminAddr(), "wego-1", "07-tendermint-3"), types.ErrInvalidRequest)
}

func TestHandshakeNeedsARegisteredCity(t *testing.T) {
	k, ctx := receiver(t)
	if city, err := k.CheckChannelCity(ctx, []string{"connection-0"}); err != nil || city != "seoul-1" {
		t.Fatalf("registered client: %q %v", city, err)
	}
	_, err := k.CheckChannelCity(ctx, []string{"connection-3"})
	requireCode(t, err, types.ErrCityNotRegistered)
	_, err = k.CheckChannelCity(ctx, []string{"connection-0", "connection-1"})
	requireCode(t, err, types.ErrInvalidChannel)
}
