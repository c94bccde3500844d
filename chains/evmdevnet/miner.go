package evmdevnet

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/txpool"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/holiman/uint256"
)

// maxTxSize is the largest transaction accepted (go-ethereum's txpool limit).
const maxTxSize = 128 * 1024

// maxPending bounds the transactions waiting for a block.
const maxPending = 4096

// ErrPoolFull is returned when too many transactions wait for a block.
var ErrPoolFull = errors.New("evmdevnet: too many pending transactions")

func encodeHeader(h *types.Header) ([]byte, error) {
	bz, err := rlp.EncodeToBytes(h)
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	return bz, nil
}

// nextBaseFee is the base fee of the block after the head.
func (c *Chain) nextBaseFee() *big.Int {
	return eip1559.CalcBaseFee(c.config, c.bc.CurrentBlock())
}

// pendingNonceLocked is the sender's next nonce counting the transactions waiting for a block.
func (c *Chain) pendingNonceLocked(addr common.Address, stateNonce uint64) uint64 {
	n := stateNonce
	for advanced := true; advanced; {
		advanced = false
		for _, tx := range c.pending {
			from, err := types.Sender(c.signer, tx)
			if err == nil && from == addr && tx.Nonce() == n {
				n++
				advanced = true
			}
		}
	}
	return n
}

// pendingNonce is the sender's next nonce at the head plus the waiting transactions.
func (c *Chain) pendingNonce(addr common.Address) (uint64, error) {
	st, err := c.bc.State()
	if err != nil {
		return 0, fmt.Errorf("evmdevnet: head state: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pendingNonceLocked(addr, st.GetNonce(addr)), nil
}

// validateTx checks tx against the head state the way a txpool would before accepting it.
func (c *Chain) validateTx(tx *types.Transaction) (common.Address, error) {
	switch tx.Type() {
	case types.LegacyTxType, types.AccessListTxType, types.DynamicFeeTxType:
	default:
		return common.Address{}, fmt.Errorf("%w: type %d is not enabled under London", types.ErrTxTypeNotSupported, tx.Type())
	}
	if tx.Size() > maxTxSize {
		return common.Address{}, fmt.Errorf("%w: %d bytes, limit %d", txpool.ErrOversizedData, tx.Size(), maxTxSize)
	}
	if tx.Value().Sign() < 0 {
		return common.Address{}, txpool.ErrNegativeValue
	}
	if tx.GasFeeCap().BitLen() > 256 || tx.GasTipCap().BitLen() > 256 {
		return common.Address{}, core.ErrFeeCapVeryHigh
	}
	if tx.GasFeeCapIntCmp(tx.GasTipCap()) < 0 {
		return common.Address{}, core.ErrTipAboveFeeCap
	}
	from, err := types.Sender(c.signer, tx)
	if err != nil {
		return common.Address{}, fmt.Errorf("%w: %v", txpool.ErrInvalidSender, err)
	}
	head := c.bc.CurrentBlock()
	if tx.Gas() > head.GasLimit {
		return common.Address{}, fmt.Errorf("%w: gas %d, block gas limit %d", txpool.ErrGasLimit, tx.Gas(), head.GasLimit)
	}
	rules := c.config.Rules(head.Number, false, head.Time)
	value, _ := uint256.FromBig(tx.Value())
	intrinsic, err := core.IntrinsicGas(tx.Data(), tx.AccessList(), nil, from, tx.To(), value, rules)
	if err != nil {
		return common.Address{}, fmt.Errorf("intrinsic gas: %w", err)
	}
	if tx.Gas() < intrinsic {
		return common.Address{}, fmt.Errorf("%w: gas %d, needed %d", core.ErrIntrinsicGas, tx.Gas(), intrinsic)
	}
	if baseFee := c.nextBaseFee(); tx.GasFeeCapIntCmp(baseFee) < 0 {
		return common.Address{}, fmt.Errorf("%w: max fee %s, base fee %s", core.ErrFeeCapTooLow, tx.GasFeeCap(), baseFee)
	}
	st, err := c.bc.State()
	if err != nil {
		return common.Address{}, fmt.Errorf("head state: %w", err)
	}
	if n := st.GetNonce(from); tx.Nonce() < n {
		return common.Address{}, fmt.Errorf("%w: next nonce %d, tx nonce %d", core.ErrNonceTooLow, n, tx.Nonce())
	}
	if bal := st.GetBalance(from).ToBig(); bal.Cmp(tx.Cost()) < 0 {
		return common.Address{}, fmt.Errorf("%w: balance %s, cost %s", core.ErrInsufficientFunds, bal, tx.Cost())
	}
	return from, nil
}

// submitLocked validates tx and queues it for the next block; it returns the sender.
func (c *Chain) submitLocked(tx *types.Transaction) (common.Address, error) {
	if c.closed {
		return common.Address{}, ErrClosed
	}
	from, err := c.validateTx(tx)
	if err != nil {
		return common.Address{}, err
	}
	if len(c.pending) >= maxPending {
		return common.Address{}, fmt.Errorf("%w: %d transactions waiting", ErrPoolFull, len(c.pending))
	}
	if lookup, _ := c.bc.GetCanonicalTransaction(tx.Hash()); lookup != nil {
		return common.Address{}, txpool.ErrAlreadyKnown
	}
	for _, p := range c.pending {
		if p.Hash() == tx.Hash() {
			return common.Address{}, txpool.ErrAlreadyKnown
		}
		if pf, _ := types.Sender(c.signer, p); pf == from && p.Nonce() == tx.Nonce() {
			return common.Address{}, fmt.Errorf("%w: nonce %d of %s is already waiting", txpool.ErrReplaceUnderpriced, tx.Nonce(), from)
		}
	}
	c.pending = append(c.pending, tx)
	return from, nil
}

// submit queues tx and, when there is no block period, produces a block with it right away and
// reports whether the block refused it. A transaction behind a nonce gap waits, without a block,
// until the gap fills.
func (c *Chain) submit(tx *types.Transaction) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	from, err := c.submitLocked(tx)
	if err != nil {
		return err
	}
	if c.cfg.BlockTime > 0 {
		return nil
	}
	st, err := c.bc.State()
	if err != nil {
		return fmt.Errorf("head state: %w", err)
	}
	if c.pendingNonceLocked(from, st.GetNonce(from)) <= tx.Nonce() {
		return nil // behind a nonce gap
	}
	_, refused, err := c.mineLocked()
	if err != nil {
		return err
	}
	return refused[tx.Hash()]
}

// Mine seals one block with the waiting transactions (possibly none) and returns its number.
func (c *Chain) Mine() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, _, err := c.mineLocked()
	if err != nil {
		return 0, err
	}
	return b.NumberU64(), nil
}

