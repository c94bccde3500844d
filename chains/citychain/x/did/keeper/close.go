package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// ChannelOrder returns the ordering of the channel portID/channelID (false when there is none).
// Closing is rare: the channels on the port are listed.
func (k Keeper) ChannelOrder(ctx sdk.Context, portID, channelID string) (channeltypes.Order, bool) {
	for _, ch := range k.channels.GetAllChannelsWithPortPrefix(ctx, portID) {
		if ch.PortId == portID && ch.ChannelId == channelID {
			return ch.Ordering, true
		}
	}
	return channeltypes.NONE, false
}

// CheckRegistryAdmin refuses (ErrUnauthorized) a signer that is not the registry admin: the app's
// ante handler lets only the admin close a did channel.
func (k Keeper) CheckRegistryAdmin(ctx context.Context, signer string) error {
	return k.registryAdmin(ctx, signer)
}
