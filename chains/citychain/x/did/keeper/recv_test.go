package keeper_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
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
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/keeper"
	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// fakeChannels maps each did channel to the chain id of the client behind it. A fake is enough
// here: these tests are about the receiver's checks, not about IBC core.
type fakeChannels map[string]string

func (f fakeChannels) GetChannelClientState(_ sdk.Context, _, channelID string) (string, exported.ClientState, error) {
	chainID, ok := f[channelID]
	if !ok {
		return "", nil, errors.New("no such channel")
	}
	return "07-tendermint-0", &ibctm.ClientState{ChainId: chainID, LatestHeight: clienttypes.NewHeight(1, 10)}, nil
}

type noIBC struct{}

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

// receiver is bucheon-1 with channel-0 to seoul-1 and channel-1 to wego-1 and channel-2 to seoul-1.
func receiver(t *testing.T) (keeper.Keeper, sdk.Context) {
	t.Helper()
	key := storetypes.NewKVStoreKey(types.StoreKey)
	tc := testutil.DefaultContextWithDB(t, key, storetypes.NewTransientStoreKey("t_did"))
	enc := citychain.MakeEncodingConfig()
	k := keeper.NewKeeper(enc.Codec, runtime.NewKVStoreService(key), noIBC{},
		fakeChannels{"channel-0": "seoul-1", "channel-1": "wego-1", "channel-2": "seoul-1"}, noIBC{}, noIBC{})
	ctx := tc.Ctx.WithChainID("bucheon-1").WithBlockHeight(50).WithBlockTime(time.Unix(1_800_000_000, 0))
	return k, ctx
}

var issuerPriv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

func issuerKey() types.IssuerKey {
	return types.IssuerKey{Type: types.KEY_TYPE_ED25519, PublicKey: issuerPriv.Public().(ed25519.PublicKey), CreatedHeight: 1}
}

func attestationPacket(origin string, seq uint64, validUntil int64) *types.AttestationPacket {
	a := types.Attestation{OriginChainId: origin, IssuerDid: "did:city:" + origin + ":civil-office", IssuerMethod: "key-1",
		SubjectDid: "did:city:" + origin + ":citizen-1", CredentialType: "residency-card", Digest: bytes.Repeat([]byte{1}, 32),
		ValidFrom: 1_700_000_000, ValidUntil: validUntil, IssuerSeq: seq}
	sb := a.SignBytes()
	a.Id, a.Signature = types.AttestationID(sb), types.SignEd25519(issuerPriv, sb)
	return &types.AttestationPacket{Attestation: a, IssuerKey: issuerKey(), SourceHeight: 20}
}

func revocationPacket(a types.Attestation, status types.AttestationStatus, seq uint64) *types.RevocationPacket {
	r := &types.RevocationPacket{AttestationId: a.Id, OriginChainId: a.OriginChainId, IssuerDid: a.IssuerDid, IssuerMethod: "key-1",
		NewStatus: status, IssuerSeq: seq, IssuerKey: issuerKey(), SourceHeight: 30}
	r.Signature = types.SignEd25519(issuerPriv, r.SignBytes())
	return r
}

func serviceMessage(origin, dest string, nonce uint64, expiry int64) *types.ServiceMessagePacket {
	m := types.ServiceMessage{ServiceType: "mileage.transfer", SenderDid: "did:city:" + origin + ":civil-office", SenderMethod: "key-1",
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
		{"issuer key revoked before the source height", "channel-0", func() types.DIDPacketData {
			p := attestationPacket("seoul-1", 1, 1_900_000_000)
			p.IssuerKey.RevokedHeight = 15 // source height is 20
			return att(p)
		}, types.ErrKeyRevoked},
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
			k, ctx := receiver(t)
			_, err := recv(k, ctx, tc.channel, 1, tc.data())
			requireCode(t, err, tc.want)
			if _, ok, _ := k.GetForeignAttestation(ctx, "seoul-1", valid.Attestation.Id); ok {
				t.Fatal("state written by a refused packet")
			}
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
