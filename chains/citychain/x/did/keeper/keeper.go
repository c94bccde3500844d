// Package keeper holds the did module's state and rules: DID documents, attestations, the trusted
// issuer registry, and the did IBC application's send and receive logic.
package keeper

import (
	"context"

	corestore "cosmossdk.io/core/store"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/log"
	storetypes "cosmossdk.io/store/types"
	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// ICS4Wrapper sends packets (the IBC channel keeper).
type ICS4Wrapper interface {
	SendPacket(ctx sdk.Context, chanCap *capabilitytypes.Capability, sourcePort, sourceChannel string,
		timeoutHeight clienttypes.Height, timeoutTimestamp uint64, data []byte) (uint64, error)
	// WriteAcknowledgement writes the asynchronous acknowledgement of a packet a hub forwarded.
	WriteAcknowledgement(ctx sdk.Context, chanCap *capabilitytypes.Capability, packet exported.PacketI, ack exported.Acknowledgement) error
}

// ChannelKeeper reads channels, their connections and the client behind them.
type ChannelKeeper interface {
	GetChannelClientState(ctx sdk.Context, portID, channelID string) (string, exported.ClientState, error)
	GetChannelConnection(ctx sdk.Context, portID, channelID string) (string, exported.ConnectionI, error)
	GetConnection(ctx sdk.Context, connectionID string) (exported.ConnectionI, error)
	// GetAllChannelsWithPortPrefix lists channels (a hub finds the did channel of a destination).
	GetAllChannelsWithPortPrefix(ctx sdk.Context, portPrefix string) []channeltypes.IdentifiedChannel
	// GetChannel reads one channel end (a send checks the ordering of its channel).
	GetChannel(ctx sdk.Context, portID, channelID string) (channeltypes.Channel, bool)
}

// ClientKeeper reads IBC clients (the city registry checks a client before registering it).
type ClientKeeper interface {
	GetClientState(ctx sdk.Context, clientID string) (exported.ClientState, bool)
	GetClientStatus(ctx sdk.Context, clientState exported.ClientState, clientID string) exported.Status
	// ClientStore is the client's own store, for proof verification through its ClientState.
	ClientStore(ctx sdk.Context, clientID string) storetypes.KVStore
}

// PortKeeper binds ports.
type PortKeeper interface {
	BindPort(ctx sdk.Context, portID string) *capabilitytypes.Capability
}

// ScopedKeeper holds the module's capabilities.
type ScopedKeeper interface {
	GetCapability(ctx sdk.Context, name string) (*capabilitytypes.Capability, bool)
	AuthenticateCapability(ctx sdk.Context, cap *capabilitytypes.Capability, name string) bool
	ClaimCapability(ctx sdk.Context, cap *capabilitytypes.Capability, name string) error
}

// Keeper is the did module's keeper.
type Keeper struct {
	cdc      codec.BinaryCodec
	store    corestore.KVStoreService
	ics4     ICS4Wrapper
	channels ChannelKeeper
	clients  ClientKeeper
	ports    PortKeeper
	scoped   ScopedKeeper
}

// NewKeeper returns the did keeper.
func NewKeeper(cdc codec.BinaryCodec, store corestore.KVStoreService, ics4 ICS4Wrapper, channels ChannelKeeper,
	clients ClientKeeper, ports PortKeeper, scoped ScopedKeeper,
) Keeper {
	return Keeper{cdc: cdc, store: store, ics4: ics4, channels: channels, clients: clients, ports: ports, scoped: scoped}
}

// Logger is the module's logger.
func (k Keeper) Logger(ctx sdk.Context) log.Logger {
	return ctx.Logger().With("module", "x/"+types.ModuleName)
}

func (k Keeper) kv(ctx context.Context) corestore.KVStore { return k.store.OpenKVStore(ctx) }

// get decodes the value at key into v; it reports false if the key is absent.
func (k Keeper) get(ctx context.Context, key []byte, v proto.Message) (bool, error) {
	bz, err := k.kv(ctx).Get(key)
	if err != nil {
		return false, err
	}
	if bz == nil {
		return false, nil
	}
	if err := k.cdc.Unmarshal(bz, v); err != nil {
		return false, errorsmod.Wrapf(err, "decode %s", key)
	}
	return true, nil
}

func (k Keeper) set(ctx context.Context, key []byte, v proto.Message) error {
	bz, err := k.cdc.Marshal(v)
	if err != nil {
		return errorsmod.Wrapf(err, "encode %s", key)
	}
	return k.kv(ctx).Set(key, bz)
}

func (k Keeper) has(ctx context.Context, key []byte) (bool, error) { return k.kv(ctx).Has(key) }

// GetParams returns the module parameters.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	var p types.Params
	_, err := k.get(ctx, types.ParamsKey, &p)
	return p, err
}

// SetParams stores the module parameters.
func (k Keeper) SetParams(ctx context.Context, p types.Params) error {
	return k.set(ctx, types.ParamsKey, &p)
}

