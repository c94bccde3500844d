package chains

import (
	"context"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// ChannelLister lists a chain's IBC channels (unproven: a list a node could shorten or pad; each
// channel found is read again with a proof before it is used). An optional capability.
type ChannelLister interface {
	ChainID() string
	// ConnectionChannels lists the channels over the connection, every page.
	ConnectionChannels(ctx context.Context, connectionID string) ([]channeltypes.IdentifiedChannel, error)
	// Channels lists every channel of the chain, every page.
	Channels(ctx context.Context) ([]channeltypes.IdentifiedChannel, error)
}
