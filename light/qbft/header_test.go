package qbft_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"

	"github.com/cityrelay/cityrelay/light/qbft"
)

// besuHeader is a real Besu QBFT header (block 7528), from testdata/ (its README gives its source and
// what a correct verifier computes from it).
func besuHeader(t testing.TB) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "besu-qbft-block-7528.header.hex"))
	if err != nil {
		t.Fatalf("test vector: %v", err)
	}
	bz, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(raw)), "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return bz
}

func TestBesuVector(t *testing.T) {
	h, err := qbft.ParseHeader(besuHeader(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.Number().Int64() != 7528 {
		t.Fatalf("number %s", h.Number())
	}
	want := []string{"0x647BfdD19655e51E69D35454fF3A92F8828e6302", "0xA5C8416b9d13417b45B45ada76408f39d1E504Ef",
		"0xB92e91F4DcC9d28503be521aFa2a8FBf3C1aCf60", "0xEE3353E587CFA91625A1ADAeF308a726de3803D3"}
	for i, v := range h.Validators() {
		if v != common.HexToAddress(want[i]) {
			t.Fatalf("validator %d: %s, want %s", i, v, want[i])
		}
	}
	sh, err := h.SealHash()
	if err != nil || hex.EncodeToString(sh[:]) != "75ea184f58cd3f0ef89032a069df01f07ec524ef3a85cf6d3e424d62130c0a32" {
		t.Fatalf("seal hash %x %v", sh, err)
	}
	bh, err := h.Hash()
	if err != nil || hex.EncodeToString(bh[:]) != "502568a07cc2303558ed8eea495d61255946a14c46be5ead61cdc737bdeaaf42" {
		t.Fatalf("block hash %x %v", bh, err)
	}
	signers, err := h.VerifySeals()
	if err != nil {
		t.Fatalf("the Besu block's seals: %v", err)
	}
	wantSigners := []string{want[0], want[3], want[1]}
	for i, s := range signers {
		if s != common.HexToAddress(wantSigners[i]) {
			t.Fatalf("signer %d: %s, want %s", i, s, wantSigners[i])
		}
	}
}

func TestQuorum(t *testing.T) {
	for n, q := range map[int]int{1: 1, 3: 2, 4: 3, 6: 4, 7: 5, 21: 14, 100: 67} {
		if got := qbft.Quorum(n); got != q {
			t.Errorf("quorum of %d: %d, want %d", n, got, q)
		}
	}
}

// chain builds headers in the Besu block's shape with validators and seals of our own keys.
type chain struct {
	t      testing.TB
	fields []rlp.RawValue
	keys   []*ecdsa.PrivateKey
}

func newChain(t testing.TB, n int) *chain {
	t.Helper()
	c := &chain{t: t}
	if err := rlp.DecodeBytes(besuHeader(t), &c.fields); err != nil {
		t.Fatal(err)
	}
	for range n {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		c.keys = append(c.keys, k)
	}
	// Besu requires a header's validators in ascending order; keep the keys in that order.
	sort.Slice(c.keys, func(i, j int) bool {
		a, b := crypto.PubkeyToAddress(c.keys[i].PublicKey), crypto.PubkeyToAddress(c.keys[j].PublicKey)
		return bytes.Compare(a[:], b[:]) < 0
	})
	return c
}

type extra struct {
	Vanity     []byte
	Validators []common.Address
	Vote       rlp.RawValue
	Round      rlp.RawValue
	Seals      [][]byte
}

func (c *chain) addrs(keys []*ecdsa.PrivateKey) []common.Address {
	var out []common.Address
	for _, k := range keys {
		out = append(out, crypto.PubkeyToAddress(k.PublicKey))
	}
	return out
}

func (c *chain) set(i int, v any) {
	bz, err := rlp.EncodeToBytes(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.fields[i] = bz
}

// header encodes block number at time with validators and round, sealed by signers over the seal
// hash of sealRound (the header's round unless a test says otherwise); tamper runs after sealing.
func (c *chain) header(number, at uint64, validators []common.Address, round, sealRound uint64, signers []*ecdsa.PrivateKey, tamper func(*chain)) *qbft.Header {
	c.t.Helper()
	c.set(8, new(big.Int).SetUint64(number))
	c.set(11, at)
	encode := func(r uint64, seals [][]byte) []byte {
		rr, _ := rlp.EncodeToBytes(r)
		bz, err := rlp.EncodeToBytes(&extra{Vanity: make([]byte, 32), Validators: validators, Vote: rlp.RawValue{0xc0}, Round: rr, Seals: seals})
		if err != nil {
			c.t.Fatal(err)
		}
		return bz
	}
	c.set(12, encode(sealRound, [][]byte{}))
	unsealed, err := rlp.EncodeToBytes(c.fields)
	if err != nil {
		c.t.Fatal(err)
	}
	h, err := qbft.ParseHeader(unsealed)
	if err != nil {
		c.t.Fatal(err)
	}
	sh, err := h.SealHash()
	if err != nil {
		c.t.Fatal(err)
	}
	var seals [][]byte
	for _, k := range signers {
		sig, err := crypto.Sign(sh.Bytes(), k)
		if err != nil {
			c.t.Fatal(err)
		}
		seals = append(seals, sig)
	}
	c.set(12, encode(round, seals))
	if tamper != nil {
		tamper(c)
	}
	bz, err := rlp.EncodeToBytes(c.fields)
	if err != nil {
		c.t.Fatal(err)
	}
	if h, err = qbft.ParseHeader(bz); err != nil {
		c.t.Fatal(err)
	}
	return h
}

func TestSealsRefused(t *testing.T) {
	c := newChain(t, 7)
	four, six := c.keys[:4], c.keys[:6]
	outsider := c.keys[6]
	for _, tc := range []struct {
		name       string
		validators []*ecdsa.PrivateKey
		round      uint64
		sealRound  uint64
		signers    []*ecdsa.PrivateKey
		tamper     func(*chain)
		want       error
	}{
		{"3 of 4 pass", four, 1, 1, four[:3], nil, nil},
		{"2 of 4", four, 1, 1, four[:2], nil, qbft.ErrNoQuorum},
		{"4 of 6 pass", six, 1, 1, six[:4], nil, nil},
		{"3 of 6", six, 1, 1, six[:3], nil, qbft.ErrNoQuorum},
		{"a seal from a non-validator", four, 1, 1, []*ecdsa.PrivateKey{four[0], four[1], outsider}, nil, qbft.ErrBadSeal},
		{"a duplicate seal", four, 1, 1, []*ecdsa.PrivateKey{four[0], four[1], four[1]}, nil, qbft.ErrBadSeal},
		{"more seals than validators", four, 1, 1, []*ecdsa.PrivateKey{four[0], four[1], four[2], four[3], four[0]}, nil, qbft.ErrBadSeal},
		{"seals over another round", four, 1, 2, four[:3], nil, qbft.ErrBadSeal},
		{"state root changed after sealing", four, 1, 1, four[:3], func(c *chain) { c.set(3, common.HexToHash("0x01")) }, qbft.ErrBadSeal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := c.header(100, 1_800_000_000, c.addrs(tc.validators), tc.round, tc.sealRound, tc.signers, tc.tamper)
			_, err := h.VerifySeals()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
}

func TestSkippingVerification(t *testing.T) {
	c := newChain(t, 8)
	old, next := c.keys[:4], c.keys[2:6] // two validators stay, two are replaced
	now := time.Unix(1_800_000_000, 0)
	tr := qbft.Trusted{Number: big.NewInt(100), Time: now.Add(-time.Hour), Validators: c.addrs(old)}
	o := qbft.Options{TrustingPeriod: 24 * time.Hour, MaxClockDrift: 10 * time.Second}

	// The new set's quorum sealed it, and two of the trusted four (f+1 = 2) are among the signers.
	h := c.header(5000, uint64(now.Unix()-5), c.addrs(next), 0, 0, next[:3], nil)
	if _, err := qbft.Verify(tr, h, o, now); err != nil {
		t.Fatalf("skip with f+1 trusted signers: %v", err)
	}
	// Only one trusted validator among the signers: below f+1.
	h = c.header(5000, uint64(now.Unix()-5), c.addrs(c.keys[3:7]), 0, 0, c.keys[3:6], nil)
	if _, err := qbft.Verify(tr, h, o, now); !errors.Is(err, qbft.ErrTrustOverlap) {
		t.Fatalf("trusted overlap below f+1: %v", err)
	}
	h = c.header(5000, uint64(now.Unix()-5), c.addrs(next), 0, 0, next[:3], nil)
	if _, err := qbft.Verify(tr, h, o, now.Add(24*time.Hour)); !errors.Is(err, qbft.ErrExpired) {
		t.Fatalf("expired trust: %v", err)
	}
	h = c.header(5000, uint64(now.Unix()+60), c.addrs(next), 0, 0, next[:3], nil)
	if _, err := qbft.Verify(tr, h, o, now); !errors.Is(err, qbft.ErrFuture) {
		t.Fatalf("a header a minute in the future: %v", err)
	}
	h = c.header(100, uint64(now.Unix()-5), c.addrs(next), 0, 0, next[:3], nil)
	if _, err := qbft.Verify(tr, h, o, now); !errors.Is(err, qbft.ErrNotNewer) {
		t.Fatalf("a header not newer than the trusted one: %v", err)
	}
	h = c.header(5000, uint64(tr.Time.Unix()-1), c.addrs(next), 0, 0, next[:3], nil)
	if _, err := qbft.Verify(tr, h, o, now); !errors.Is(err, qbft.ErrTimeOrder) {
		t.Fatalf("a newer block with an earlier time: %v", err)
	}
	h = c.header(5000, 1<<63+5, c.addrs(next), 0, 0, next[:3], nil)
	if _, err := qbft.Verify(tr, h, o, now); !errors.Is(err, qbft.ErrFuture) {
		t.Fatalf("a time that overflows int64: %v", err)
	}
}

func TestGarbageRefused(t *testing.T) {
	for _, bz := range [][]byte{nil, {0xc0}, {0xff, 0x00}, besuHeader(t)[:100]} {
		if _, err := qbft.ParseHeader(bz); !errors.Is(err, qbft.ErrInvalidHeader) {
			t.Fatalf("parse %x: %v", bz, err)
		}
	}
}

// BenchmarkVerifySeals verifies a header sealed by a quorum of n validators (one signature recovery
// per seal dominates).
func BenchmarkVerifySeals(b *testing.B) {
	for _, n := range []int{4, 21, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			c := newChain(b, n)
			h := c.header(100, 1_800_000_000, c.addrs(c.keys), 0, 0, c.keys[:qbft.Quorum(n)], nil)
			b.ResetTimer()
			for b.Loop() {
				if _, err := h.VerifySeals(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestIBFT2Header: IBFT 2.0 (Besu's IbftExtraDataCodec) writes the round as 4 bytes and no vote as an
// empty string; its seals sign the header with extraData [vanity, validators, vote, round] (no seals
// list at all), and its on-chain hash leaves the round out too.
func TestIBFT2Header(t *testing.T) {
	c := newChain(t, 4)
	validators := c.addrs(c.keys)
	round := rlp.RawValue{0x84, 0, 0, 0, 2}
	hashOver := func(list []any) common.Hash {
		extraBz, err := rlp.EncodeToBytes(list)
		if err != nil {
			t.Fatal(err)
		}
		c.set(12, extraBz)
		bz, err := rlp.EncodeToBytes(c.fields)
		if err != nil {
			t.Fatal(err)
		}
		return crypto.Keccak256Hash(bz)
	}
	c.set(8, big.NewInt(42))
	c.set(11, uint64(1_800_000_000))
	sealHash := hashOver([]any{make([]byte, 32), validators, rlp.RawValue{0x80}, round})
	onChain := hashOver([]any{make([]byte, 32), validators, rlp.RawValue{0x80}})
	var seals [][]byte
	for _, k := range c.keys[:3] {
		sig, err := crypto.Sign(sealHash.Bytes(), k)
		if err != nil {
			t.Fatal(err)
		}
		seals = append(seals, sig)
	}
	full, err := rlp.EncodeToBytes(&extra{Vanity: make([]byte, 32), Validators: validators, Vote: rlp.RawValue{0x80}, Round: round, Seals: seals})
	if err != nil {
		t.Fatal(err)
	}
	c.set(12, full)
	bz, err := rlp.EncodeToBytes(c.fields)
	if err != nil {
		t.Fatal(err)
	}
	h, err := qbft.ParseHeader(bz)
	if err != nil {
		t.Fatal(err)
	}
	if !h.IsIBFT2() {
		t.Fatal("a 4-byte round must read as IBFT 2.0")
	}
	if got, _ := h.SealHash(); got != sealHash {
		t.Fatalf("seal hash %s, want %s", got, sealHash)
	}
	if got, _ := h.Hash(); got != onChain {
		t.Fatalf("on-chain hash %s, want %s", got, onChain)
	}
	signers, err := h.VerifySeals()
	if err != nil || len(signers) != 3 {
		t.Fatalf("IBFT 2.0 seals: %v %v", signers, err)
	}
	if qb, _ := qbft.ParseHeader(besuHeader(t)); qb.IsIBFT2() {
		t.Fatal("the Besu QBFT vector read as IBFT 2.0")
	}
}
