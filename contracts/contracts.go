// Package contracts is the Go side of the Solidity contracts in this directory: the compiled artifacts
// of CityAttestationRegistry (build/, written by scripts/contracts.sh from CityAttestationRegistry.sol
// and embedded here) and the registry's storage layout and hashing rules (layout.go), which the city
// chain's x/did, the city-qbft light client and the relayer (its bindings are generated here too, registry.go) share.
//
// The registry's runtime code depends on the EVM chain it is deployed on: its one immutable,
// evmChainId, is block.chainid at deployment, which the EVM writes into the code. RuntimeCodeFor
// computes that code for a chain id and RuntimeCodeHashFor its keccak256, the code hash a city-qbft
// light client of that chain pins; the same contract deployed on another chain (a staging net sealed
// by the same validators) has another code hash, so none of its headers proves our registry's account.
package contracts

import (
	_ "embed" // the solc artifacts below
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// ABI is the registry's JSON ABI, as solc wrote it.
//
//go:embed build/CityAttestationRegistry.abi
var ABI string

// The solc artifacts: bytecode as lowercase hex without 0x, and the immutables' offsets in the runtime
// code.
var (
	//go:embed build/CityAttestationRegistry.bin
	binHex string
	//go:embed build/CityAttestationRegistry.bin-runtime
	binRuntimeHex string
	//go:embed build/CityAttestationRegistry.immutables.json
	immutablesJSON []byte
)

// ChainIDImmutable is the name of the registry's immutable holding block.chainid at deployment.
const ChainIDImmutable = "evmChainId"

// ImmutableRef is where the EVM writes an immutable into the runtime code at deployment: Length bytes
// (a 32-byte word) from byte Start.
type ImmutableRef struct {
	Start  int `json:"start"`
	Length int `json:"length"`
}

var (
	creationCode        = mustHex("bin", binHex)
	runtimeCodeTemplate = mustHex("bin-runtime", binRuntimeHex)
	chainIDRefs         = mustImmutables(immutablesJSON, len(runtimeCodeTemplate))
)

// CreationCode returns the registry's creation code (a copy). A deployment's data is it followed by the
// ABI-encoded constructor argument, the city's chain id (DeployData).
func CreationCode() []byte { return append([]byte(nil), creationCode...) }

// RuntimeCodeTemplate returns the compiler's deployed bytecode (a copy): the runtime code with zeros
// where the immutables go. No deployment leaves exactly this code (block.chainid is never 0 on an
// EIP-155 chain); see RuntimeCodeFor.
func RuntimeCodeTemplate() []byte { return append([]byte(nil), runtimeCodeTemplate...) }

// ImmutableReferences returns the offsets the EVM writes each immutable at, by name, sorted by start.
func ImmutableReferences() map[string][]ImmutableRef {
	return map[string][]ImmutableRef{ChainIDImmutable: append([]ImmutableRef(nil), chainIDRefs...)}
}

// RuntimeCodeFor returns the code a registry deployment leaves on the EVM chain chainID: the template
// with chainID, as a big-endian uint256, at every offset of evmChainId, as the EVM writes it.
func RuntimeCodeFor(chainID uint64) []byte {
	code := RuntimeCodeTemplate()
	var word [32]byte
	binary.BigEndian.PutUint64(word[24:], chainID)
	for _, r := range chainIDRefs {
		copy(code[r.Start:r.Start+r.Length], word[:])
	}
	return code
}

// RuntimeCodeHashFor is keccak256(RuntimeCodeFor(chainID)): the code hash of every registry deployed
// on the EVM chain chainID, which a city-qbft client of that chain must pin.
func RuntimeCodeHashFor(chainID uint64) common.Hash {
	return crypto.Keccak256Hash(RuntimeCodeFor(chainID))
}

func mustHex(name, s string) []byte {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) == 0 {
		panic("contracts: embedded CityAttestationRegistry." + name + " is not hex; run scripts/contracts.sh")
	}
	return b
}

// mustImmutables reads the immutables file: exactly evmChainId, at 32-byte words inside the code.
func mustImmutables(raw []byte, codeLen int) []ImmutableRef {
	refs, err := parseImmutables(raw, codeLen)
	if err != nil {
		panic("contracts: embedded CityAttestationRegistry.immutables.json: " + err.Error() + "; run scripts/contracts.sh")
	}
	return refs
}

func parseImmutables(raw []byte, codeLen int) ([]ImmutableRef, error) {
	var m map[string][]ImmutableRef
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if len(m) != 1 || len(m[ChainIDImmutable]) == 0 {
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("immutables %v, want exactly %s with at least one reference", names, ChainIDImmutable)
	}
	refs := m[ChainIDImmutable]
	for _, r := range refs {
		if r.Length != 32 || r.Start < 0 || r.Start+r.Length > codeLen {
			return nil, fmt.Errorf("%s at %d+%d is not a 32-byte word inside the %d-byte runtime code", ChainIDImmutable, r.Start, r.Length, codeLen)
		}
	}
	return refs, nil
}

// DeployData returns a deployment transaction's data for a registry of the city chainID: the creation
// code followed by the ABI-encoded constructor argument.
func DeployData(chainID string) []byte {
	args := NewCityAttestationRegistry().PackConstructor(chainID)
	return append(CreationCode(), args...)
}
