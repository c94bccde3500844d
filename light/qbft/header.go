// Package qbft verifies block headers of QBFT (Hyperledger Besu, GoQuorum) EVM chains without trusting
// the node that serves them: the committed seals in a header's extraData are recovered over the seal
// hash and must come from at least ceil(2n/3) of the header's validators; skipping from a trusted header
// also needs at least f+1 of the trusted validators' seals, within the trusting period. Pure Go on
// go-ethereum's rlp and crypto.
package qbft

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Errors of header verification; each wraps ErrInvalidHeader.
var (
	ErrInvalidHeader = errors.New("invalid qbft header")
	ErrNoQuorum      = fmt.Errorf("%w: not enough committed seals", ErrInvalidHeader)
	ErrBadSeal       = fmt.Errorf("%w: bad committed seal", ErrInvalidHeader)
)

// vanityLength is the length of extraData's vanity field.
const vanityLength = 32

// extraData is QBFT's and IBFT 2.0's extraData: RLP([vanity, validators, vote, round, seals]). Vote and round are kept
// as they were encoded, so the hashes are computed over exactly the chain's bytes.
type extraData struct {
	Vanity     []byte
	Validators []common.Address
	Vote       rlp.RawValue
	Round      rlp.RawValue
	Seals      [][]byte
}

// Positions of the fields of an Ethereum header's RLP list used here (later forks only append fields,
// which are kept as they are).
const (
	fieldRoot   = 3
	fieldNumber = 8
	fieldTime   = 11
	fieldExtra  = 12
	minFields   = 15
)

// Header is a parsed QBFT header: its RLP fields as the chain encoded them, and its extraData.
type Header struct {
	fields []rlp.RawValue
	number *big.Int
	time   uint64
	root   common.Hash
	extra  extraData
}

// ParseHeader decodes a header's RLP and its QBFT extraData.
func ParseHeader(bz []byte) (*Header, error) {
	h := &Header{number: new(big.Int)}
	if err := rlp.DecodeBytes(bz, &h.fields); err != nil {
		return nil, fmt.Errorf("%w: header rlp: %v", ErrInvalidHeader, err)
	}
	if len(h.fields) < minFields {
		return nil, fmt.Errorf("%w: %d header fields, want at least %d", ErrInvalidHeader, len(h.fields), minFields)
	}
	var extra []byte
	for _, f := range []struct {
		i int
		v any
	}{{fieldRoot, &h.root}, {fieldNumber, h.number}, {fieldTime, &h.time}, {fieldExtra, &extra}} {
		if err := rlp.DecodeBytes(h.fields[f.i], f.v); err != nil {
			return nil, fmt.Errorf("%w: header field %d: %v", ErrInvalidHeader, f.i, err)
		}
	}
	var e extraData
	if err := rlp.DecodeBytes(extra, &e); err != nil {
		return nil, fmt.Errorf("%w: extraData rlp: %v", ErrInvalidHeader, err)
	}
	if len(e.Vanity) != vanityLength {
		return nil, fmt.Errorf("%w: vanity is %d bytes, want %d", ErrInvalidHeader, len(e.Vanity), vanityLength)
	}
	if len(e.Validators) == 0 {
		return nil, fmt.Errorf("%w: no validators", ErrInvalidHeader)
	}
	h.extra = e
	return h, nil
}

// Number is the block number.
func (h *Header) Number() *big.Int { return new(big.Int).Set(h.number) }

// Time is the block's unix time in seconds.
func (h *Header) Time() uint64 { return h.time }

// StateRoot is the state root the seals commit to.
func (h *Header) StateRoot() common.Hash { return h.root }

// Validators are the validators listed in the header, in order.
func (h *Header) Validators() []common.Address {
	return append([]common.Address(nil), h.extra.Validators...)
}

// IsIBFT2 reports whether the header is IBFT 2.0's rather than QBFT's: IBFT 2.0 writes the round as
// 4 bytes (QBFT as an integer scalar, at most 3 bytes for any round a chain reaches).
func (h *Header) IsIBFT2() bool { return len(h.extra.Round) == 5 && h.extra.Round[0] == 0x84 }

