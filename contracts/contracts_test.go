package contracts

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/state"
	gethtypes "github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm/runtime"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/params"
)

// deployOn runs the registry's creation code in go-ethereum's EVM configured as chain chainID and
// returns the code it leaves and the registry's answer to evmChainId().
func deployOn(t *testing.T, chainID uint64) ([]byte, *big.Int) {
	t.Helper()
	parsed, err := abi.JSON(strings.NewReader(ABI))
	if err != nil {
		t.Fatal(err)
	}
	args, err := parsed.Pack("", "gimpo-evm")
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.New(gethtypes.EmptyRootHash, state.NewDatabaseForTesting())
	if err != nil {
		t.Fatal(err)
	}
	zero := new(big.Int)
	cfg := &runtime.Config{
		ChainConfig: &params.ChainConfig{ChainID: new(big.Int).SetUint64(chainID), HomesteadBlock: zero, EIP150Block: zero,
			EIP155Block: zero, EIP158Block: zero, ByzantiumBlock: zero, ConstantinopleBlock: zero, PetersburgBlock: zero,
			IstanbulBlock: zero, BerlinBlock: zero, LondonBlock: zero},
		Origin: common.HexToAddress("0xad"), BlockNumber: big.NewInt(10), GasLimit: 30_000_000, State: st,
	}
	code, addr, _, err := runtime.Create(append(CreationCode(), args...), cfg)
	if err != nil {
		t.Fatalf("deploy on chain %d: %v", chainID, err)
	}
	input, err := parsed.Pack(ChainIDImmutable)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := runtime.Call(addr, input, cfg)
	if err != nil {
		t.Fatalf("%s(): %v", ChainIDImmutable, err)
	}
	return code, new(big.Int).SetBytes(out)
}

// TestRuntimeCodeFor: the code the EVM leaves at deployment is RuntimeCodeFor(block.chainid), for
// every chain; the registry reports that chain id; two chains' registries differ in code and hash.
func TestRuntimeCodeFor(t *testing.T) {
	refs := ImmutableReferences()[ChainIDImmutable]
	if len(refs) == 0 {
		t.Fatal("no evmChainId reference")
	}
	tmpl := RuntimeCodeTemplate()
	for _, r := range refs {
		if !bytes.Equal(tmpl[r.Start:r.Start+r.Length], make([]byte, 32)) {
			t.Fatalf("template at %d is not the zero placeholder: %x", r.Start, tmpl[r.Start:r.Start+r.Length])
		}
	}
	hashes := map[common.Hash]uint64{}
	for _, chainID := range []uint64{1, 1337, 7001, 7002, 1<<64 - 1} {
		code, reported := deployOn(t, chainID)
		want := RuntimeCodeFor(chainID)
		if !bytes.Equal(code, want) {
			t.Fatalf("chain %d: deployed code differs from RuntimeCodeFor", chainID)
		}
		if got := crypto.Keccak256Hash(code); got != RuntimeCodeHashFor(chainID) {
			t.Fatalf("chain %d: code hash %s, RuntimeCodeHashFor %s", chainID, got, RuntimeCodeHashFor(chainID))
		}
		if !reported.IsUint64() || reported.Uint64() != chainID {
			t.Fatalf("chain %d: evmChainId() = %s", chainID, reported)
		}
		for _, r := range refs {
			if got := binary.BigEndian.Uint64(want[r.Start+24 : r.Start+32]); got != chainID || !bytes.Equal(want[r.Start:r.Start+24], make([]byte, 24)) {
				t.Fatalf("chain %d: word at %d is %x", chainID, r.Start, want[r.Start:r.Start+32])
			}
		}
		if other, dup := hashes[RuntimeCodeHashFor(chainID)]; dup {
			t.Fatalf("chains %d and %d have one code hash", other, chainID)
		}
		hashes[RuntimeCodeHashFor(chainID)] = chainID
		t.Logf("chain %d: %d bytes of runtime code, code hash %s", chainID, len(code), RuntimeCodeHashFor(chainID))
	}
	// The accessors hand out copies: a caller cannot change what later callers get.
	RuntimeCodeTemplate()[0] ^= 0xff
	CreationCode()[0] ^= 0xff
	ImmutableReferences()[ChainIDImmutable][0].Start = 0
	if !bytes.Equal(RuntimeCodeTemplate(), tmpl) || ImmutableReferences()[ChainIDImmutable][0] != refs[0] {
		t.Fatal("an accessor returned the package's own slice")
	}
}

func TestParseImmutables(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"no immutables", `{}`, "want exactly evmChainId"},
		{"another immutable", `{"evmChainId":[{"start":0,"length":32}],"other":[{"start":32,"length":32}]}`, "want exactly evmChainId"},
		{"no reference", `{"evmChainId":[]}`, "want exactly evmChainId"},
		{"short word", `{"evmChainId":[{"start":0,"length":20}]}`, "not a 32-byte word"},
		{"past the code", `{"evmChainId":[{"start":90,"length":32}]}`, "not a 32-byte word"},
		{"negative", `{"evmChainId":[{"start":-1,"length":32}]}`, "not a 32-byte word"},
		{"not json", `[`, "unexpected end"},
	} {
		if _, err := parseImmutables([]byte(tc.raw), 100); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if refs, err := parseImmutables([]byte(`{"evmChainId":[{"start":68,"length":32}]}`), 100); err != nil || len(refs) != 1 || refs[0].Start != 68 {
		t.Fatalf("a valid file: %v %v", refs, err)
	}
}
