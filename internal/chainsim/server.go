package chainsim

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/bytes"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	rpcserver "github.com/cometbft/cometbft/rpc/jsonrpc/server"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/cometbft/cometbft/types"
	"google.golang.org/protobuf/encoding/protowire"
)

// getTxsEvent is the tx service's search method, which the relayer's Cosmos client calls through
// abci_query (without a gRPC address) to read a block's tx events.
const getTxsEvent = "/cosmos.tx.v1beta1.Service/GetTxsEvent"

// routes are the CometBFT RPC routes the chain answers, with CometBFT's argument names.
func (c *Chain) routes() map[string]*rpcserver.RPCFunc {
	return map[string]*rpcserver.RPCFunc{
		"status":        rpcserver.NewRPCFunc(c.status, ""),
		"commit":        rpcserver.NewRPCFunc(c.commit, "height", rpcserver.Cacheable("height")),
		"validators":    rpcserver.NewRPCFunc(c.validators, "height,page,per_page", rpcserver.Cacheable("height")),
		"blockchain":    rpcserver.NewRPCFunc(c.blockchain, "minHeight,maxHeight", rpcserver.Cacheable()),
		"block_results": rpcserver.NewRPCFunc(c.blockResults, "height", rpcserver.Cacheable("height")),
		"abci_query":    rpcserver.NewRPCFunc(c.abciQuery, "path,data,height,prove"),
	}
}

