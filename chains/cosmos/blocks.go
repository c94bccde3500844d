package cosmos

import (
	"context"
	"errors"
	"fmt"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"

	"github.com/cityrelay/cityrelay/chains"
)

// BlockEvents returns the events of every successful tx of block h, only those of the given types if
// any are given (pull mode: the primary event source; nothing here is trusted until proven). It reads
// them through the tx gRPC service (protobuf inside abci_query, over the node's tx index), and falls
// back to the RPC's block_results (JSON, several times costlier to decode) on a node without a tx index.
func (c *Client) BlockEvents(ctx context.Context, h int64, types ...string) ([]chains.Event, error) {
	events, err := c.abciBlockEvents(ctx, h, types...)
	return neutralEvents(events), err
}

func (c *Client) abciBlockEvents(ctx context.Context, h int64, types ...string) ([]abci.Event, error) {
	var only map[string]bool
	if len(types) > 0 {
		only = make(map[string]bool, len(types))
		for _, t := range types {
			only[t] = true
		}
	}
	events, err := c.indexedBlockEvents(ctx, h, only)
	var qErr *QueryError
	if err == nil {
		c.txIndexed.Store(true)
	}
	if errors.As(err, &qErr) {
		c.txIndexed.Store(false)
		events, err = c.blockResultEvents(ctx, h)
		if err != nil || only == nil {
			return events, err
		}
		kept := events[:0]
		for _, ev := range events {
			if only[ev.Type] {
				kept = append(kept, ev)
			}
		}
		return kept, nil
	}
	return events, err
}

// EventsFromTxsOnly reports whether BlockEvents reads, as it did last, the events of a block's txs
// alone (from the node's tx index): a block without txs then has none, and a scanner holding its
// verified header need not ask. Through block_results (a node without a tx index) the block's own
// FinalizeBlock events count too.
func (c *Client) EventsFromTxsOnly() bool { return c.txIndexed.Load() }

// indexedBlockEvents pages through GetTxsEvent("tx.height=h"). CometBFT indexes a block's txs
// after committing it, in the background: under load the index can lag the headers by a block or
// more, and a search that ran too early would silently miss txs. So the txs found are counted against
// the block's own count (its block meta) and the search is repeated until the index has them all.
func (c *Client) indexedBlockEvents(ctx context.Context, h int64, only map[string]bool) ([]abci.Event, error) {
	want, err := c.blockTxCount(ctx, h)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(indexWait)
	for {
		events, total, err := c.searchBlockEvents(ctx, h, only)
		if err != nil {
			return nil, err
		}
		if total >= want {
			return events, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s block %d: %d of its %d txs indexed after %s: %w", c.cfg.ChainID, h, total, want, indexWait, ErrNotIndexed)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// indexWait bounds the wait for the node's tx index to reach a block.
const indexWait = 30 * time.Second

func (c *Client) searchBlockEvents(ctx context.Context, h int64, only map[string]bool) (events []abci.Event, total int, err error) {
	for page := uint64(1); ; page++ {
		resp := leanTxsEventResponse{only: only} // the results without the txs' bodies
		req := &txtypes.GetTxsEventRequest{Query: fmt.Sprintf("tx.height=%d", h), Page: page, Limit: 100, OrderBy: txtypes.OrderBy_ORDER_BY_ASC}
		if err := c.QueryGRPC(ctx, "/cosmos.tx.v1beta1.Service/GetTxsEvent", req, &resp, 0); err != nil {
			return nil, 0, err
		}
		for _, tx := range resp.Results {
			total++
			if tx.Code == 0 {
				events = append(events, tx.Events...)
			}
		}
		if uint64(len(resp.Results)) < 100 || page*100 >= resp.Total {
			return events, total, nil
		}
	}
}

// blockTxCount is the number of txs in block h, from its block meta (small: no txs, no results).
func (c *Client) blockTxCount(ctx context.Context, h int64) (int, error) {
	var res *coretypes.ResultBlockchainInfo
	err := c.rpc.do(ctx, "blockchain", func(cl *rpchttp.HTTP) (err error) {
		res, err = cl.BlockchainInfo(ctx, h, h)
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, m := range res.BlockMetas {
		if m.Header.Height == h {
			return m.NumTxs, nil
		}
	}
	return 0, fmt.Errorf("%s: no block meta for height %d", c.cfg.ChainID, h)
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
func (c *Client) SearchTxEvents(ctx context.Context, query string, perPage int) ([]chains.TxEvents, error) {
	var res *coretypes.ResultTxSearch
	page := 1
	err := c.rpc.do(ctx, "tx_search", func(cl *rpchttp.HTTP) (err error) {
		res, err = cl.TxSearch(ctx, query, false, &page, &perPage, "asc")
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]chains.TxEvents, 0, len(res.Txs))
	for _, tx := range res.Txs {
		if tx.TxResult.Code != 0 {
			continue
		}
		out = append(out, chains.TxEvents{Height: tx.Height, Events: neutralEvents(tx.TxResult.Events)})
	}
	return out, nil
}

// TxEvents are a committed tx's events (chains.TxEvents).
type TxEvents = chains.TxEvents

// neutralEvents converts ABCI events to the chains roles' events (nil for none).
func neutralEvents(events []abci.Event) []chains.Event {
	if len(events) == 0 {
		return nil
	}
	out := make([]chains.Event, len(events))
	for i, ev := range events {
		attrs := make([]chains.Attribute, len(ev.Attributes))
		for j, a := range ev.Attributes {
			attrs[j] = chains.Attribute{Key: a.Key, Value: a.Value}
		}
		out[i] = chains.Event{Type: ev.Type, Attributes: attrs}
	}
	return out
}
