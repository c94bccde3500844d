package evmdevnet

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/gasestimator"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/holiman/uint256"
)

// Limits of the RPC server.
const (
	maxLogRange   = 10_000 // blocks one eth_getLogs may scan
	maxProofKeys  = 1024   // storage keys one eth_getProof may ask for
	maxTopics     = 4      // topic positions of a log filter
	callTimeout   = 5 * time.Second
	estimateRatio = 0.015 // eth_estimateGas's allowed overestimation (go-ethereum's default)
)

// errBlockNotFound is go-ethereum's message for an unknown block.
var errBlockNotFound = errors.New("header not found")

// headerByNumber resolves a block number or tag to a header; nil for a block not (yet) on the
// chain. The chain has instant finality, so safe, finalized and pending are the head.
func (c *Chain) headerByNumber(n rpc.BlockNumber) (*types.Header, error) {
	switch n {
	case rpc.LatestBlockNumber, rpc.PendingBlockNumber, rpc.SafeBlockNumber, rpc.FinalizedBlockNumber:
		return c.bc.CurrentBlock(), nil
	case rpc.EarliestBlockNumber:
		return c.bc.GetHeaderByNumber(0), nil
	}
	if n < 0 {
		return nil, fmt.Errorf("invalid block number %d", n)
	}
	return c.bc.GetHeaderByNumber(uint64(n)), nil
}

// resolveHeader resolves an optional block number or hash (nil = latest) to a header of the chain.
func (c *Chain) resolveHeader(bnh *rpc.BlockNumberOrHash) (*types.Header, error) {
	if bnh == nil {
		return c.bc.CurrentBlock(), nil
	}
	if hash, ok := bnh.Hash(); ok {
		h := c.bc.GetHeaderByHash(hash)
		if h == nil {
			return nil, fmt.Errorf("%w: block %s", errBlockNotFound, hash)
		}
		if bnh.RequireCanonical && c.bc.GetCanonicalHash(h.Number.Uint64()) != hash {
			return nil, fmt.Errorf("block %s is not canonical", hash)
		}
		return h, nil
	}
	if n, ok := bnh.Number(); ok {
		h, err := c.headerByNumber(n)
		if err != nil {
			return nil, err
		}
		if h == nil {
			return nil, fmt.Errorf("%w: block %s, height %d", errBlockNotFound, n, c.Height())
		}
		return h, nil
	}
	return nil, errors.New("block number or hash required")
}

// stateAt opens the state after block h.
func (c *Chain) stateAt(h *types.Header) (*state.StateDB, error) {
	st, err := c.bc.StateAt(h.Root, h.Number, h.Time)
	if err != nil {
		return nil, fmt.Errorf("state of block %d: %w", h.Number, err)
	}
	return st, nil
}

// isPending reports whether bnh asks for the pending block.
func isPending(bnh *rpc.BlockNumberOrHash) bool {
	if bnh == nil {
		return false
	}
	n, ok := bnh.Number()
	return ok && n == rpc.PendingBlockNumber
}

// callArgs are eth_call's and eth_estimateGas's transaction arguments.
type callArgs struct {
	From                 *common.Address   `json:"from"`
	To                   *common.Address   `json:"to"`
	Gas                  *hexutil.Uint64   `json:"gas"`
	GasPrice             *hexutil.Big      `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big      `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big      `json:"maxPriorityFeePerGas"`
	Value                *hexutil.Big      `json:"value"`
	Nonce                *hexutil.Uint64   `json:"nonce"`
	Data                 *hexutil.Bytes    `json:"data"`
	Input                *hexutil.Bytes    `json:"input"`
	AccessList           *types.AccessList `json:"accessList"`
}

func toU256(name string, b *big.Int) (*uint256.Int, error) {
	if b == nil {
		return new(uint256.Int), nil
	}
	v, overflow := uint256.FromBig(b)
	if overflow || b.Sign() < 0 {
		return nil, fmt.Errorf("%s %s out of range", name, b)
	}
	return v, nil
}