// mineLocked builds a block on the head with the waiting transactions that execute (in nonce order
// per sender; later nonces wait for the gap to fill), seals it and inserts it into the chain, which
// executes it again and validates roots, gas and seals. It returns the block and the transactions it
// refused, which leave the queue.
func (c *Chain) mineLocked() (*types.Block, map[common.Hash]error, error) {
	if c.closed {
		return nil, nil, ErrClosed
	}
	parent := c.bc.CurrentBlock()
	header := &types.Header{
		ParentHash: parent.Hash(),
		Number:     new(big.Int).Add(parent.Number, common.Big1),
		GasLimit:   parent.GasLimit,
		Time:       max(uint64(time.Now().Unix()), parent.Time),
		BaseFee:    eip1559.CalcBaseFee(c.config, parent),
	}
	if err := c.engine.Prepare(c.bc, header); err != nil {
		return nil, nil, fmt.Errorf("evmdevnet: prepare block %d: %w", header.Number, err)
	}
	statedb, err := c.bc.StateAt(parent.Root, parent.Number, parent.Time)
	if err != nil {
		return nil, nil, fmt.Errorf("evmdevnet: state of block %d: %w", parent.Number, err)
	}
	var (
		gp       = core.NewGasPool(header.GasLimit)
		evm      = vm.NewEVM(core.NewEVMBlockContext(header, c.bc, &header.Coinbase), statedb, c.config, vm.Config{})
		txs      []*types.Transaction
		receipts []*types.Receipt
		refused  = map[common.Hash]error{}
		done     = make([]bool, len(c.pending))
	)
	defer evm.Release()
	for progress := true; progress; {
		progress = false
		for i, tx := range c.pending {
			if done[i] {
				continue
			}
			from, err := types.Sender(c.signer, tx)
			if err != nil {
				refused[tx.Hash()], done[i] = err, true
				continue
			}
			switch n := statedb.GetNonce(from); {
			case tx.Nonce() > n:
				continue // waits for the nonce gap to fill
			case tx.Nonce() < n:
				refused[tx.Hash()], done[i] = fmt.Errorf("%w: next nonce %d, tx nonce %d", core.ErrNonceTooLow, n, tx.Nonce()), true
				continue
			}
			if tx.Gas() > gp.Available(false) {
				continue // waits for the next block
			}
			snap, gpSnap := statedb.Snapshot(), gp.Snapshot()
			statedb.SetTxContext(tx.Hash(), len(txs), uint32(len(txs)+1))
			receipt, _, err := core.ApplyTransaction(context.Background(), evm, gp, statedb, header, tx)
			if err != nil {
				statedb.RevertToSnapshot(snap)
				gp.Set(gpSnap)
				refused[tx.Hash()], done[i] = err, true
				continue
			}
			txs, receipts, done[i], progress = append(txs, tx), append(receipts, receipt), true, true
		}
	}
	header.GasUsed = gp.Used()
	body := &types.Body{Transactions: txs}
	c.engine.Finalize(c.bc, header, statedb, body)
	block := core.AssembleBlock(c.bc, header, statedb, body, receipts, nil)
	sealed, err := c.engine.sealHeader(block.Header())
	if err != nil {
		return nil, nil, fmt.Errorf("evmdevnet: seal block %d: %w", header.Number, err)
	}
	block = block.WithSeal(sealed)
	if _, err := c.bc.InsertChain(types.Blocks{block}); err != nil {
		return nil, nil, fmt.Errorf("evmdevnet: insert block %d: %w", header.Number, err)
	}
	var rest []*types.Transaction
	for i, tx := range c.pending {
		if !done[i] {
			rest = append(rest, tx)
		}
	}
	c.pending = rest
	for h, err := range refused {
		c.logf("evmdevnet: block %d refused transaction %s: %v", header.Number, h, err)
	}
	return block, refused, nil
}

