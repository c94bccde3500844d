package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"
	storetypes "cosmossdk.io/store/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
)

// The city registry decides which chain may speak for a city. IBC clients, connections and channels
// are permissionless: anyone can create a client whose chain id says seoul-1. Only the client the
// registry admin registered for seoul-1 speaks for Seoul here. Two keys hold each entry, kept
// together: city/<chain-id> → client id (what verify proves) and cityclient/<client-id> → chain id
// (what the receiver reads, one store read per packet).

// CityClient returns the client registered for the city chain chainID.
func (k Keeper) CityClient(ctx context.Context, chainID string) (string, bool, error) {
	bz, err := k.kv(ctx).Get(types.CityKey(chainID))
	if err != nil || bz == nil {
		return "", false, err
	}
	return string(bz), true, nil
}

// CityOfClient returns the city chain id that clientID is registered for.
func (k Keeper) CityOfClient(ctx context.Context, clientID string) (string, bool, error) {
	bz, err := k.kv(ctx).Get(types.CityClientKey(clientID))
	if err != nil || bz == nil {
		return "", false, err
	}
	return string(bz), true, nil
}

// setCity writes a registry entry, dropping the city's previous client. It returns that client.
func (k Keeper) setCity(ctx context.Context, chainID, clientID string) (string, error) {
	prev, ok, err := k.CityClient(ctx, chainID)
	if err != nil {
		return "", err
	}
	if ok && prev != clientID {
		if err := k.kv(ctx).Delete(types.CityClientKey(prev)); err != nil {
			return "", err
		}
	}
	if err := k.kv(ctx).Set(types.CityKey(chainID), []byte(clientID)); err != nil {
		return "", err
	}
	return prev, k.kv(ctx).Set(types.CityClientKey(clientID), []byte(chainID))
}

// removeCity deletes a registry entry; it reports the client it had.
func (k Keeper) removeCity(ctx context.Context, chainID string) (string, error) {
	clientID, ok, err := k.CityClient(ctx, chainID)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errorsmod.Wrapf(types.ErrCityNotRegistered, "%s is not in the city registry", chainID)
	}
	if err := k.kv(ctx).Delete(types.CityKey(chainID)); err != nil {
		return "", err
	}
	// A hub is a city first: a removed city loses its hub role with it.
	if err := k.kv(ctx).Delete(types.HubKey(chainID)); err != nil {
		return "", err
	}
	return clientID, k.kv(ctx).Delete(types.CityClientKey(clientID))
}

// IsHub reports whether the registry marks chainID as a hub.
func (k Keeper) IsHub(ctx context.Context, chainID string) (bool, error) {
	return k.has(ctx, types.HubKey(chainID))
}

// setHub gives a registered city the hub role (on) or takes it away.
func (k Keeper) setHub(ctx context.Context, chainID string, on bool) error {
	if !on {
		return k.kv(ctx).Delete(types.HubKey(chainID))
	}
	if _, ok, err := k.CityClient(ctx, chainID); err != nil {
		return err
	} else if !ok {
		return errorsmod.Wrapf(types.ErrCityNotRegistered, "%s is not in the city registry: register its client first (citychaind tx did register-city)", chainID)
	}
	return k.kv(ctx).Set(types.HubKey(chainID), []byte{1})
}

// Hubs lists the cities marked as hubs, ordered by chain id.
func (k Keeper) Hubs(ctx context.Context) ([]string, error) {
	prefix := types.HubPrefix
	it, err := k.kv(ctx).Iterator(prefix, storetypes.PrefixEndBytes(prefix))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []string
	for ; it.Valid(); it.Next() {
		out = append(out, string(it.Key()[len(prefix):]))
	}
	return out, nil
}

// CityChannel returns an open did channel of this chain over the registered client of city (the
// first in the channel store's order). A hub forwards on it; an origin sends to its hub on it.
func (k Keeper) CityChannel(ctx sdk.Context, city string) (string, error) {
	clientID, ok, err := k.CityClient(ctx, city)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errorsmod.Wrapf(types.ErrCityNotRegistered, "%s is not in the city registry", city)
	}
	for _, ch := range k.channels.GetAllChannelsWithPortPrefix(ctx, types.PortID) {
		// Routing takes UNORDERED channels only: one timeout closes an ORDERED one.
		if ch.PortId != types.PortID || ch.State != channeltypes.OPEN || ch.Ordering != channeltypes.UNORDERED || len(ch.ConnectionHops) != 1 {
			continue
		}
		conn, err := k.channels.GetConnection(ctx, ch.ConnectionHops[0])
		if err != nil || conn.GetClientID() != clientID {
			continue
		}
		return ch.ChannelId, nil
	}
	return "", errorsmod.Wrapf(types.ErrInvalidChannel, "no open did channel over %s's registered client %s", city, clientID)
}