// GetDID returns a DID document.
func (k Keeper) GetDID(ctx context.Context, did string) (types.DIDDocument, bool, error) {
	var d types.DIDDocument
	ok, err := k.get(ctx, types.DIDKey(did), &d)
	return d, ok, err
}

// SetDID stores a DID document.
func (k Keeper) SetDID(ctx context.Context, d types.DIDDocument) error {
	return k.set(ctx, types.DIDKey(d.Id), &d)
}

// GetAttestation returns an attestation issued on this chain.
func (k Keeper) GetAttestation(ctx context.Context, id string) (types.Attestation, bool, error) {
	var a types.Attestation
	ok, err := k.get(ctx, types.AttestationKey(id), &a)
	return a, ok, err
}

// SetAttestation stores an attestation issued on this chain.
func (k Keeper) SetAttestation(ctx context.Context, a types.Attestation) error {
	return k.set(ctx, types.AttestationKey(a.Id), &a)
}

// GetForeignAttestation returns an attestation received from origin.
func (k Keeper) GetForeignAttestation(ctx context.Context, origin, id string) (types.ForeignAttestation, bool, error) {
	var f types.ForeignAttestation
	ok, err := k.get(ctx, types.ForeignAttestationKey(origin, id), &f)
	return f, ok, err
}

// SetForeignAttestation stores an attestation received over IBC.
func (k Keeper) SetForeignAttestation(ctx context.Context, f types.ForeignAttestation) error {
	return k.set(ctx, types.ForeignAttestationKey(f.Attestation.OriginChainId, f.Attestation.Id), &f)
}

// GetDelivery returns the delivery record of a packet sent here.
func (k Keeper) GetDelivery(ctx context.Context, channel string, seq uint64) (types.Delivery, bool, error) {
	var d types.Delivery
	ok, err := k.get(ctx, types.DeliveryKey(channel, seq), &d)
	return d, ok, err
}

// SetDelivery stores a delivery record.
func (k Keeper) SetDelivery(ctx context.Context, d types.Delivery) error {
	return k.set(ctx, types.DeliveryKey(d.Channel, d.Sequence), &d)
}

// IsTrusted reports whether issuer is trusted for credType.
func (k Keeper) IsTrusted(ctx context.Context, credType, issuer string) (bool, error) {
	return k.has(ctx, types.TrustedIssuerKey(credType, issuer))
}

// SetTrusted adds or removes a registry entry.
func (k Keeper) SetTrusted(ctx context.Context, credType, issuer string, trusted bool) error {
	if trusted {
		return k.kv(ctx).Set(types.TrustedIssuerKey(credType, issuer), []byte{1})
	}
	return k.kv(ctx).Delete(types.TrustedIssuerKey(credType, issuer))
}

// TrustedIssuers lists the registry entries of credType ("" for all).
func (k Keeper) TrustedIssuers(ctx context.Context, credType string) ([]types.TrustedIssuer, error) {
	prefix := types.TrustedIssuerPrefix(credType)
	it, err := k.kv(ctx).Iterator(prefix, storetypes.PrefixEndBytes(prefix))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []types.TrustedIssuer
	for ; it.Valid(); it.Next() {
		rest := string(it.Key()[len("trust/"):])
		for i := 0; i < len(rest); i++ {
			if rest[i] == '/' {
				out = append(out, types.TrustedIssuer{CredentialType: rest[:i], IssuerDid: rest[i+1:]})
				break
			}
		}
	}
	return out, nil
}

// activeDID returns a DID document that exists and is not deactivated.
func (k Keeper) activeDID(ctx context.Context, did string) (types.DIDDocument, error) {
	doc, ok, err := k.GetDID(ctx, did)
	if err != nil {
		return doc, err
	}
	if !ok {
		return doc, errorsmod.Wrapf(types.ErrDIDNotFound, "%s", did)
	}
	if !doc.Active() {
		return doc, errorsmod.Wrapf(types.ErrDIDDeactivated, "%s since height %d", did, doc.DeactivatedHeight)
	}
	return doc, nil
}

// validKey returns a verification method of doc valid at height h.
func validKey(doc *types.DIDDocument, method string, h int64) (*types.VerificationMethod, error) {
	m, ok := doc.Method(method)
	if !ok {
		return nil, errorsmod.Wrapf(types.ErrKeyNotFound, "%s#%s", doc.Id, method)
	}
	if !m.ValidAt(h) {
		return nil, errorsmod.Wrapf(types.ErrKeyRevoked, "%s#%s (created %d, revoked %d) at height %d", doc.Id, method, m.CreatedHeight, m.RevokedHeight, h)
	}
	return m, nil
}

// ClaimCapability claims a channel capability for the did module.
func (k Keeper) ClaimCapability(ctx sdk.Context, capability *capabilitytypes.Capability, name string) error {
	return k.scoped.ClaimCapability(ctx, capability, name)
}
