package cosmos

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
)

// BlockEvents returns the events of every tx of block h and of the block itself (pull mode: the
// primary event source; nothing here is trusted until proven).
func (c *Client) BlockEvents(ctx context.Context, h int64) ([]abci.Event, error) {
	var res *coretypes.ResultBlockResults
	err := c.rpc.do(ctx, "block_results", func(cl *rpchttp.HTTP) (err error) {
		res, err = cl.BlockResults(ctx, &h)
		return err
	})
	if err != nil {
		return nil, err
	}
	var events []abci.Event
	for _, tx := range res.TxsResults {
		if tx.Code != 0 {
			continue // a failed tx's events were reverted
		}
		events = append(events, tx.Events...)
	}
	return append(events, res.FinalizeBlockEvents...), nil
}
