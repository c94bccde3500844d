package evmdevnet

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/consensus"
	"github.com/ethereum/go-ethereum/consensus/misc/eip1559"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/cityrelay/cityrelay/light/qbft"
)

// BFTMixDigest is the mixDigest every QBFT/IBFT 2.0 header carries ("Istanbul byzantine fault
// tolerance" in ASCII).
var BFTMixDigest = common.HexToHash("0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365")

// vanityLength is the length of extraData's vanity field.
const vanityLength = 32

// allowedFutureTime is how far ahead of the local clock a header's time may be.
const allowedFutureTime = 15 * time.Second

// errBadHeader wraps every consensus rule violation the engine reports.
var errBadHeader = errors.New("evmdevnet: invalid header")

// qbftExtra is QBFT's extraData: RLP([vanity, validators, vote, round, committed seals]).
type qbftExtra struct {
	Vanity     []byte
	Validators []common.Address
	Vote       rlp.RawValue // always the empty list: the devnet never votes validators in or out
	Round      uint32
	Seals      [][]byte
}

// encodeExtra encodes QBFT extraData with a zero vanity, no vote and the given round and seals.
func encodeExtra(validators []common.Address, round uint32, seals [][]byte) ([]byte, error) {
	if seals == nil {
		seals = [][]byte{}
	}
	bz, err := rlp.EncodeToBytes(&qbftExtra{
		Vanity:     make([]byte, vanityLength),
		Validators: validators,
		Vote:       rlp.RawValue{0xc0},
		Round:      round,
		Seals:      seals,
	})
	if err != nil {
		return nil, fmt.Errorf("encode qbft extraData: %w", err)
	}
	return bz, nil
}

// decodeExtra decodes QBFT extraData.
func decodeExtra(bz []byte) (*qbftExtra, error) {
	var e qbftExtra
	if err := rlp.DecodeBytes(bz, &e); err != nil {
		return nil, fmt.Errorf("%w: qbft extraData: %v", errBadHeader, err)
	}
	if len(e.Vanity) != vanityLength {
		return nil, fmt.Errorf("%w: vanity is %d bytes, want %d", errBadHeader, len(e.Vanity), vanityLength)
	}
	return &e, nil
}

// sealHash is what the validators sign: keccak256 of the header RLP with extraData's seals emptied and
// its round kept (Besu's and light/qbft's seal hash).
func sealHash(h *types.Header) (common.Hash, error) {
	e, err := decodeExtra(h.Extra)
	if err != nil {
		return common.Hash{}, err
	}
	extra, err := encodeExtra(e.Validators, e.Round, nil)
	if err != nil {
		return common.Hash{}, err
	}
	cpy := types.CopyHeader(h)
	cpy.Extra = extra
	return cpy.Hash(), nil
}

// engine is the devnet's consensus engine: QBFT headers (fixed validator set, round-robin proposer as
// coinbase, difficulty 1, the BFT mixDigest, committed seals in extraData) under London rules, no
// block reward. It holds every validator's key, so one process plays the whole validator set.
type engine struct {
	validators []common.Address
	keys       []*ecdsa.PrivateKey
	isVal      map[common.Address]bool
	sealers    atomic.Int64 // how many validators sign new headers
}

var _ consensus.Engine = (*engine)(nil)

func newEngine(keys []*ecdsa.PrivateKey) *engine {
	e := &engine{keys: keys, isVal: make(map[common.Address]bool, len(keys))}
	for _, k := range keys {
		a := crypto.PubkeyToAddress(k.PublicKey)
		e.validators = append(e.validators, a)
		e.isVal[a] = true
	}
	e.sealers.Store(int64(len(keys)))
	return e
}

// proposer is the round-robin proposer of block number (Besu's proposer selection rotates over the
// sorted validator set by block and round; the devnet keeps the rotation, at round 0).
func (e *engine) proposer(number uint64) common.Address {
	return e.validators[number%uint64(len(e.validators))]
}

// Author is the block's proposer, recorded as its coinbase.
func (e *engine) Author(header *types.Header) (common.Address, error) {
	return header.Coinbase, nil
}

// VerifyHeader checks a header against its parent: QBFT's fixed fields, London's gas and base fee
// rules, the validator set, and every committed seal (each a distinct validator's signature over the
// seal hash). It deliberately does not require a quorum of seals, so that SetSealers can put
// under-quorum headers on the chain for negative tests of light clients.
func (e *engine) VerifyHeader(chain consensus.ChainHeaderReader, header *types.Header) error {
	if header.Number == nil || header.Number.Sign() <= 0 {
		return fmt.Errorf("%w: header without a positive number", errBadHeader)
	}
	number := header.Number.Uint64()
	parent := chain.GetHeader(header.ParentHash, number-1)
	if parent == nil {
		return consensus.ErrUnknownAncestor
	}
	return e.verifyHeader(chain, header, parent)
}

