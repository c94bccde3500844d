package qbft

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// Vectors from Besu's own tests (testdata/README.md names each one's source file and test).

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	bz, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return bz
}

// readVectors reads a testdata file of whitespace-separated lines, skipping # comments.
func readVectors(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.Fields(l))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func seal(r, s int64) []byte {
	out := make([]byte, 65)
	big.NewInt(r).FillBytes(out[:32])
	big.NewInt(s).FillBytes(out[32:64])
	return out
}

// TestBesuQbftExtraDataCodecVectors checks QbftExtraDataCodecTest's cases: what it decodes (and to
// what), what it refuses, and its encodings without seals (seal hash) and without seals and round
// (block hash).
func TestBesuQbftExtraDataCodecVectors(t *testing.T) {
	vs := readVectors(t, "besu-qbft-extradata-codec.txt")
	if len(vs) != 9 {
		t.Fatalf("%d vectors, want 9", len(vs))
	}
	nonEmptyVanity := make([]byte, 32)
	for i := range nonEmptyVanity {
		nonEmptyVanity[i] = byte(i + 1)
	}
	one, two := common.BigToAddress(big.NewInt(1)), common.BigToAddress(big.NewInt(2))
	raw := mustHex(t, vs[0][2])
	want := map[string]extraData{
		"decodingOfKnownRawHexStringMatchesKnowExtraDataObject": {Vanity: nonEmptyVanity, Validators: []common.Address{one, two},
			Vote: vote{present: true, recipient: one, add: true}, Round: 0xfedcba, Seals: [][]byte{seal(1, 10), seal(10, 1)}},
		"correctlyCodedRoundConstitutesValidContent": {Vanity: make([]byte, 32), Vote: vote{present: true, recipient: one, add: true}, Round: 0xdcba},
		"nullVoteAndListConstituteValidContent":      {Vanity: make([]byte, 32), Round: 0xfedcba},
		"emptyListConstituteValidContent":            {Vanity: make([]byte, 32), Vote: vote{present: true, recipient: one}, Round: 0xfedcba},
	}
	for _, v := range vs {
		name, kind, bz := v[0], v[1], mustHex(t, v[2])
		t.Run(name, func(t *testing.T) {
			switch kind {
			case "accept":
				for _, p := range []Protocol{QBFT, 0} {
					e, got, err := decodeExtra(bz, p, false)
					if err != nil {
						t.Fatalf("as %s: %v", p, err)
					}
					if got != QBFT {
						t.Fatalf("read as %s", got)
					}
					w := want[name]
					if !bytes.Equal(e.Vanity, w.Vanity) || len(e.Validators) != len(w.Validators) || e.Vote != w.Vote || e.Round != w.Round || len(e.Seals) != len(w.Seals) {
						t.Fatalf("decoded %+v, want %+v", e, w)
					}
					for i := range w.Validators {
						if e.Validators[i] != w.Validators[i] {
							t.Fatalf("validator %d %s, want %s", i, e.Validators[i], w.Validators[i])
						}
					}
					for i := range w.Seals {
						if !bytes.Equal(e.Seals[i], w.Seals[i]) {
							t.Fatalf("seal %d %x, want %x", i, e.Seals[i], w.Seals[i])
						}
					}
				}
			case "refuse":
				why := map[string]string{
					"incorrectlyEncodedRoundThrowsRlpException": "vote is a string", // Besu too fails entering the vote list
					"incorrectlyStructuredRlpThrowsException":   "leading zero",
					"incorrectVoteTypeThrowsException":          "vote type",
				}[name]
				if _, _, err := decodeExtra(bz, QBFT, false); !errors.Is(err, ErrInvalidHeader) || why == "" || !strings.Contains(err.Error(), why) {
					t.Fatalf("want a refusal about %q, got %v", why, err)
				}
			case "sealhash", "blockhash":
				e, _, err := decodeExtra(raw, QBFT, false)
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.encodeForHash(QBFT, kind == "sealhash")
				if err != nil || !bytes.Equal(got, bz) {
					t.Fatalf("encoded %x (%v), want %x", got, err, bz)
				}
			default:
				t.Fatalf("unknown kind %q", kind)
			}
		})
	}
}

