package cosmos

import (
	"context"
	"errors"
	"fmt"

	abci "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
)

// BlockEvents returns the events of every successful tx of block h (pull mode: the primary event
// source; nothing here is trusted until proven). It reads them through the tx gRPC service
// (protobuf inside abci_query, over the node's tx index), and falls back to the RPC's
// block_results (JSON, several times costlier to decode) on a node without a tx index.
func (c *Client) BlockEvents(ctx context.Context, h int64) ([]abci.Event, error) {
	events, err := c.indexedBlockEvents(ctx, h)
	var qErr *QueryError
	if errors.As(err, &qErr) {
		return c.blockResultEvents(ctx, h)
	}
	return events, err
}

// indexedBlockEvents pages through GetTxsEvent("tx.height=h").
func (c *Client) indexedBlockEvents(ctx context.Context, h int64) ([]abci.Event, error) {
	var events []abci.Event
	for page := uint64(1); ; page++ {
		var resp txtypes.GetTxsEventResponse
		req := &txtypes.GetTxsEventRequest{Query: fmt.Sprintf("tx.height=%d", h), Page: page, Limit: 100, OrderBy: txtypes.OrderBy_ORDER_BY_ASC}
		if err := c.QueryGRPC(ctx, "/cosmos.tx.v1beta1.Service/GetTxsEvent", req, &resp, 0); err != nil {
			return nil, err
		}
		for _, tx := range resp.TxResponses {
			if tx.Code == 0 {
				events = append(events, tx.Events...)
			}
		}
		if uint64(len(resp.TxResponses)) < 100 || page*100 >= resp.Total {
			return events, nil
		}
	}
}

func (c *Client) blockResultEvents(ctx context.Context, h int64) ([]abci.Event, error) {
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