func (e *engine) verifyHeader(chain consensus.ChainHeaderReader, header, parent *types.Header) error {
	number := header.Number.Uint64()
	if header.Time > uint64(time.Now().Add(allowedFutureTime).Unix()) {
		return consensus.ErrFutureBlock
	}
	if header.Time < parent.Time {
		return fmt.Errorf("%w: block %d time %d before its parent's %d", errBadHeader, number, header.Time, parent.Time)
	}
	if header.Difficulty == nil || header.Difficulty.Cmp(common.Big1) != 0 {
		return fmt.Errorf("%w: block %d difficulty %v, want 1", errBadHeader, number, header.Difficulty)
	}
	if header.MixDigest != BFTMixDigest {
		return fmt.Errorf("%w: block %d mixDigest %s is not the BFT digest", errBadHeader, number, header.MixDigest)
	}
	if header.Nonce != (types.BlockNonce{}) {
		return fmt.Errorf("%w: block %d nonce %x, want 0", errBadHeader, number, header.Nonce)
	}
	if header.UncleHash != types.EmptyUncleHash {
		return fmt.Errorf("%w: block %d has uncles", errBadHeader, number)
	}
	if header.GasUsed > header.GasLimit {
		return fmt.Errorf("%w: block %d gas used %d above gas limit %d", errBadHeader, number, header.GasUsed, header.GasLimit)
	}
	if err := eip1559.VerifyEIP1559Header(chain.Config(), parent, header); err != nil {
		return fmt.Errorf("%w: block %d: %v", errBadHeader, number, err)
	}
	if header.WithdrawalsHash != nil || header.BlobGasUsed != nil || header.ExcessBlobGas != nil ||
		header.ParentBeaconRoot != nil || header.RequestsHash != nil {
		return fmt.Errorf("%w: block %d carries post-London header fields", errBadHeader, number)
	}
	if !e.isVal[header.Coinbase] {
		return fmt.Errorf("%w: block %d proposer %s is not a validator", errBadHeader, number, header.Coinbase)
	}
	extra, err := decodeExtra(header.Extra)
	if err != nil {
		return fmt.Errorf("block %d: %w", number, err)
	}
	if len(extra.Validators) != len(e.validators) {
		return fmt.Errorf("%w: block %d lists %d validators, want %d", errBadHeader, number, len(extra.Validators), len(e.validators))
	}
	for i, v := range extra.Validators {
		if v != e.validators[i] {
			return fmt.Errorf("%w: block %d validator %d is %s, want %s", errBadHeader, number, i, v, e.validators[i])
		}
	}
	bz, err := rlp.EncodeToBytes(header)
	if err != nil {
		return fmt.Errorf("encode header %d: %w", number, err)
	}
	h, err := qbft.ParseHeader(bz)
	if err != nil {
		return fmt.Errorf("block %d: %w", number, err)
	}
	if _, err := h.Signers(); err != nil {
		return fmt.Errorf("block %d: %w", number, err)
	}
	return nil
}

// VerifyHeaders verifies headers in order, each against its predecessor in the batch or the chain.
func (e *engine) VerifyHeaders(chain consensus.ChainHeaderReader, headers []*types.Header) (chan<- struct{}, <-chan error) {
	abort := make(chan struct{})
	results := make(chan error, len(headers))
	go func() {
		for i, h := range headers {
			var err error
			switch {
			case h.Number == nil || h.Number.Sign() <= 0:
				err = fmt.Errorf("%w: header without a positive number", errBadHeader)
			case i > 0 && headers[i-1].Hash() == h.ParentHash:
				err = e.verifyHeader(chain, h, headers[i-1])
			default:
				err = e.VerifyHeader(chain, h)
			}
			select {
			case <-abort:
				return
			case results <- err:
			}
		}
	}()
	return abort, results
}

// VerifyUncles refuses uncles: a BFT chain has none.
func (e *engine) VerifyUncles(_ consensus.ChainReader, block *types.Block) error {
	if len(block.Uncles()) > 0 {
		return fmt.Errorf("%w: block %d has uncles", errBadHeader, block.NumberU64())
	}
	return nil
}

// Prepare sets the QBFT fields of a new header: proposer, difficulty, mixDigest, nonce and the
// unsealed extraData at round 0.
func (e *engine) Prepare(_ consensus.ChainHeaderReader, header *types.Header) error {
	extra, err := encodeExtra(e.validators, 0, nil)
	if err != nil {
		return err
	}
	header.Coinbase = e.proposer(header.Number.Uint64())
	header.Difficulty = big.NewInt(1)
	header.MixDigest = BFTMixDigest
	header.Nonce = types.BlockNonce{}
	header.Extra = extra
	return nil
}

// Finalize does nothing: QBFT pays no block reward by default.
func (e *engine) Finalize(consensus.ChainHeaderReader, *types.Header, vm.StateDB, *types.Body) {}

// sealHeader returns a copy of header carrying the committed seals of the first sealers validators.
func (e *engine) sealHeader(header *types.Header) (*types.Header, error) {
	extra, err := decodeExtra(header.Extra)
	if err != nil {
		return nil, err
	}
	sh, err := sealHash(header)
	if err != nil {
		return nil, err
	}
	n := int(e.sealers.Load())
	seals := make([][]byte, 0, n)
	for _, k := range e.keys[:n] {
		sig, err := crypto.Sign(sh.Bytes(), k)
		if err != nil {
			return nil, fmt.Errorf("seal block %d: %w", header.Number, err)
		}
		seals = append(seals, sig)
	}
	sealed := types.CopyHeader(header)
	if sealed.Extra, err = encodeExtra(extra.Validators, extra.Round, seals); err != nil {
		return nil, err
	}
	return sealed, nil
}

// Seal adds the committed seals to block and delivers it.
func (e *engine) Seal(_ consensus.ChainHeaderReader, block *types.Block, results chan<- *types.Block, stop <-chan struct{}) error {
	h, err := e.sealHeader(block.Header())
	if err != nil {
		return err
	}
	go func() {
		select {
		case results <- block.WithSeal(h):
		case <-stop:
		}
	}()
	return nil
}

// SealHash is the hash the validators sign. A header whose extraData is not QBFT's gets the zero hash.
func (e *engine) SealHash(header *types.Header) common.Hash {
	h, err := sealHash(header)
	if err != nil {
		return common.Hash{}
	}
	return h
}

// CalcDifficulty is always 1 on a BFT chain.
func (e *engine) CalcDifficulty(consensus.ChainHeaderReader, uint64, *types.Header) *big.Int {
	return big.NewInt(1)
}

// Close has nothing to release.
func (e *engine) Close() error { return nil }