// message turns the arguments into a message executed on header's state, its gas capped at gasCap
// (the default when unset).
func (a *callArgs) message(header *types.Header, gasCap uint64) (*core.Message, error) {
	var data []byte
	switch {
	case a.Input != nil && a.Data != nil && !bytesEqual(*a.Input, *a.Data):
		return nil, errors.New("both \"data\" and \"input\" are set and not equal")
	case a.Input != nil:
		data = *a.Input
	case a.Data != nil:
		data = *a.Data
	}
	if a.GasPrice != nil && (a.MaxFeePerGas != nil || a.MaxPriorityFeePerGas != nil) {
		return nil, errors.New("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
	}
	gas := gasCap
	if a.Gas != nil && uint64(*a.Gas) != 0 {
		gas = min(uint64(*a.Gas), gasCap)
	}
	gasPrice, feeCap, tip := new(big.Int), new(big.Int), new(big.Int)
	switch {
	case a.GasPrice != nil:
		gasPrice, feeCap, tip = a.GasPrice.ToInt(), a.GasPrice.ToInt(), a.GasPrice.ToInt()
	case a.MaxFeePerGas != nil || a.MaxPriorityFeePerGas != nil:
		if a.MaxFeePerGas != nil {
			feeCap = a.MaxFeePerGas.ToInt()
		}
		if a.MaxPriorityFeePerGas != nil {
			tip = a.MaxPriorityFeePerGas.ToInt()
		}
		if feeCap.Cmp(tip) < 0 {
			return nil, fmt.Errorf("%w: maxFeePerGas %s, maxPriorityFeePerGas %s", core.ErrTipAboveFeeCap, feeCap, tip)
		}
		gasPrice = new(big.Int).Set(feeCap)
		if header.BaseFee != nil && feeCap.Sign() > 0 {
			gasPrice = bigMin(new(big.Int).Add(tip, header.BaseFee), feeCap)
		}
	}
	msg := &core.Message{To: a.To, GasLimit: gas, Data: data}
	if a.From != nil {
		msg.From = *a.From
	}
	if a.Nonce != nil {
		msg.Nonce = uint64(*a.Nonce)
	}
	if a.AccessList != nil {
		msg.AccessList = *a.AccessList
	}
	var err error
	if msg.GasPrice, err = toU256("gasPrice", gasPrice); err != nil {
		return nil, err
	}
	if msg.GasFeeCap, err = toU256("maxFeePerGas", feeCap); err != nil {
		return nil, err
	}
	if msg.GasTipCap, err = toU256("maxPriorityFeePerGas", tip); err != nil {
		return nil, err
	}
	if msg.Value, err = toU256("value", a.Value.ToInt()); err != nil {
		return nil, err
	}
	return msg.SkipNonceCheck().SkipEOACheck(), nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func bigMin(a, b *big.Int) *big.Int {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// revertError is a call that reverted, with the revert data as go-ethereum reports it (code 3).
type revertError struct {
	msg  string
	data string
}

func newRevertError(ret []byte) *revertError {
	msg := "execution reverted"
	if reason, err := abi.UnpackRevert(ret); err == nil {
		msg += ": " + reason
	}
	return &revertError{msg: msg, data: hexutil.Encode(ret)}
}

func (e *revertError) Error() string  { return e.msg }
func (e *revertError) ErrorCode() int { return 3 }
func (e *revertError) ErrorData() any { return e.data }

// call executes a read-only call on the state after the given block (nil = latest).
func (c *Chain) call(args callArgs, bnh *rpc.BlockNumberOrHash) ([]byte, error) {
	header, err := c.resolveHeader(bnh)
	if err != nil {
		return nil, err
	}
	st, err := c.stateAt(header)
	if err != nil {
		return nil, err
	}
	msg, err := args.message(header, header.GasLimit)
	if err != nil {
		return nil, err
	}
	blockCtx := core.NewEVMBlockContext(header, c.bc, nil)
	if msg.GasPrice.IsZero() {
		blockCtx.BaseFee = new(big.Int)
	}
	evm := vm.NewEVM(blockCtx, st, c.config, vm.Config{NoBaseFee: true})
	defer evm.Release()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	go func() {
		<-ctx.Done()
		evm.Cancel()
	}()
	res, err := core.ApplyMessage(evm, msg, core.NewGasPool(math.MaxUint64))
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("execution aborted (timeout = %s)", callTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (supplied gas %d)", err, msg.GasLimit)
	}
	if errors.Is(res.Err, vm.ErrExecutionReverted) {
		return nil, newRevertError(res.Revert())
	}
	if res.Err != nil {
		return nil, fmt.Errorf("execution failed: %w", res.Err)
	}
	return res.Return(), nil
}

// estimateGas binary-searches the gas a transaction needs on the state after the given block.
func (c *Chain) estimateGas(args callArgs, bnh *rpc.BlockNumberOrHash) (uint64, error) {
	header, err := c.resolveHeader(bnh)
	if err != nil {
		return 0, err
	}
	st, err := c.stateAt(header)
	if err != nil {
		return 0, err
	}
	msg, err := args.message(header, header.GasLimit)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	opts := &gasestimator.Options{Config: c.config, Chain: c.bc, Header: header, State: st, ErrorRatio: estimateRatio}
	gas, ret, err := gasestimator.Estimate(ctx, msg, opts, header.GasLimit)
	if err != nil {
		if len(ret) > 0 || errors.Is(err, vm.ErrExecutionReverted) {
			return 0, newRevertError(ret)
		}
		return 0, err
	}
	return gas, nil
}

// marshalHeader is a header in go-ethereum's JSON-RPC shape; "hash" is go-ethereum's (seals included).
func marshalHeader(h *types.Header) map[string]any {
	fields := map[string]any{
		"number":           (*hexutil.Big)(h.Number),
		"hash":             h.Hash(),
		"parentHash":       h.ParentHash,
		"nonce":            h.Nonce,
		"mixHash":          h.MixDigest,
		"sha3Uncles":       h.UncleHash,
		"logsBloom":        h.Bloom,
		"stateRoot":        h.Root,
		"miner":            h.Coinbase,
		"difficulty":       (*hexutil.Big)(h.Difficulty),
		"extraData":        hexutil.Bytes(h.Extra),
		"gasLimit":         hexutil.Uint64(h.GasLimit),
		"gasUsed":          hexutil.Uint64(h.GasUsed),
		"timestamp":        hexutil.Uint64(h.Time),
		"transactionsRoot": h.TxHash,
		"receiptsRoot":     h.ReceiptHash,
	}
	if h.BaseFee != nil {
		fields["baseFeePerGas"] = (*hexutil.Big)(h.BaseFee)
	}
	return fields
}

// effectiveGasPrice is what tx pays per gas in a block of baseFee.
func effectiveGasPrice(tx *types.Transaction, baseFee *big.Int) *big.Int {
	if baseFee == nil || tx.Type() == types.LegacyTxType || tx.Type() == types.AccessListTxType {
		return tx.GasPrice()
	}
	return bigMin(new(big.Int).Add(tx.GasTipCap(), baseFee), tx.GasFeeCap())
}

// marshalTx is a mined transaction in go-ethereum's JSON-RPC shape.
func (c *Chain) marshalTx(tx *types.Transaction, blockHash common.Hash, number, index uint64, baseFee *big.Int) (map[string]any, error) {
	bz, err := tx.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode transaction %s: %w", tx.Hash(), err)
	}
	var fields map[string]any
	if err := json.Unmarshal(bz, &fields); err != nil {
		return nil, fmt.Errorf("encode transaction %s: %w", tx.Hash(), err)
	}
	from, err := types.Sender(c.signer, tx)
	if err != nil {
		return nil, fmt.Errorf("sender of %s: %w", tx.Hash(), err)
	}
	fields["from"] = from
	fields["blockHash"] = blockHash
	fields["blockNumber"] = (*hexutil.Big)(new(big.Int).SetUint64(number))
	fields["transactionIndex"] = hexutil.Uint64(index)
	fields["gasPrice"] = (*hexutil.Big)(effectiveGasPrice(tx, baseFee))
	return fields, nil
}

// marshalBlock is a block in go-ethereum's JSON-RPC shape, with transaction hashes or (full) objects.
func (c *Chain) marshalBlock(b *types.Block, full bool) (map[string]any, error) {
	fields := marshalHeader(b.Header())
	fields["size"] = hexutil.Uint64(b.Size())
	fields["uncles"] = []common.Hash{}
	txs := b.Transactions()
	if !full {
		hashes := make([]common.Hash, len(txs))
		for i, tx := range txs {
			hashes[i] = tx.Hash()
		}
		fields["transactions"] = hashes
		return fields, nil
	}
	objs := make([]map[string]any, len(txs))
	for i, tx := range txs {
		o, err := c.marshalTx(tx, b.Hash(), b.NumberU64(), uint64(i), b.BaseFee())
		if err != nil {
			return nil, err
		}
		objs[i] = o
	}
	fields["transactions"] = objs
	return fields, nil
}

// ethAPI is the eth namespace.
type ethAPI struct{ c *Chain }

// ChainId is eth_chainId.
func (api *ethAPI) ChainId() hexutil.Uint64 { return hexutil.Uint64(api.c.cfg.ChainID) }

// BlockNumber is eth_blockNumber.
func (api *ethAPI) BlockNumber() hexutil.Uint64 { return hexutil.Uint64(api.c.Height()) }

// Syncing is eth_syncing: never.
func (api *ethAPI) Syncing() bool { return false }

// GasPrice is eth_gasPrice: the next base fee plus the suggested tip.
func (api *ethAPI) GasPrice() *hexutil.Big {
	return (*hexutil.Big)(new(big.Int).Add(api.c.nextBaseFee(), SuggestedTip))
}

// MaxPriorityFeePerGas is eth_maxPriorityFeePerGas.
func (api *ethAPI) MaxPriorityFeePerGas() *hexutil.Big {
	return (*hexutil.Big)(new(big.Int).Set(SuggestedTip))
}

// GetBalance is eth_getBalance.
func (api *ethAPI) GetBalance(addr common.Address, bnh *rpc.BlockNumberOrHash) (*hexutil.Big, error) {
	h, err := api.c.resolveHeader(bnh)
	if err != nil {
		return nil, err
	}
	st, err := api.c.stateAt(h)
	if err != nil {
		return nil, err
	}
	return (*hexutil.Big)(st.GetBalance(addr).ToBig()), nil
}

// GetTransactionCount is eth_getTransactionCount; "pending" counts the transactions waiting for a
// block.
func (api *ethAPI) GetTransactionCount(addr common.Address, bnh *rpc.BlockNumberOrHash) (*hexutil.Uint64, error) {
	if isPending(bnh) {
		n, err := api.c.pendingNonce(addr)
		if err != nil {
			return nil, err
		}
		return (*hexutil.Uint64)(&n), nil
	}
	h, err := api.c.resolveHeader(bnh)
	if err != nil {
		return nil, err
	}
	st, err := api.c.stateAt(h)
	if err != nil {
		return nil, err
	}
	n := st.GetNonce(addr)
	return (*hexutil.Uint64)(&n), nil
}

// GetCode is eth_getCode.
func (api *ethAPI) GetCode(addr common.Address, bnh *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	h, err := api.c.resolveHeader(bnh)
	if err != nil {
		return nil, err
	}
	st, err := api.c.stateAt(h)
	if err != nil {
		return nil, err
	}
	return st.GetCode(addr), nil
}

// decodeStorageKey decodes a storage slot given as hex of at most 32 bytes (left-padded).
func decodeStorageKey(s string) (common.Hash, error) {
	hx := s
	if strings.HasPrefix(hx, "0x") || strings.HasPrefix(hx, "0X") {
		hx = hx[2:]
	}
	if len(hx) > 2*common.HashLength {
		return common.Hash{}, fmt.Errorf("storage key %.80q longer than 32 bytes", s)
	}
	if len(hx)%2 == 1 {
		hx = "0" + hx
	}
	b, err := hex.DecodeString(hx)
	if err != nil {
		return common.Hash{}, fmt.Errorf("storage key %q: %w", s, err)
	}
	return common.BytesToHash(b), nil
}

// GetStorageAt is eth_getStorageAt.
func (api *ethAPI) GetStorageAt(addr common.Address, key string, bnh *rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	slot, err := decodeStorageKey(key)
	if err != nil {
		return nil, err
	}
	h, err := api.c.resolveHeader(bnh)
	if err != nil {
		return nil, err
	}
	st, err := api.c.stateAt(h)
	if err != nil {
		return nil, err
	}
	v := st.GetState(addr, slot)
	return v[:], nil
}

// GetBlockByNumber is eth_getBlockByNumber; null for a block not on the chain.
func (api *ethAPI) GetBlockByNumber(number rpc.BlockNumber, full bool) (map[string]any, error) {
	h, err := api.c.headerByNumber(number)
	if err != nil || h == nil {
		return nil, err
	}
	b := api.c.bc.GetBlock(h.Hash(), h.Number.Uint64())
	if b == nil {
		return nil, nil
	}
	return api.c.marshalBlock(b, full)
}

// GetBlockByHash is eth_getBlockByHash; null for an unknown block.
func (api *ethAPI) GetBlockByHash(hash common.Hash, full bool) (map[string]any, error) {
	b := api.c.bc.GetBlockByHash(hash)
	if b == nil {
		return nil, nil
	}
	return api.c.marshalBlock(b, full)
}

// GetHeaderByNumber is eth_getHeaderByNumber; null for a block not on the chain.
func (api *ethAPI) GetHeaderByNumber(number rpc.BlockNumber) (map[string]any, error) {
	h, err := api.c.headerByNumber(number)
	if err != nil || h == nil {
		return nil, err
	}
	return marshalHeader(h), nil
}

// GetHeaderByHash is eth_getHeaderByHash; null for an unknown block.
func (api *ethAPI) GetHeaderByHash(hash common.Hash) map[string]any {
	h := api.c.bc.GetHeaderByHash(hash)
	if h == nil {
		return nil
	}
	return marshalHeader(h)
}

// GetTransactionByHash is eth_getTransactionByHash for mined transactions; null otherwise.
func (api *ethAPI) GetTransactionByHash(hash common.Hash) (map[string]any, error) {
	lookup, tx := api.c.bc.GetCanonicalTransaction(hash)
	if lookup == nil {
		return nil, nil
	}
	h := api.c.bc.GetHeaderByHash(lookup.BlockHash)
	if h == nil {
		return nil, fmt.Errorf("%w: block %s of transaction %s", errBlockNotFound, lookup.BlockHash, hash)
	}
	return api.c.marshalTx(tx, lookup.BlockHash, lookup.BlockIndex, lookup.Index, h.BaseFee)
}

// GetTransactionReceipt is eth_getTransactionReceipt; null for a transaction not mined.
func (api *ethAPI) GetTransactionReceipt(hash common.Hash) (map[string]any, error) {
	lookup, tx := api.c.bc.GetCanonicalTransaction(hash)
	if lookup == nil {
		return nil, nil
	}
	r, err := api.c.bc.GetCanonicalReceipt(tx, lookup.BlockHash, lookup.BlockIndex, lookup.Index)
	if err != nil {
		return nil, fmt.Errorf("receipt of %s: %w", hash, err)
	}
	from, err := types.Sender(api.c.signer, tx)
	if err != nil {
		return nil, fmt.Errorf("sender of %s: %w", hash, err)
	}
	fields := map[string]any{
		"blockHash":         lookup.BlockHash,
		"blockNumber":       hexutil.Uint64(lookup.BlockIndex),
		"transactionHash":   hash,
		"transactionIndex":  hexutil.Uint64(lookup.Index),
		"from":              from,
		"to":                tx.To(),
		"gasUsed":           hexutil.Uint64(r.GasUsed),
		"cumulativeGasUsed": hexutil.Uint64(r.CumulativeGasUsed),
		"contractAddress":   nil,
		"logs":              r.Logs,
		"logsBloom":         r.Bloom,
		"type":              hexutil.Uint(tx.Type()),
		"effectiveGasPrice": (*hexutil.Big)(r.EffectiveGasPrice),
	}
	if len(r.PostState) > 0 {
		fields["root"] = hexutil.Bytes(r.PostState)
	} else {
		fields["status"] = hexutil.Uint(r.Status)
	}
	if r.Logs == nil {
		fields["logs"] = []*types.Log{}
	}
	if r.ContractAddress != (common.Address{}) {
		fields["contractAddress"] = r.ContractAddress
	}
	return fields, nil
}

// SendRawTransaction is eth_sendRawTransaction: the transaction is validated and queued; without a
// block period it is mined before the call returns.
func (api *ethAPI) SendRawTransaction(input hexutil.Bytes) (common.Hash, error) {
	tx := new(types.Transaction)
	if err := tx.UnmarshalBinary(input); err != nil {
		return common.Hash{}, fmt.Errorf("decode transaction: %w", err)
	}
	if err := api.c.submit(tx); err != nil {
		return common.Hash{}, err
	}
	return tx.Hash(), nil
}

// Call is eth_call. State overrides are not supported.
func (api *ethAPI) Call(args callArgs, bnh *rpc.BlockNumberOrHash, overrides *json.RawMessage) (hexutil.Bytes, error) {
	if overrides != nil && string(*overrides) != "null" {
		return nil, errors.New("state overrides are not supported")
	}
	return api.c.call(args, bnh)
}

// EstimateGas is eth_estimateGas.
func (api *ethAPI) EstimateGas(args callArgs, bnh *rpc.BlockNumberOrHash) (hexutil.Uint64, error) {
	gas, err := api.c.estimateGas(args, bnh)
	return hexutil.Uint64(gas), err
}

// filterQuery is eth_getLogs's filter.
type filterQuery struct {
	BlockHash *common.Hash
	FromBlock *rpc.BlockNumber
	ToBlock   *rpc.BlockNumber
	Addresses []common.Address
	Topics    [][]common.Hash // per position, any of; empty = wildcard
}

// UnmarshalJSON accepts the filter go-ethereum accepts: address as one address or a list; topics
// as a list whose entries are null, one topic or a list of topics.
func (q *filterQuery) UnmarshalJSON(data []byte) error {
	var raw struct {
		BlockHash *common.Hash      `json:"blockHash"`
		FromBlock *rpc.BlockNumber  `json:"fromBlock"`
		ToBlock   *rpc.BlockNumber  `json:"toBlock"`
		Address   json.RawMessage   `json:"address"`
		Topics    []json.RawMessage `json:"topics"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("log filter: %w", err)
	}
	if raw.BlockHash != nil && (raw.FromBlock != nil || raw.ToBlock != nil) {
		return errors.New("log filter: blockHash with fromBlock or toBlock")
	}
	*q = filterQuery{BlockHash: raw.BlockHash, FromBlock: raw.FromBlock, ToBlock: raw.ToBlock}
	if len(raw.Address) > 0 && string(raw.Address) != "null" {
		var one common.Address
		if err := json.Unmarshal(raw.Address, &one); err == nil {
			q.Addresses = []common.Address{one}
		} else if err := json.Unmarshal(raw.Address, &q.Addresses); err != nil {
			return fmt.Errorf("log filter address: %w", err)
		}
	}
	if len(raw.Topics) > maxTopics {
		return fmt.Errorf("log filter: %d topic positions, at most %d", len(raw.Topics), maxTopics)
	}
	for i, t := range raw.Topics {
		var pos []common.Hash
		if len(t) > 0 && string(t) != "null" {
			var one common.Hash
			if err := json.Unmarshal(t, &one); err == nil {
				pos = []common.Hash{one}
			} else {
				var list []*common.Hash
				if err := json.Unmarshal(t, &list); err != nil {
					return fmt.Errorf("log filter topic %d: %w", i, err)
				}
				for _, h := range list {
					if h == nil { // a null alternative matches anything
						pos = nil
						break
					}
					pos = append(pos, *h)
				}
			}
		}
		q.Topics = append(q.Topics, pos)
	}
	return nil
}

// mayMatch reports whether a block of this bloom may hold a matching log.
func (q *filterQuery) mayMatch(bloom types.Bloom) bool {
	if len(q.Addresses) > 0 {
		found := false
		for _, a := range q.Addresses {
			if types.BloomLookup(bloom, a) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, pos := range q.Topics {
		if len(pos) == 0 {
			continue
		}
		found := false
		for _, t := range pos {
			if types.BloomLookup(bloom, t) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// matches reports whether the log matches the filter.
func (q *filterQuery) matches(l *types.Log) bool {
	if len(q.Addresses) > 0 {
		found := false
		for _, a := range q.Addresses {
			if l.Address == a {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if len(q.Topics) > len(l.Topics) {
		return false
	}
	for i, pos := range q.Topics {
		if len(pos) == 0 {
			continue
		}
		found := false
		for _, t := range pos {
			if l.Topics[i] == t {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// blockLogs appends the block's logs matching q.
func (c *Chain) blockLogs(out []*types.Log, h *types.Header, q *filterQuery) []*types.Log {
	if !q.mayMatch(h.Bloom) {
		return out
	}
	for _, r := range c.bc.GetReceiptsByHash(h.Hash()) {
		for _, l := range r.Logs {
			if q.matches(l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// GetLogs is eth_getLogs over a block hash or a range of at most maxLogRange blocks (the range's end
// is clamped to the head).
func (api *ethAPI) GetLogs(q filterQuery) ([]*types.Log, error) {
	c := api.c
	out := []*types.Log{}
	if q.BlockHash != nil {
		h := c.bc.GetHeaderByHash(*q.BlockHash)
		if h == nil {
			return nil, fmt.Errorf("unknown block %s", *q.BlockHash)
		}
		return c.blockLogs(out, h, &q), nil
	}
	head := c.Height()
	resolve := func(n *rpc.BlockNumber) (uint64, error) {
		switch {
		case n == nil || *n == rpc.LatestBlockNumber || *n == rpc.PendingBlockNumber ||
			*n == rpc.SafeBlockNumber || *n == rpc.FinalizedBlockNumber:
			return head, nil
		case *n == rpc.EarliestBlockNumber:
			return 0, nil
		case *n < 0:
			return 0, fmt.Errorf("invalid block number %d", *n)
		}
		return uint64(*n), nil
	}
	from, err := resolve(q.FromBlock)
	if err != nil {
		return nil, err
	}
	to, err := resolve(q.ToBlock)
	if err != nil {
		return nil, err
	}
	if from > to {
		return nil, fmt.Errorf("invalid block range: from %d after to %d", from, to)
	}
	if from > head {
		return out, nil
	}
	to = min(to, head)
	if to-from >= maxLogRange {
		return nil, fmt.Errorf("block range %d-%d longer than %d blocks", from, to, maxLogRange)
	}
	for n := from; n <= to; n++ {
		h := c.bc.GetHeaderByNumber(n)
		if h == nil {
			return nil, fmt.Errorf("%w: block %d", errBlockNotFound, n)
		}
		out = c.blockLogs(out, h, &q)
	}
	return out, nil
}

// proofList collects the trie nodes of a Merkle proof as hex strings, in path order.
type proofList []string

func (p *proofList) Put(_ []byte, value []byte) error {
	*p = append(*p, hexutil.Encode(value))
	return nil
}

func (p *proofList) Delete([]byte) error { return errors.New("proof list: delete not supported") }

// StorageResult is one storage slot's proof (EIP-1186): the slot as asked, its value, and the
// storage-trie nodes from the account's storage root to the slot, hex-encoded.
type StorageResult struct {
	Key   string       `json:"key"`
	Value *hexutil.Big `json:"value"`
	Proof []string     `json:"proof"`
}

// AccountResult is eth_getProof's answer (EIP-1186): the account's fields and the state-trie nodes
// from the block's state root to keccak256(address), hex-encoded.
type AccountResult struct {
	Address      common.Address  `json:"address"`
	AccountProof []string        `json:"accountProof"`
	Balance      *hexutil.Big    `json:"balance"`
	CodeHash     common.Hash     `json:"codeHash"`
	Nonce        hexutil.Uint64  `json:"nonce"`
	StorageHash  common.Hash     `json:"storageHash"`
	StorageProof []StorageResult `json:"storageProof"`
}

// Code returns the code of addr at block number (eth_getCode).
func (c *Chain) Code(addr common.Address, number uint64) ([]byte, error) {
	h, err := c.Header(number)
	if err != nil {
		return nil, err
	}
	st, err := c.stateAt(h)
	if err != nil {
		return nil, err
	}
	return st.GetCode(addr), nil
}

// Proof returns the EIP-1186 proof of an account and storage slots at block number: Merkle-Patricia
// proofs from the state trie, against the block's state root.
func (c *Chain) Proof(addr common.Address, slots []common.Hash, number uint64) (*AccountResult, error) {
	h, err := c.Header(number)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(slots))
	for i, s := range slots {
		keys[i] = s.Hex()
	}
	return c.proof(addr, keys, h)
}

func (c *Chain) proof(addr common.Address, keys []string, h *types.Header) (*AccountResult, error) {
	if len(keys) > maxProofKeys {
		return nil, fmt.Errorf("%d storage keys, at most %d", len(keys), maxProofKeys)
	}
	slots := make([]common.Hash, len(keys))
	for i, k := range keys {
		s, err := decodeStorageKey(k)
		if err != nil {
			return nil, err
		}
		slots[i] = s
	}
	tdb := c.bc.TrieDB()
	tr, err := trie.NewStateTrie(trie.StateTrieID(h.Root), tdb)
	if err != nil {
		return nil, fmt.Errorf("open state trie of block %d: %w", h.Number, err)
	}
	acc, err := tr.GetAccount(addr)
	if err != nil {
		return nil, fmt.Errorf("account %s at block %d: %w", addr, h.Number, err)
	}
	res := &AccountResult{
		Address:      addr,
		AccountProof: []string{},
		Balance:      new(hexutil.Big),
		CodeHash:     types.EmptyCodeHash,
		StorageHash:  types.EmptyRootHash,
		StorageProof: make([]StorageResult, len(keys)),
	}
	var proof proofList
	if err := tr.Prove(crypto.Keccak256(addr.Bytes()), &proof); err != nil {
		return nil, fmt.Errorf("prove account %s at block %d: %w", addr, h.Number, err)
	}
	res.AccountProof = proof
	if acc != nil {
		res.Balance = (*hexutil.Big)(acc.Balance.ToBig())
		res.CodeHash = common.BytesToHash(acc.CodeHash)
		res.Nonce = hexutil.Uint64(acc.Nonce)
		res.StorageHash = acc.Root
	}
	var st *trie.StateTrie
	if res.StorageHash != types.EmptyRootHash {
		id := trie.StorageTrieID(h.Root, crypto.Keccak256Hash(addr.Bytes()), res.StorageHash)
		if st, err = trie.NewStateTrie(id, tdb); err != nil {
			return nil, fmt.Errorf("open storage trie of %s at block %d: %w", addr, h.Number, err)
		}
	}
	for i, slot := range slots {
		r := StorageResult{Key: keys[i], Value: new(hexutil.Big), Proof: []string{}}
		if st != nil {
			enc, err := st.GetStorage(addr, slot.Bytes())
			if err != nil {
				return nil, fmt.Errorf("slot %s of %s at block %d: %w", slot, addr, h.Number, err)
			}
			r.Value = (*hexutil.Big)(new(big.Int).SetBytes(enc))
			var sp proofList
			if err := st.Prove(crypto.Keccak256(slot.Bytes()), &sp); err != nil {
				return nil, fmt.Errorf("prove slot %s of %s at block %d: %w", slot, addr, h.Number, err)
			}
			r.Proof = sp
		}
		res.StorageProof[i] = r
	}
	return res, nil
}

// GetProof is eth_getProof (EIP-1186) at the given block.
func (api *ethAPI) GetProof(addr common.Address, keys []string, bnh rpc.BlockNumberOrHash) (*AccountResult, error) {
	h, err := api.c.resolveHeader(&bnh)
	if err != nil {
		return nil, err
	}
	return api.c.proof(addr, keys, h)
}

// debugAPI is the debug namespace.
type debugAPI struct{ c *Chain }

// GetRawHeader is debug_getRawHeader: the RLP of the sealed header, seals inside extraData.
func (api *debugAPI) GetRawHeader(bnh rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	h, err := api.c.resolveHeader(&bnh)
	if err != nil {
		return nil, err
	}
	return encodeHeader(h)
}

// GetRawBlock is debug_getRawBlock: the RLP of the block.
func (api *debugAPI) GetRawBlock(bnh rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	h, err := api.c.resolveHeader(&bnh)
	if err != nil {
		return nil, err
	}
	b := api.c.bc.GetBlock(h.Hash(), h.Number.Uint64())
	if b == nil {
		return nil, fmt.Errorf("%w: block %d", errBlockNotFound, h.Number)
	}
	bz, err := rlp.EncodeToBytes(b)
	if err != nil {
		return nil, fmt.Errorf("encode block %d: %w", h.Number, err)
	}
	return bz, nil
}

// netAPI is the net namespace.
type netAPI struct{ c *Chain }

// Version is net_version: the chain id in decimal.
func (api *netAPI) Version() string { return fmt.Sprint(api.c.cfg.ChainID) }

// Listening is net_listening.
func (api *netAPI) Listening() bool { return true }

// PeerCount is net_peerCount: the devnet has no peers.
func (api *netAPI) PeerCount() hexutil.Uint { return 0 }

// web3API is the web3 namespace.
type web3API struct{}

// ClientVersion is web3_clientVersion.
func (web3API) ClientVersion() string { return "cityrelay-evmdevnet" }
