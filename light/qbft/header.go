// Package qbft verifies block headers of QBFT (Hyperledger Besu, GoQuorum) EVM chains without trusting
// the node that serves them: the committed seals in a header's extraData are recovered over the seal
// hash and must come from at least ceil(2n/3) of the header's validators; skipping from a trusted header
// also needs at least f+1 of the trusted validators' seals, within the trusting period. extraData is
// read and hashed as Besu's QbftExtraDataCodec or IbftExtraDataCodec and BftBlockHashing do (IBFT 2.0
// headers too; see Protocol). Pure Go on go-ethereum's rlp and crypto.
package qbft

import (
	"bytes"
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

// Protocol is the BFT protocol whose extraData a header carries. Both write RLP([vanity, validators,
// vote, round, seals]) and differ in how (Besu's QbftExtraDataCodec and IbftExtraDataCodec).
type Protocol int

const (
	// QBFT: no vote is an empty list, a drop vote's type empty (0x80, 0xc0) or 0x00, the round an
	// integer scalar of at most 4 bytes without leading zeros, items after the seals ignored; both
	// hashes keep an empty seals list.
	QBFT Protocol = iota + 1
	// IBFT2 (IBFT 2.0): no vote is an empty string, a vote's type the byte 0x00 or 0xff, the round
	// exactly 4 bytes, nothing after the seals; the seal hash leaves the seals out, the block hash the
	// round too.
	IBFT2
)

func (p Protocol) String() string {
	switch p {
	case QBFT:
		return "qbft"
	case IBFT2:
		return "ibft2"
	}
	return fmt.Sprintf("protocol(%d)", int(p))
}

// ErrAmbiguousProtocol is returned by ParseHeader for a header that is well-formed both as QBFT and as
// IBFT 2.0 (a vote and a round of 2^24 or more); ParseHeaderAs with the chain's protocol reads it.
var ErrAmbiguousProtocol = fmt.Errorf("%w: extraData reads as QBFT and as IBFT 2.0", ErrInvalidHeader)

// vote is a decoded validator vote.
type vote struct {
	present   bool
	recipient common.Address
	add       bool
}

// extraData is the decoded extraData; the hashes re-encode it canonically (Besu decodes and encodes),
// so a node serving another accepted encoding of a block's extraData gets the same hashes.
type extraData struct {
	Vanity     []byte
	Validators []common.Address
	Vote       vote
	Round      uint32
	Seals      [][]byte
}

// rlpItems splits an RLP list's payload into its items, as raw values.
func rlpItems(list []byte) ([]rlp.RawValue, error) {
	var out []rlp.RawValue
	for len(list) > 0 {
		_, _, rest, err := rlp.Split(list)
		if err != nil {
			return nil, err
		}
		out = append(out, list[:len(list)-len(rest)])
		list = rest
	}
	return out, nil
}

// rlpString is the content of an RLP string item, or an error for a list.
func rlpString(item rlp.RawValue, what string) ([]byte, error) {
	k, content, _, err := rlp.Split(item)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	if k == rlp.List {
		return nil, fmt.Errorf("%s is a list, want a string", what)
	}
	return content, nil
}

// rlpList is the items of an RLP list item, or an error for a string.
func rlpList(item rlp.RawValue, what string) ([]rlp.RawValue, error) {
	k, content, _, err := rlp.Split(item)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	if k != rlp.List {
		return nil, fmt.Errorf("%s is a string, want a list", what)
	}
	items, err := rlpItems(content)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return items, nil
}

// detectProtocol tells QBFT from IBFT 2.0 by what only one of them accepts: the empty vote (0xc0
// QBFT, 0x80 IBFT 2.0), a drop vote with an empty type (QBFT), items after the seals (QBFT), a round
// not 4 bytes long (QBFT) or 4 bytes with a leading zero (IBFT 2.0). What is left (a vote and a round
// of 2^24 or more) is ambiguous.
func detectProtocol(items []rlp.RawValue) (Protocol, error) {
	if len(items) < 5 {
		return 0, fmt.Errorf("%w: extraData has %d items, want 5", ErrInvalidHeader, len(items))
	}
	if len(items) > 5 {
		return QBFT, nil
	}
	switch {
	case len(items[2]) == 1 && items[2][0] == 0xc0:
		return QBFT, nil
	case len(items[2]) == 1 && items[2][0] == 0x80:
		return IBFT2, nil
	}
	if v, err := rlpList(items[2], "vote"); err == nil && len(v) == 2 && len(v[1]) == 1 && (v[1][0] == 0x80 || v[1][0] == 0xc0) {
		return QBFT, nil
	}
	round, err := rlpString(items[3], "round")
	if err != nil || len(round) != 4 {
		return QBFT, nil // malformed either way: QBFT's decoding says why
	}
	if round[0] == 0 {
		return IBFT2, nil
	}
	return 0, ErrAmbiguousProtocol
}

// decodeExtra decodes extraData under p as Besu's codec for p does (QbftExtraDataCodec.decodeRaw,
// IbftExtraDataCodec.decodeRaw), plus Besu's header rules that need no chain state: a 32-byte vanity
// (BftVanityDataValidationRule) and validators in strictly ascending order, so none twice
// (BftValidatorsValidationRule; genesis only needs them distinct, Besu does not run the rule on it).
// p 0 detects the protocol. An empty validator list decodes (ParseHeaderAs refuses it).
func decodeExtra(bz []byte, p Protocol, genesis bool) (extraData, Protocol, error) {
	var e extraData
	bad := func(format string, a ...any) (extraData, Protocol, error) {
		return extraData{}, 0, fmt.Errorf("%w: %s extraData: %s", ErrInvalidHeader, p, fmt.Sprintf(format, a...))
	}
	k, content, rest, err := rlp.Split(bz)
	if err != nil || k != rlp.List || len(rest) != 0 {
		return extraData{}, 0, fmt.Errorf("%w: extraData is not one rlp list (%v)", ErrInvalidHeader, err)
	}
	items, err := rlpItems(content)
	if err != nil {
		return extraData{}, 0, fmt.Errorf("%w: extraData rlp: %v", ErrInvalidHeader, err)
	}
	if p == 0 {
		if p, err = detectProtocol(items); err != nil {
			return extraData{}, 0, err
		}
	}
	if p != QBFT && p != IBFT2 {
		return extraData{}, 0, fmt.Errorf("%w: unknown protocol %s", ErrInvalidHeader, p)
	}
	if len(items) < 5 || (p == IBFT2 && len(items) > 5) {
		return bad("%d items, want 5", len(items))
	}
	if e.Vanity, err = rlpString(items[0], "vanity"); err != nil {
		return bad("%v", err)
	}
	if len(e.Vanity) != vanityLength {
		return bad("vanity is %d bytes, want %d", len(e.Vanity), vanityLength)
	}
	vals, err := rlpList(items[1], "validators")
	if err != nil {
		return bad("%v", err)
	}
	seen := make(map[common.Address]bool, len(vals))
	for i, item := range vals {
		a, err := rlpString(item, "validator")
		if err != nil {
			return bad("validator %d: %v", i, err)
		}
		if len(a) != common.AddressLength {
			return bad("validator %d is %d bytes", i, len(a))
		}
		v := common.BytesToAddress(a)
		if seen[v] {
			return bad("validator %s listed twice", v)
		}
		seen[v] = true
		if !genesis && i > 0 && bytes.Compare(e.Validators[i-1][:], v[:]) >= 0 {
			return bad("validators not in ascending order (%s before %s)", e.Validators[i-1], v)
		}
		e.Validators = append(e.Validators, v)
	}
	if e.Vote, err = decodeVote(items[2], p); err != nil {
		return bad("%v", err)
	}
	round, err := rlpString(items[3], "round")
	if err != nil {
		return bad("%v", err)
	}
	switch {
	case p == IBFT2 && len(round) != 4:
		return bad("round is %d bytes, want 4", len(round))
	case p == QBFT && len(round) > 4:
		return bad("round is %d bytes, want at most 4", len(round))
	case p == QBFT && len(round) > 0 && round[0] == 0:
		return bad("round has leading zero bytes")
	}
	for _, b := range round {
		e.Round = e.Round<<8 | uint32(b)
	}
	seals, err := rlpList(items[4], "seals")
	if err != nil {
		return bad("%v", err)
	}
	for i, item := range seals {
		s, err := rlpString(item, "seal")
		if err != nil {
			return bad("seal %d: %v", i, err)
		}
		e.Seals = append(e.Seals, s)
	}
	return e, p, nil
}

// decodeVote decodes the vote item: none, or [recipient (20 bytes), type].
func decodeVote(item rlp.RawValue, p Protocol) (vote, error) {
	if p == QBFT && len(item) == 1 && item[0] == 0xc0 {
		return vote{}, nil
	}
	if p == IBFT2 && len(item) == 1 && item[0] == 0x80 {
		return vote{}, nil
	}
	v, err := rlpList(item, "vote")
	if err != nil {
		return vote{}, err
	}
	if len(v) != 2 {
		return vote{}, fmt.Errorf("vote has %d items, want 2", len(v))
	}
	r, err := rlpString(v[0], "vote recipient")
	if err != nil {
		return vote{}, err
	}
	if len(r) != common.AddressLength {
		return vote{}, fmt.Errorf("vote recipient is %d bytes", len(r))
	}
	out := vote{present: true, recipient: common.BytesToAddress(r)}
	if p == QBFT && len(v[1]) == 1 && (v[1][0] == 0x80 || v[1][0] == 0xc0) {
		return out, nil // drop
	}
	t, err := rlpString(v[1], "vote type")
	if err != nil {
		return vote{}, err
	}
	switch {
	case len(t) == 1 && t[0] == 0xff:
		out.add = true
	case len(t) == 1 && t[0] == 0x00:
	default:
		return vote{}, fmt.Errorf("vote type %#x, want 0x00 or 0xff", t)
	}
	return out, nil
}

// voteRLP is the vote as p's codec encodes it.
func (v vote) rlp(p Protocol) rlp.RawValue {
	if !v.present {
		if p == IBFT2 {
			return rlp.RawValue{0x80}
		}
		return rlp.RawValue{0xc0}
	}
	typ := rlp.RawValue{0x81, 0xff}
	switch {
	case !v.add && p == QBFT:
		typ = rlp.RawValue{0x80}
	case !v.add:
		typ = rlp.RawValue{0x00}
	}
	bz, _ := rlp.EncodeToBytes([]any{v.recipient, typ}) // an address and a raw value always encode
	return bz
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
	proto  Protocol
}

// ParseHeader decodes a header's RLP and its extraData, telling QBFT from IBFT 2.0 by the encoding
// (see detectProtocol); a header that reads as both is refused with ErrAmbiguousProtocol. A verifier
// that knows its chain's protocol should use ParseHeaderAs.
func ParseHeader(bz []byte) (*Header, error) { return ParseHeaderAs(bz, 0) }

// ParseHeaderAs decodes a header's RLP and its extraData as protocol p (0: detect it), refusing what
// Besu's codec for p refuses and validators out of ascending order.
func ParseHeaderAs(bz []byte, p Protocol) (*Header, error) {
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
	e, p, err := decodeExtra(extra, p, h.number.Sign() == 0)
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", h.number, err)
	}
	if len(e.Validators) == 0 {
		return nil, fmt.Errorf("%w: block %s: no validators", ErrInvalidHeader, h.number)
	}
	h.extra, h.proto = e, p
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

// Protocol is the protocol the header was read as.
func (h *Header) Protocol() Protocol { return h.proto }

// IsIBFT2 reports whether the header was read as IBFT 2.0's rather than QBFT's.
func (h *Header) IsIBFT2() bool { return h.proto == IBFT2 }

// hashWith is keccak256 of the header RLP with extraData re-encoded as Besu's BftBlockHashing does:
// QBFT with the seals list emptied and the round kept (seal hash) or 0 (block hash); IBFT 2.0 without
// the seals list, and for the block hash without the round too. The genesis block (number 0) is
// hashed with its extraData as it is, for both hashes.
func (h *Header) hashWith(keepRound bool) (common.Hash, error) {
	fields := h.fields
	if h.number.Sign() != 0 {
		extra, err := h.extra.encodeForHash(h.proto, keepRound)
		if err != nil {
			return common.Hash{}, err
		}
		item, err := rlp.EncodeToBytes(extra)
		if err != nil {
			return common.Hash{}, fmt.Errorf("%w: encode extraData: %v", ErrInvalidHeader, err)
		}
		fields = append([]rlp.RawValue(nil), h.fields...)
		fields[fieldExtra] = item
	}
	bz, err := rlp.EncodeToBytes(fields)
	if err != nil {
		return common.Hash{}, fmt.Errorf("%w: encode header: %v", ErrInvalidHeader, err)
	}
	return crypto.Keccak256Hash(bz), nil
}

// encodeForHash is e as p's codec encodes it for a hash: QBFT encodeWithoutCommitSeals (keepRound)
// or encodeWithoutCommitSealsAndRoundNumber, IBFT 2.0 the same, which leave the seals list (and round)
// out. Besu holds the round in a Java int: a QBFT round of 2^31 or more is negative there and written
// as the 8 bytes of the sign-extended long (RLPOutput.writeIntScalar, Bytes.minimalBytes).
func (e extraData) encodeForHash(p Protocol, keepRound bool) ([]byte, error) {
	list := []any{e.Vanity, e.Validators, e.Vote.rlp(p)}
	switch {
	case p == IBFT2 && keepRound:
		list = append(list, []byte{byte(e.Round >> 24), byte(e.Round >> 16), byte(e.Round >> 8), byte(e.Round)})
	case p == IBFT2:
	case keepRound:
		list = append(list, uint64(int64(int32(e.Round))), [][]byte{})
	default:
		list = append(list, uint64(0), [][]byte{})
	}
	bz, err := rlp.EncodeToBytes(list)
	if err != nil {
		return nil, fmt.Errorf("%w: encode extraData: %v", ErrInvalidHeader, err)
	}
	return bz, nil
}

// SealHash is what the validators sign: the header with its seals emptied, its round kept.
func (h *Header) SealHash() (common.Hash, error) { return h.hashWith(true) }

// Hash is the block hash the chain uses: the header with its seals emptied and round 0 (QBFT), or
// without seals and round (IBFT 2.0).
func (h *Header) Hash() (common.Hash, error) { return h.hashWith(false) }

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

// ParentHash is the parent hash of a header's RLP, its first field (the header itself is not parsed
// or checked).
func ParentHash(headerRLP []byte) (common.Hash, error) {
	var fields []rlp.RawValue
	var parent common.Hash
	if err := rlp.DecodeBytes(headerRLP, &fields); err != nil || len(fields) == 0 {
		return parent, fmt.Errorf("header rlp is not a list: %v", err)
	}
	if err := rlp.DecodeBytes(fields[0], &parent); err != nil {
		return parent, fmt.Errorf("parent hash: %w", err)
	}
	return parent, nil
}

// Links reports whether a child's parent hash names the header raw: by its QBFT hash (Besu) or by
// keccak256 of its whole RLP (go-ethereum-based chains such as evmdevnet). Either commits to every
// field of the header.
func Links(raw []byte, parent common.Hash) bool {
	if crypto.Keccak256Hash(raw) == parent {
		return true
	}
	h, err := ParseHeader(raw)
	if err != nil {
		return false
	}
	hash, err := h.Hash()
	return err == nil && hash == parent
}
