package qbft_test

import (
	"crypto/ecdsa"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/cityrelay/cityrelay/light/qbft"
)

// Tests of the rules Besu applies to QBFT and IBFT 2.0 extraData (QbftExtraDataCodec,
// IbftExtraDataCodec, BftBlockHashing, BftValidatorsValidationRule). Each expected hash is computed
// here from the extraData Besu's codec would write, not by the package under test.

// withExtra is the header RLP of c's block number with extraData encoded from list.
func (c *chain) withExtra(number uint64, list []any) []byte {
	c.t.Helper()
	c.set(8, new(big.Int).SetUint64(number))
	c.set(11, uint64(1_800_000_000))
	extraBz, err := rlp.EncodeToBytes(list)
	if err != nil {
		c.t.Fatal(err)
	}
	c.set(12, extraBz)
	bz, err := rlp.EncodeToBytes(c.fields)
	if err != nil {
		c.t.Fatal(err)
	}
	return bz
}

// sealAll signs hash with keys.
func sealAll(t *testing.T, hash common.Hash, keys []*ecdsa.PrivateKey) [][]byte {
	t.Helper()
	var seals [][]byte
	for _, k := range keys {
		sig, err := crypto.Sign(hash.Bytes(), k)
		if err != nil {
			t.Fatal(err)
		}
		seals = append(seals, sig)
	}
	return seals
}

func raw(b ...byte) rlp.RawValue { return rlp.RawValue(b) }

// Besu hashes the genesis block with its extraData as it is (BftBlockHashing.serializeHeader), so a
// Besu IBFT 2.0 genesis, whose extraData carries a 4-byte round 0 and an empty seals list, hashes to
// keccak256 of its RLP: block 1's parentHash.
func TestBesuGenesisHashedAsIs(t *testing.T) {
	c := newChain(t, 4)
	vals := c.addrs(c.keys)
	for _, tc := range []struct {
		name  string
		extra []any
	}{
		{"ibft2 genesis (IbftExtraDataCodec.createGenesisExtraDataString)", []any{make([]byte, 32), vals, raw(0x80), raw(0x84, 0, 0, 0, 0), [][]byte{}}},
		{"qbft genesis with an item after the seals", []any{make([]byte, 32), vals, raw(0xc0), raw(0x80), [][]byte{}, raw(0x01)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bz := c.withExtra(0, tc.extra)
			want := crypto.Keccak256Hash(bz)
			h, err := qbft.ParseHeader(bz)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := h.Hash(); err != nil || got != want {
				t.Fatalf("genesis hash %s (%v), want %s (keccak256 of the header as it is)", got, err, want)
			}
			if got, err := h.SealHash(); err != nil || got != want {
				t.Fatalf("genesis seal hash %s (%v), want %s", got, err, want)
			}
		})
	}
}

// What Besu's codecs refuse, and validators out of ascending order (BftValidatorsValidationRule).
func TestBesuRefusesMalformedExtraData(t *testing.T) {
	c := newChain(t, 4)
	vals := c.addrs(c.keys)
	v := make([]byte, 32)
	rcpt := vals[0]
	rev := []common.Address{vals[3], vals[2], vals[1], vals[0]}
	dup := []common.Address{vals[0], vals[1], vals[1], vals[2]}
	for _, tc := range []struct {
		name  string
		extra []any
		why   string
	}{
		{"qbft vote type 0xaa", []any{v, vals, []any{rcpt, raw(0x81, 0xaa)}, raw(0x01), [][]byte{}}, "vote type"},
		{"ibft2 vote type 0xaa", []any{v, vals, []any{rcpt, raw(0x81, 0xaa)}, raw(0x84, 0, 0, 0, 1), [][]byte{}}, "vote type"},
		{"qbft vote type 0x01", []any{v, vals, []any{rcpt, raw(0x01)}, raw(0x01), [][]byte{}}, "vote type"},
		{"vote of three items", []any{v, vals, []any{rcpt, raw(0x81, 0xff), raw(0x01)}, raw(0x01), [][]byte{}}, "vote has 3 items"},
		{"19-byte vote recipient", []any{v, vals, []any{rcpt[:19], raw(0x81, 0xff)}, raw(0x01), [][]byte{}}, "vote recipient is 19 bytes"},
		{"vote recipient a list", []any{v, vals, []any{[]any{rcpt}, raw(0x81, 0xff)}, raw(0x01), [][]byte{}}, "vote recipient is a list"},
		{"qbft round with a leading zero", []any{v, vals, raw(0xc0), raw(0x83, 0x00, 0xdc, 0xba), [][]byte{}}, "leading zero"},
		{"qbft round of 5 bytes", []any{v, vals, raw(0xc0), raw(0x85, 1, 0, 0, 0, 0), [][]byte{}}, "at most 4"},
		{"ibft2 round of 3 bytes", []any{v, vals, raw(0x80), raw(0x83, 0xdc, 0xba, 0x01), [][]byte{}}, "want 4"},
		{"ibft2 round of 5 bytes", []any{v, vals, raw(0x80), raw(0x85, 0, 0, 0, 0, 1), [][]byte{}}, "want 4"},
		{"validators in descending order", []any{v, rev, raw(0xc0), raw(0x01), [][]byte{}}, "ascending"},
		{"a validator twice", []any{v, dup, raw(0xc0), raw(0x01), [][]byte{}}, "twice"},
		{"ibft2 item after the seals", []any{v, vals, raw(0x80), raw(0x84, 0, 0, 0, 1), [][]byte{}, raw(0x01)}, "vote"},
		{"vote written flat (QbftExtraDataCodecTest.incorrectlyEncodedRoundThrowsRlpException)", []any{v, vals, rcpt, raw(0x81, 0xff), raw(0x83, 0, 0xdc, 0xba), [][]byte{}}, "vote is a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := qbft.ParseHeader(c.withExtra(42, tc.extra))
			if !errors.Is(err, qbft.ErrInvalidHeader) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("want an invalid header error about %q, got %v", tc.why, err)
			}
		})
	}
	// Genesis is exempt from the ordering rule (Besu does not validate it), not from duplicates.
	if _, err := qbft.ParseHeader(c.withExtra(0, []any{v, rev, raw(0xc0), raw(0x80), [][]byte{}})); err != nil {
		t.Fatalf("genesis with validators in descending order: %v", err)
	}
	if _, err := qbft.ParseHeader(c.withExtra(0, []any{v, dup, raw(0xc0), raw(0x80), [][]byte{}})); err == nil {
		t.Fatal("genesis with a validator twice accepted")
	}
}

