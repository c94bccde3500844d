package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// ChannelOrder returns the ordering of the channel portID/channelID (false when there is none).
func (k Keeper) ChannelOrder(ctx sdk.Context, portID, channelID string) (channeltypes.Order, bool) {
	ch, ok := k.channels.GetChannel(ctx, portID, channelID)
	if !ok {
		return channeltypes.NONE, false
	}
	return ch.Ordering, true
}

// CheckRegistryAdmin refuses (ErrUnauthorized) a signer that is not the registry admin: the app's
// ante handler lets only the admin close a did channel.
func (k Keeper) CheckRegistryAdmin(ctx context.Context, signer string) error {
	return k.registryAdmin(ctx, signer)
}
