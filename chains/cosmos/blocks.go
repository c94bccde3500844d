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

// SearchTxEvents returns, for each committed tx matching a CometBFT tx_search query (oldest first), its
// height and events. It is how pending packets' data is found again (clearing).
func (c *Client) SearchTxEvents(ctx context.Context, query string, perPage int) ([]TxEvents, error) {
	var res *coretypes.ResultTxSearch
	page := 1
	err := c.rpc.do(ctx, "tx_search", func(cl *rpchttp.HTTP) (err error) {
		res, err = cl.TxSearch(ctx, query, false, &page, &perPage, "asc")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]TxEvents, 0, len(res.Txs))
	for _, tx := range res.Txs {
		if tx.TxResult.Code != 0 {
			continue
		}
		out = append(out, TxEvents{Height: tx.Height, Events: tx.TxResult.Events})
	}
	return out, nil
}

// TxEvents are a committed tx's events.
type TxEvents struct {
	Height int64
	Events []abci.Event
}
