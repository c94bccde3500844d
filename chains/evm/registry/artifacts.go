package registry

import (
	_ "embed" // the solc artifacts below
	"encoding/hex"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// ABI is the contract's JSON ABI, as solc wrote it.
//
//go:embed CityAttestationRegistry.abi
var ABI string

// The solc bytecode, lowercase hex without 0x. These files are copies of contracts/build's, made by
// scripts/contracts.sh: go:embed cannot reach outside the package directory.
var (
	//go:embed CityAttestationRegistry.bin
	binHex string
	//go:embed CityAttestationRegistry.bin-runtime
	binRuntimeHex string
)

var (
	// Bytecode is the creation code; a deployment's data is Bytecode followed by the ABI-encoded
	// constructor argument (see DeployData).
	Bytecode = mustHex("bin", binHex)
	// RuntimeCode is the code a deployment leaves at the contract's address. The contract has no
	// immutables (contracts/compile.js refuses them), so it is exactly the compiler's deployed bytecode,
	// whatever the constructor argument.
	RuntimeCode = mustHex("bin-runtime", binRuntimeHex)
	// RuntimeCodeHash is keccak256(RuntimeCode): the code hash of every deployed registry, which the
	// city-qbft light client pins and checks against the registry's account proof.
	RuntimeCodeHash = common.BytesToHash(crypto.Keccak256(RuntimeCode))
)

// DeployData returns a deployment transaction's data for a registry of the city chainID: the creation
// code followed by the ABI-encoded constructor argument.
func DeployData(chainID string) []byte {
	args := NewCityAttestationRegistry().PackConstructor(chainID)
	return append(append([]byte{}, Bytecode...), args...)
}

func mustHex(name, s string) []byte {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) == 0 {
		panic("registry: embedded CityAttestationRegistry." + name + " is not hex; run scripts/contracts.sh")
	}
	return b
}