// hashWith is keccak256 of the header RLP with extraData as a hash covers it. QBFT: seals emptied,
// round as given (nil: 0). IBFT 2.0 (Besu's IbftExtraDataCodec): the seals list left out, and for
// the on-chain hash (round nil) the round too.
func (h *Header) hashWith(round rlp.RawValue) (common.Hash, error) {
	var list []any
	e := h.extra
	switch {
	case h.IsIBFT2() && round == nil:
		list = []any{e.Vanity, e.Validators, e.Vote}
	case h.IsIBFT2():
		list = []any{e.Vanity, e.Validators, e.Vote, round}
	default:
		if round == nil {
			round, _ = rlp.EncodeToBytes(uint64(0))
		}
		list = []any{e.Vanity, e.Validators, e.Vote, round, [][]byte{}}
	}
	extra, err := rlp.EncodeToBytes(list)
	if err != nil {
		return common.Hash{}, fmt.Errorf("%w: encode extraData: %v", ErrInvalidHeader, err)
	}
	item, err := rlp.EncodeToBytes(extra)
	if err != nil {
		return common.Hash{}, fmt.Errorf("%w: encode extraData: %v", ErrInvalidHeader, err)
	}
	fields := append([]rlp.RawValue(nil), h.fields...)
	fields[fieldExtra] = item
	bz, err := rlp.EncodeToBytes(fields)
	if err != nil {
		return common.Hash{}, fmt.Errorf("%w: encode header: %v", ErrInvalidHeader, err)
	}
	return crypto.Keccak256Hash(bz), nil
}

// SealHash is what the validators sign: the header with its seals emptied, its round kept.
func (h *Header) SealHash() (common.Hash, error) { return h.hashWith(h.extra.Round) }

// Hash is the block hash the chain uses: the header with its seals emptied and round 0 (QBFT), or
// without seals and round (IBFT 2.0).
func (h *Header) Hash() (common.Hash, error) { return h.hashWith(nil) }

// Signers recovers the committed seals' signers over the seal hash, refusing more seals than
// validators, a malformed seal, a signer that is not one of the header's validators and a signer that
// sealed twice; it runs before any other check uses the seals.
func (h *Header) Signers() ([]common.Address, error) {
	n := len(h.extra.Validators)
	if len(h.extra.Seals) > n {
		return nil, fmt.Errorf("%w: %d seals for %d validators", ErrBadSeal, len(h.extra.Seals), n)
	}
	sh, err := h.SealHash()
	if err != nil {
		return nil, err
	}
	valid := make(map[common.Address]bool, n)
	for _, v := range h.extra.Validators {
		valid[v] = true
	}
	seen := make(map[common.Address]bool, len(h.extra.Seals))
	var out []common.Address
	for i, seal := range h.extra.Seals {
		if len(seal) != crypto.SignatureLength {
			return nil, fmt.Errorf("%w: seal %d is %d bytes", ErrBadSeal, i, len(seal))
		}
		pub, err := crypto.SigToPub(sh.Bytes(), seal)
		if err != nil {
			return nil, fmt.Errorf("%w: seal %d: %v", ErrBadSeal, i, err)
		}
		signer := crypto.PubkeyToAddress(*pub)
		if !valid[signer] {
			return nil, fmt.Errorf("%w: seal %d by %s, not a validator of block %s", ErrBadSeal, i, signer, h.number)
		}
		if seen[signer] {
			return nil, fmt.Errorf("%w: %s sealed twice", ErrBadSeal, signer)
		}
		seen[signer] = true
		out = append(out, signer)
	}
	return out, nil
}

// Quorum is ceil(2n/3), the committed seals a block of n validators needs (Besu's
// BftHelpers.calculateRequiredValidatorQuorum).
func Quorum(n int) int { return (2*n + 2) / 3 }

