// Package chains says what the relayer needs of a chain, as small role interfaces with neutral types
// (a proven read, a committed tx, a chain's refusal), so that relayer/ depends on roles and never on
// a concrete chain kind. chains/cosmos implements every role over CometBFT RPC + gRPC; another chain
// kind (an IBC-on-EVM city) implements the roles it can serve. The one package under relayer/ that
// opens concrete chains is the composition root, relayer/assemble; the rest take roles. An EVM city
// (chains/evm) is read through its verifying light client: the neutral types of what it serves
// (EvmHeader, RegistryProof, EvmForkError) are here, the interfaces over them where they are consumed.
//
// Messages stay Cosmos SDK messages (sdk.Msg): IBC's messages are defined as Cosmos SDK messages, and
// they are what both the Cosmos chains and the IBC-on-EVM chains here speak. Headers stay CometBFT
// light blocks, and proofs ICS-23 proof ops, for the same reason: the clients the relayer updates are
// 07-tendermint clients.
package chains