// SendTransaction queues a signed transaction (London types: legacy, access list, dynamic fee);
// without a block period it is mined at once.
func (c *Chain) SendTransaction(tx *types.Transaction) error {
	if err := c.submit(tx); err != nil {
		return fmt.Errorf("evmdevnet: transaction %s: %w", tx.Hash(), err)
	}
	return nil
}

// Receipt is the receipt of a mined transaction, or nil if it is not on the chain.
func (c *Chain) Receipt(hash common.Hash) (*types.Receipt, error) {
	lookup, tx := c.bc.GetCanonicalTransaction(hash)
	if lookup == nil {
		return nil, nil
	}
	r, err := c.bc.GetCanonicalReceipt(tx, lookup.BlockHash, lookup.BlockIndex, lookup.Index)
	if err != nil {
		return nil, fmt.Errorf("evmdevnet: receipt of %s: %w", hash, err)
	}
	return r, nil
}

// ErrReverted is returned when a transaction Deploy or Transact sent failed on chain.
var ErrReverted = errors.New("evmdevnet: transaction failed")

// sendDev signs a dynamic-fee transaction from the dev account (gas estimated, fee cap twice the
// next base fee plus the tip), queues it and mines a block with it.
func (c *Chain) sendDev(to *common.Address, data []byte) (*types.Receipt, error) {
	gas, err := c.estimateGas(callArgs{From: &c.devAddr, To: to, Data: (*hexutil.Bytes)(&data)}, nil)
	if err != nil {
		return nil, fmt.Errorf("evmdevnet: estimate gas: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.bc.State()
	if err != nil {
		return nil, fmt.Errorf("evmdevnet: head state: %w", err)
	}
	nonce := c.pendingNonceLocked(c.devAddr, st.GetNonce(c.devAddr))
	baseFee := c.nextBaseFee()
	tx, err := types.SignNewTx(c.devKey, c.signer, &types.DynamicFeeTx{
		ChainID:   c.chainID,
		Nonce:     nonce,
		GasTipCap: new(big.Int).Set(SuggestedTip),
		GasFeeCap: new(big.Int).Add(new(big.Int).Mul(baseFee, big.NewInt(2)), SuggestedTip),
		Gas:       gas,
		To:        to,
		Data:      data,
	})
	if err != nil {
		return nil, fmt.Errorf("evmdevnet: sign transaction: %w", err)
	}
	if _, err := c.submitLocked(tx); err != nil {
		return nil, fmt.Errorf("evmdevnet: transaction %s: %w", tx.Hash(), err)
	}
	b, refused, err := c.mineLocked()
	if err != nil {
		return nil, err
	}
	if err := refused[tx.Hash()]; err != nil {
		return nil, fmt.Errorf("evmdevnet: block %d refused transaction %s: %w", b.NumberU64(), tx.Hash(), err)
	}
	r, err := c.Receipt(tx.Hash())
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("evmdevnet: transaction %s not in block %d", tx.Hash(), b.NumberU64())
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return r, fmt.Errorf("%w: %s in block %d", ErrReverted, tx.Hash(), r.BlockNumber)
	}
	return r, nil
}

// Deploy creates a contract from the dev account with bytecode followed by ctorArgs (ABI-encoded
// constructor arguments), mines it and returns its address.
func (c *Chain) Deploy(bytecode []byte, ctorArgs []byte) (common.Address, error) {
	data := append(append([]byte(nil), bytecode...), ctorArgs...)
	r, err := c.sendDev(nil, data)
	if err != nil {
		return common.Address{}, fmt.Errorf("deploy: %w", err)
	}
	return r.ContractAddress, nil
}

// Transact calls to with data in a transaction from the dev account and mines it. A transaction that
// failed on chain returns its receipt and an error wrapping ErrReverted.
func (c *Chain) Transact(to common.Address, data []byte) (*types.Receipt, error) {
	r, err := c.sendDev(&to, data)
	if err != nil {
		return r, fmt.Errorf("transact with %s: %w", to, err)
	}
	return r, nil
}

// Call executes a read-only call from the dev account against the latest state.
func (c *Chain) Call(to common.Address, data []byte) ([]byte, error) {
	out, err := c.call(callArgs{From: &c.devAddr, To: &to, Data: (*hexutil.Bytes)(&data)}, nil)
	if err != nil {
		return nil, fmt.Errorf("evmdevnet: call %s: %w", to, err)
	}
	return out, nil
}