// SealCount is the number of committed seals in extraData (what recovering them costs, before any is
// recovered).
func (h *Header) SealCount() int { return len(h.extra.Seals) }

// VerifySeals checks that at least a quorum of the header's own validators sealed it.
func (h *Header) VerifySeals() ([]common.Address, error) {
	signers, err := h.Signers()
	if err != nil {
		return nil, err
	}
	if q := Quorum(len(h.extra.Validators)); len(signers) < q {
		return nil, fmt.Errorf("%w: %d of %d validators sealed block %s, quorum %d", ErrNoQuorum, len(signers), len(h.extra.Validators), h.number, q)
	}
	return signers, nil
}

// Trusted is what a verifier already trusts of a chain: a verified header's number, time and
// validators.
type Trusted struct {
	Number     *big.Int
	Time       time.Time
	Validators []common.Address
}

// Options bound how far trust reaches.
type Options struct {
	// TrustingPeriod is how long a trusted header may be used to verify newer ones.
	TrustingPeriod time.Duration
	// MaxClockDrift is how far a header's time may be ahead of now.
	MaxClockDrift time.Duration
}

// Errors of skipping verification; each wraps ErrInvalidHeader.
var (
	ErrExpired      = fmt.Errorf("%w: trusted header past its trusting period", ErrInvalidHeader)
	ErrFuture       = fmt.Errorf("%w: header from the future", ErrInvalidHeader)
	ErrTrustOverlap = fmt.Errorf("%w: too few trusted validators sealed it", ErrInvalidHeader)
	ErrNotNewer     = fmt.Errorf("%w: not newer than the trusted header", ErrInvalidHeader)
	ErrTimeOrder    = fmt.Errorf("%w: newer block with an earlier time", ErrInvalidHeader)
)

// Verify checks h against a trusted header, skipping any number of blocks: the trusted header is
// within its trusting period, h is newer and not from the future, a quorum of h's own validators
// sealed it, and at least f+1 of the trusted validators (f = floor((n-1)/3) of n) are among its
// signers, so at least one honest validator of the trusted set vouches for the new set.
func Verify(tr Trusted, h *Header, o Options, now time.Time) ([]common.Address, error) {
	if !now.Before(tr.Time.Add(o.TrustingPeriod)) {
		return nil, fmt.Errorf("%w: trusted at %s, period %s, now %s", ErrExpired, tr.Time.UTC().Format(time.RFC3339), o.TrustingPeriod, now.UTC().Format(time.RFC3339))
	}
	if h.number.Cmp(tr.Number) <= 0 {
		return nil, fmt.Errorf("%w: block %s, trusted %s", ErrNotNewer, h.number, tr.Number)
	}
	if h.time > math.MaxInt64/2 {
		return nil, fmt.Errorf("%w: block %s at unix time %d", ErrFuture, h.number, h.time)
	}
	ht := time.Unix(int64(h.time), 0)
	if ht.After(now.Add(o.MaxClockDrift)) {
		return nil, fmt.Errorf("%w: block %s at %s, now %s", ErrFuture, h.number, ht.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if ht.Before(tr.Time) {
		return nil, fmt.Errorf("%w: block %s at %s, before the trusted header's %s", ErrTimeOrder, h.number, ht.UTC().Format(time.RFC3339), tr.Time.UTC().Format(time.RFC3339))
	}
	signers, err := h.VerifySeals()
	if err != nil {
		return nil, err
	}
	trusted := make(map[common.Address]bool, len(tr.Validators))
	for _, v := range tr.Validators {
		trusted[v] = true
	}
	overlap := 0
	for _, s := range signers {
		if trusted[s] {
			overlap++
		}
	}
	if need := (len(tr.Validators)-1)/3 + 1; overlap < need {
		return nil, fmt.Errorf("%w: %d of the %d trusted validators sealed block %s, need %d", ErrTrustOverlap, overlap, len(tr.Validators), h.number, need)
	}
	return signers, nil
}