// Besu's QBFT codec reads a drop vote's type written as 0x80, 0xc0 or 0x00 and ignores items after
// the seals, and both hashes re-encode canonically: each such copy of a block verifies and hashes as
// the block does.
func TestBesuQBFTAcceptedEncodings(t *testing.T) {
	c := newChain(t, 4)
	vals := c.addrs(c.keys)
	v := make([]byte, 32)
	drop := func(typ rlp.RawValue) []any { return []any{vals[2], typ} }
	sealHash := crypto.Keccak256Hash(c.withExtra(42, []any{v, vals, drop(raw(0x80)), raw(0x01), [][]byte{}}))
	blockHash := crypto.Keccak256Hash(c.withExtra(42, []any{v, vals, drop(raw(0x80)), raw(0x80), [][]byte{}}))
	seals := sealAll(t, sealHash, c.keys[:3])
	for _, tc := range []struct {
		name  string
		extra []any
	}{
		{"drop as 0x80 (canonical)", []any{v, vals, drop(raw(0x80)), raw(0x01), seals}},
		{"drop as 0x00", []any{v, vals, drop(raw(0x00)), raw(0x01), seals}},
		{"drop as an empty list", []any{v, vals, drop(raw(0xc0)), raw(0x01), seals}},
		{"an item after the seals", []any{v, vals, drop(raw(0x80)), raw(0x01), seals, raw(0x01)}},
		{"a list and a string after the seals", []any{v, vals, drop(raw(0x00)), raw(0x01), seals, []any{raw(0x01)}, []byte("extra")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := qbft.ParseHeader(c.withExtra(42, tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			if h.IsIBFT2() {
				t.Fatal("read as IBFT 2.0")
			}
			if got, err := h.SealHash(); err != nil || got != sealHash {
				t.Fatalf("seal hash %s (%v), want %s", got, err, sealHash)
			}
			if got, err := h.Hash(); err != nil || got != blockHash {
				t.Fatalf("block hash %s (%v), want %s", got, err, blockHash)
			}
			if signers, err := h.VerifySeals(); err != nil || len(signers) != 3 {
				t.Fatalf("seals: %v %v", signers, err)
			}
		})
	}
}

// A QBFT round of 2^24 or more is a 4-byte scalar, as IBFT 2.0 writes its round; QBFT's empty vote
// (an empty list, IBFT 2.0's is an empty string) says which it is.
func TestBesuQBFTRoundAbove24Bits(t *testing.T) {
	c := newChain(t, 4)
	vals := c.addrs(c.keys)
	v := make([]byte, 32)
	round := raw(0x84, 0x01, 0, 0, 0)
	sealHash := crypto.Keccak256Hash(c.withExtra(42, []any{v, vals, raw(0xc0), round, [][]byte{}}))
	blockHash := crypto.Keccak256Hash(c.withExtra(42, []any{v, vals, raw(0xc0), raw(0x80), [][]byte{}}))
	h, err := qbft.ParseHeader(c.withExtra(42, []any{v, vals, raw(0xc0), round, sealAll(t, sealHash, c.keys[:3])}))
	if err != nil {
		t.Fatal(err)
	}
	if h.IsIBFT2() {
		t.Fatal("a QBFT header with round 2^24 read as IBFT 2.0")
	}
	if got, err := h.SealHash(); err != nil || got != sealHash {
		t.Fatalf("seal hash %s (%v), want %s", got, err, sealHash)
	}
	if got, err := h.Hash(); err != nil || got != blockHash {
		t.Fatalf("block hash %s (%v), want %s", got, err, blockHash)
	}
	if _, err := h.VerifySeals(); err != nil {
		t.Fatal(err)
	}
}
