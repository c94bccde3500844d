// Package testnet is the one test harness of cityrelay, in the spirit of ibc-go's testing package
// (Coordinator, Path, Endpoint): every test package sets its world up through it, each piece once and
// with shared defaults.
//
//   - devnet city chains (Chains, Start, Main for a devnet shared by a test binary) — the only caller
//     of devnet.Start;
//   - EVM (QBFT) devnets (EVM, StartEVM — the only caller of evmdevnet.Start), with a city's registry
//     (EVMCity), and trust roots taken out of band (TrustAt);
//   - NATS JetStream: an embedded server with the relayer's streams and buckets (JetStream, NATS) and a
//     three-node cluster (Cluster);
//   - clients of devnet chains (Client, ClientWith) and light clients of them (Light);
//   - paths linked with the devnet's registry admins recognising each city's client: a relayer.Path
//     (LinkPath), or from an operator's home set up through the CLI (OperatorHome, Home.LinkCities,
//     RegisterPath);
//   - binaries built once per test binary (Build).
//
// It is for tests only: no non-test code imports it. It must not import a package whose tests use it
// from inside the package (in-package tests); external _test packages may use it freely.
package testnet
