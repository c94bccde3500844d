// Package evm is the relayer's verifying client of an EVM city chain (Hyperledger Besu or GoQuorum with
// QBFT): nothing a node serves is used before it is checked.
//
// "Verified" means: a header's committed seals were checked by light/qbft from a trusted header
// (skipping verification with the f+1 overlap rule, bisecting through intermediate heights when the
// validator set changed too much, as CometBFT's light client does), or its hash is linked by parent
// hashes to such a header, and every configured witness that answered serves the same block hash. The
// root of trust is a header the operator supplies (height, time, hash, validators) or, after the first
// start, the newest verified header, kept in a qbft.Store under StoreDir.
//
// State is proven, not read: RegistryProof checks eth_getProof's account proof of the registry
// contract (whose code hash is pinned) against a verified header's state root, and each storage proof
// against the proven storage root, before returning. Logs are the exception: eth_getLogs answers are
// unauthenticated hints of where to look, and everything relayed is re-proven from storage.
package evm