// Cities lists the registry, ordered by chain id.
func (k Keeper) Cities(ctx context.Context) ([]types.City, error) {
	prefix := types.CityPrefix
	it, err := k.kv(ctx).Iterator(prefix, storetypes.PrefixEndBytes(prefix))
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []types.City
	for ; it.Valid(); it.Next() {
		out = append(out, types.City{ChainId: string(it.Key()[len(prefix):]), ClientId: string(it.Value())})
	}
	return out, nil
}

// checkCityClient checks that clientID can serve the city chainID: the client exists, is active, is
// not registered for another city, and a 07-tendermint client tracks chainID itself.
func (k Keeper) checkCityClient(ctx sdk.Context, chainID, clientID string) error {
	if chainID == ctx.ChainID() {
		return errorsmod.Wrapf(types.ErrInvalidRequest, "%s is this chain: a city does not register itself", chainID)
	}
	cs, ok := k.clients.GetClientState(ctx, clientID)
	if !ok {
		return errorsmod.Wrapf(types.ErrClientNotFound, "%s", clientID)
	}
	if st := k.clients.GetClientStatus(ctx, cs, clientID); st != exported.Active {
		return errorsmod.Wrapf(types.ErrClientNotFound, "%s is %s, not Active", clientID, st)
	}
	if tm, ok := cs.(*ibctm.ClientState); ok && tm.ChainId != chainID {
		return errorsmod.Wrapf(types.ErrInvalidRequest, "%s tracks chain %s, not %s", clientID, tm.ChainId, chainID)
	}
	if q, ok := cs.(*qbftclient.ClientState); ok && q.CityChainId != chainID {
		return errorsmod.Wrapf(types.ErrInvalidRequest, "%s tracks city %s, not %s", clientID, q.CityChainId, chainID)
	}
	if other, ok, err := k.CityOfClient(ctx, clientID); err != nil {
		return err
	} else if ok && other != chainID {
		return errorsmod.Wrapf(types.ErrInvalidRequest, "%s already serves %s: one client speaks for one city", clientID, other)
	}
	return nil
}

// channelCity returns the registered city of the client behind a did channel of this chain (channel →
// connection → client → registry). Packets on the channel speak for that city and no other.
func (k Keeper) channelCity(ctx sdk.Context, channel string) (city, clientID string, err error) {
	_, conn, err := k.channels.GetChannelConnection(ctx, types.PortID, channel)
	if err != nil {
		return "", "", errorsmod.Wrapf(types.ErrInvalidChannel, "%s: %s", channel, err)
	}
	return k.connectionCity(ctx, conn)
}

// connectionCity returns the registered city of a connection's client.
func (k Keeper) connectionCity(ctx context.Context, conn exported.ConnectionI) (city, clientID string, err error) {
	clientID = conn.GetClientID()
	city, ok, err := k.CityOfClient(ctx, clientID)
	if err != nil {
		return "", clientID, err
	}
	if !ok {
		return "", clientID, errorsmod.Wrapf(types.ErrCityNotRegistered, "client %s is not a registered city's client", clientID)
	}
	return city, clientID, nil
}

// hopsCity returns the registered city behind a channel's connection hops (exactly one hop).
func (k Keeper) hopsCity(ctx sdk.Context, hops []string) (string, string, error) {
	if len(hops) != 1 {
		return "", "", errorsmod.Wrapf(types.ErrInvalidChannel, "%d connection hops, want 1", len(hops))
	}
	conn, err := k.channels.GetConnection(ctx, hops[0])
	if err != nil {
		return "", "", errorsmod.Wrapf(types.ErrInvalidChannel, "connection %s: %s", hops[0], err)
	}
	return k.connectionCity(ctx, conn)
}

// CheckChannelCity is the handshake's trust check: the channel's connection runs over a registered
// city's client. It returns that city.
func (k Keeper) CheckChannelCity(ctx sdk.Context, hops []string) (string, error) {
	city, _, err := k.hopsCity(ctx, hops)
	return city, err
}

// CheckOpenChannelCity is the same check for a channel that already exists (ack and confirm steps).
func (k Keeper) CheckOpenChannelCity(ctx sdk.Context, channel string) (string, error) {
	city, _, err := k.channelCity(ctx, channel)
	return city, err
}