// serve answers the chain's RPC on ln (CometBFT's JSON-RPC server: POSTed JSON-RPC and URI GETs)
// until ln is closed.
func (c *Chain) serve(ln net.Listener) error {
	mux := http.NewServeMux()
	rpcserver.RegisterRPCFuncs(mux, c.routes(), cmtlog.NewNopLogger())
	cfg := rpcserver.DefaultConfig()
	err := rpcserver.Serve(ln, mux, cmtlog.NewNopLogger(), cfg)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (c *Chain) status(*rpctypes.Context) (*ctypes.ResultStatus, error) {
	c.reqs.add("status")
	b, err := c.at(0)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	lowest := c.lowest
	c.mu.RUnlock()
	h := b.lb.Header
	return &ctypes.ResultStatus{
		NodeInfo: p2p.DefaultNodeInfo{Network: c.o.ChainID, Moniker: "chainsim", Version: "chainsim",
			Other: p2p.DefaultNodeInfoOther{TxIndex: "on"}},
		SyncInfo: ctypes.SyncInfo{LatestBlockHash: h.Hash(), LatestAppHash: h.AppHash, LatestBlockHeight: h.Height,
			LatestBlockTime: h.Time, EarliestBlockHeight: lowest},
	}, nil
}

func (c *Chain) commit(_ *rpctypes.Context, height *int64) (*ctypes.ResultCommit, error) {
	c.reqs.add("commit")
	b, err := c.at(heightOf(height))
	if err != nil {
		return nil, err
	}
	return ctypes.NewResultCommit(b.lb.Header, b.lb.Commit, true), nil
}

func (c *Chain) validators(_ *rpctypes.Context, height *int64, page, perPage *int) (*ctypes.ResultValidators, error) {
	c.reqs.add("validators")
	b, err := c.at(heightOf(height))
	if err != nil {
		return nil, err
	}
	vals := b.lb.ValidatorSet.Validators
	per := 30
	if perPage != nil {
		per = min(max(*perPage, 1), 100)
	}
	p := 1
	if page != nil {
		pages := max((len(vals)-1)/per+1, 1)
		if *page <= 0 || *page > pages {
			return nil, fmt.Errorf("page should be within [1, %d] range, given %d", pages, *page)
		}
		p = *page
	}
	skip := (p - 1) * per
	out := make([]*types.Validator, 0, per)
	for _, v := range vals[skip:min(skip+per, len(vals))] {
		out = append(out, v.Copy())
	}
	return &ctypes.ResultValidators{BlockHeight: b.lb.Height, Validators: out, Count: len(out), Total: len(vals)}, nil
}

func (c *Chain) blockchain(_ *rpctypes.Context, minHeight, maxHeight int64) (*ctypes.ResultBlockchainInfo, error) {
	c.reqs.add("blockchain")
	c.mu.RLock()
	head, lowest := c.head, c.lowest
	c.mu.RUnlock()
	if minHeight < 0 || maxHeight < 0 {
		return nil, errors.New("heights must be non-negative")
	}
	if maxHeight == 0 || maxHeight > head {
		maxHeight = head
	}
	if minHeight == 0 || minHeight < lowest {
		minHeight = max(lowest, maxHeight-19)
	}
	minHeight = max(minHeight, maxHeight-19)
	if minHeight > maxHeight {
		return nil, fmt.Errorf("min height %d can't be greater than max height %d", minHeight, maxHeight)
	}
	res := &ctypes.ResultBlockchainInfo{LastHeight: head}
	for h := maxHeight; h >= minHeight; h-- {
		b, err := c.at(h)
		if err != nil {
			return nil, err
		}
		res.BlockMetas = append(res.BlockMetas, b.meta)
	}
	return res, nil
}

func (c *Chain) blockResults(_ *rpctypes.Context, height *int64) (*ctypes.ResultBlockResults, error) {
	c.reqs.add("block_results")
	b, err := c.at(heightOf(height))
	if err != nil {
		return nil, err
	}
	return &ctypes.ResultBlockResults{Height: b.lb.Height, TxsResults: b.txs, AppHash: b.lb.AppHash}, nil
}

// abciQuery answers the tx service's GetTxsEvent for a "tx.height=H" query (the only query the
// simulation's relayer makes); any other path is unknown, as on a node whose app has no such route.
func (c *Chain) abciQuery(_ *rpctypes.Context, path string, data bytes.HexBytes, _ int64, _ bool) (*ctypes.ResultABCIQuery, error) {
	c.reqs.add("abci_query")
	if path != getTxsEvent {
		return &ctypes.ResultABCIQuery{Response: abci.ResponseQuery{Code: 6, Codespace: "sdk", Log: "unknown query path " + path}}, nil
	}
	h, page, err := txsEventQuery(data)
	if err != nil {
		return &ctypes.ResultABCIQuery{Response: abci.ResponseQuery{Code: 2, Codespace: "sdk", Log: err.Error()}}, nil
	}
	b, err := c.at(h)
	if err != nil {
		return &ctypes.ResultABCIQuery{Response: abci.ResponseQuery{Code: 2, Codespace: "sdk", Log: err.Error()}}, nil
	}
	var resp []byte
	if page <= 1 {
		for _, r := range b.txs {
			resp = protowire.AppendTag(resp, 2, protowire.BytesType)
			resp = protowire.AppendBytes(resp, txResponse(h, r))
		}
	}
	resp = protowire.AppendTag(resp, 4, protowire.VarintType)
	resp = protowire.AppendVarint(resp, uint64(len(b.txs)))
	return &ctypes.ResultABCIQuery{Response: abci.ResponseQuery{Code: 0, Value: resp, Height: b.lb.Height}}, nil
}

// txsEventQuery reads the height of a GetTxsEventRequest's query "tx.height=H" (field 6) and its page
// (field 4).
func txsEventQuery(bz []byte) (h int64, page uint64, err error) {
	var query string
	for len(bz) > 0 {
		num, typ, n := protowire.ConsumeTag(bz)
		if n < 0 {
			return 0, 0, protowire.ParseError(n)
		}
		bz = bz[n:]
		switch {
		case num == 6 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(bz)
			if m < 0 {
				return 0, 0, protowire.ParseError(m)
			}
			query, n = string(v), m
		case num == 4 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(bz)
			if m < 0 {
				return 0, 0, protowire.ParseError(m)
			}
			page, n = v, m
		default:
			n = protowire.ConsumeFieldValue(num, typ, bz)
			if n < 0 {
				return 0, 0, protowire.ParseError(n)
			}
		}
		bz = bz[n:]
	}
	v, ok := strings.CutPrefix(query, "tx.height=")
	if !ok {
		return 0, 0, fmt.Errorf("query %q: only tx.height=H is served", query)
	}
	if h, err = strconv.ParseInt(v, 10, 64); err != nil || h <= 0 {
		return 0, 0, fmt.Errorf("query %q: bad height", query)
	}
	return h, page, nil
}

// txResponse is a cosmos.base.abci.v1beta1.TxResponse with the fields the relayer reads: height (1),
// code (4) and events (13).
func txResponse(h int64, r *abci.ExecTxResult) []byte {
	var out []byte
	out = protowire.AppendTag(out, 1, protowire.VarintType)
	out = protowire.AppendVarint(out, uint64(h))
	if r.Code != 0 {
		out = protowire.AppendTag(out, 4, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(r.Code))
	}
	for _, ev := range r.Events {
		bz, err := ev.Marshal()
		if err != nil {
			continue // a plain event always marshals
		}
		out = protowire.AppendTag(out, 13, protowire.BytesType)
		out = protowire.AppendBytes(out, bz)
	}
	return out
}

func heightOf(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
