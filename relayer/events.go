package relayer

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"
)

// EventSource is a chain whose block events can be read (pull mode).
type EventSource interface {
	BlockEvents(ctx context.Context, h int64, types ...string) ([]abci.Event, error)
}
