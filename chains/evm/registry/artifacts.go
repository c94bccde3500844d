package registry

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/cityrelay/cityrelay/contracts"
)

// ABI is the contract's JSON ABI, as solc wrote it (contracts.ABI).
var ABI = contracts.ABI

// Bytecode is the creation code; a deployment's data is Bytecode followed by the ABI-encoded
// constructor argument (see DeployData).
var Bytecode = contracts.CreationCode()

// RuntimeCodeFor is the code a deployment leaves at the contract's address on the EVM chain chainID:
// the compiler's deployed bytecode with chainID written into the immutable evmChainId
// (contracts.RuntimeCodeFor). Whatever the constructor argument, it depends only on the chain.
func RuntimeCodeFor(chainID uint64) []byte { return contracts.RuntimeCodeFor(chainID) }

// RuntimeCodeHashFor is keccak256(RuntimeCodeFor(chainID)): the code hash of every registry deployed on
// the EVM chain chainID, which the city-qbft light client of that chain pins and checks against the
// registry's account proof.
func RuntimeCodeHashFor(chainID uint64) common.Hash { return contracts.RuntimeCodeHashFor(chainID) }

// DeployData returns a deployment transaction's data for a registry of the city chainID: the creation
// code followed by the ABI-encoded constructor argument.
func DeployData(chainID string) []byte {
	args := NewCityAttestationRegistry().PackConstructor(chainID)
	return append(contracts.CreationCode(), args...)
}