// TestBesuBftBlockHashingVector rebuilds BftBlockHashingTest's IBFT 2.0 header (its fields, its extraData
// and seals by the private keys 1 to 4) and checks its three tests: the on-chain hash is the header
// with extraData [vanity, validators, vote] (testCalculateHashOfIbft2BlockOnchain), the seals were
// made over the header with extraData [vanity, validators, vote, round] (testCalculateDataHashForCommittedSeal)
// and recover to the keys' addresses in order (testRecoverCommitterAddresses).
func TestBesuBftBlockHashingVector(t *testing.T) {
	f := map[string][]string{}
	for _, v := range readVectors(t, "besu-ibft2-bftblockhashing.txt") {
		f[v[0]] = v[1:]
	}
	u := func(k string) uint64 {
		n, err := strconv.ParseUint(f[k][0], 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return n
	}
	var vals []common.Address
	for _, a := range f["validators"] {
		vals = append(vals, common.BytesToAddress(mustHex(t, a)))
	}
	vanity, round := mustHex(t, f["vanity"][0]), mustHex(t, f["round"][0])
	voteItem := []any{common.BytesToAddress(mustHex(t, f["voteAdd"][0])), rlp.RawValue{0x81, 0xff}}
	header := func(extra []any) []byte {
		bz, err := rlp.EncodeToBytes(extra)
		if err != nil {
			t.Fatal(err)
		}
		h := &types.Header{
			ParentHash: common.BytesToHash(mustHex(t, f["parentHash"][0])), UncleHash: common.BytesToHash(mustHex(t, f["ommersHash"][0])),
			Coinbase: common.BytesToAddress(mustHex(t, f["coinbase"][0])), Root: common.BytesToHash(mustHex(t, f["stateRoot"][0])),
			TxHash: common.BytesToHash(mustHex(t, f["transactionsRoot"][0])), ReceiptHash: common.BytesToHash(mustHex(t, f["receiptsRoot"][0])),
			Bloom: types.BytesToBloom(mustHex(t, f["logsBloom"][0])), Difficulty: new(big.Int).SetUint64(u("difficulty")),
			Number: new(big.Int).SetUint64(u("number")), GasLimit: u("gasLimit"), GasUsed: u("gasUsed"), Time: u("timestamp"),
			Extra: bz, MixDigest: common.BytesToHash(mustHex(t, f["mixHash"][0])), Nonce: types.EncodeNonce(u("nonce")),
		}
		out, err := rlp.EncodeToBytes(h)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sealHash := crypto.Keccak256Hash(header([]any{vanity, vals, voteItem, round}))
	onChain := crypto.Keccak256Hash(header([]any{vanity, vals, voteItem}))
	var seals [][]byte
	var committers []common.Address
	for _, k := range f["committerKeys"] {
		n, _ := new(big.Int).SetString(k, 10)
		key, err := crypto.ToECDSA(common.BigToHash(n).Bytes())
		if err != nil {
			t.Fatal(err)
		}
		sig, err := crypto.Sign(sealHash.Bytes(), key)
		if err != nil {
			t.Fatal(err)
		}
		seals = append(seals, sig)
		committers = append(committers, crypto.PubkeyToAddress(key.PublicKey))
	}
	h, err := ParseHeader(header([]any{vanity, vals, voteItem, round, seals}))
	if err != nil {
		t.Fatal(err)
	}
	if h.Protocol() != IBFT2 {
		t.Fatalf("read as %s", h.Protocol())
	}
	if got, err := h.Hash(); err != nil || got != onChain {
		t.Fatalf("testCalculateHashOfIbft2BlockOnchain: %s (%v), want %s", got, err, onChain)
	}
	got, err := h.SealHash()
	if err != nil || got != sealHash {
		t.Fatalf("testCalculateDataHashForCommittedSeal: %s (%v), want %s", got, err, sealHash)
	}
	for i, s := range h.extra.Seals {
		pub, err := crypto.SigToPub(got.Bytes(), s)
		if err != nil || crypto.PubkeyToAddress(*pub) != committers[i] {
			t.Fatalf("testRecoverCommitterAddresses: seal %d: %v", i, err)
		}
	}
}

// TestBesuValidatorsValidationRuleVectors checks BftValidatorsValidationRuleTest's orderings.
func TestBesuValidatorsValidationRuleVectors(t *testing.T) {
	a := func(n int64) common.Address { return common.BigToAddress(big.NewInt(n)) }
	for _, tc := range []struct {
		name string
		vals []common.Address
		ok   bool
	}{
		{"correctlyConstructedHeaderPassesValidation", []common.Address{a(1), a(2), a(3)}, true},
		{"validatorsInNonAscendingOrderFailValidation", []common.Address{a(3), a(2), a(1)}, false},
		{"mismatchingReportedValidatorsVsLocallyStoredListFailsValidation", []common.Address{a(4), a(3), a(2)}, false},
	} {
		bz, err := rlp.EncodeToBytes([]any{make([]byte, 32), tc.vals, rlp.RawValue{0xc0}, uint64(1), [][]byte{}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := decodeExtra(bz, QBFT, false); (err == nil) != tc.ok {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
}

// The protocol from the config reads what detection cannot, and a QBFT round of 2^31 or more is
// hashed as Besu's int holds it.
func TestProtocolGiven(t *testing.T) {
	vals := []common.Address{common.BigToAddress(big.NewInt(1)), common.BigToAddress(big.NewInt(2))}
	vt := []any{vals[0], rlp.RawValue{0x81, 0xff}}
	bz, err := rlp.EncodeToBytes([]any{make([]byte, 32), vals, vt, rlp.RawValue{0x84, 0x81, 0, 0, 0}, [][]byte{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := decodeExtra(bz, 0, false); !errors.Is(err, ErrAmbiguousProtocol) {
		t.Fatalf("ambiguous extraData detected: %v", err)
	}
	for _, p := range []Protocol{QBFT, IBFT2} {
		e, got, err := decodeExtra(bz, p, false)
		if err != nil || got != p || e.Round != 0x81000000 {
			t.Fatalf("as %s: %v %s %#x", p, err, got, e.Round)
		}
	}
	e, _, _ := decodeExtra(bz, QBFT, false)
	enc, err := e.encodeForHash(QBFT, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x88, 0xff, 0xff, 0xff, 0xff, 0x81, 0, 0, 0, 0xc0}; !bytes.HasSuffix(enc, want) {
		t.Fatalf("round 0x81000000 encoded %x, want it to end %x", enc, want)
	}
	if _, _, err := decodeExtra(bz, Protocol(7), false); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("unknown protocol: %v", err)
	}
}
