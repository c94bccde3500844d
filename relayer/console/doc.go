// Package console is the web console of `cityrelay start`, served on the metrics listener: an
// overview of the chains, paths and NATS (polled every two seconds), the packets' lifecycles and the
// dead letters, and a credential verification form for city clerks.
//
// Every asset is embedded in the binary (plain HTML, CSS and a little JavaScript; no CDN, no build
// step). Read-only pages and their JSON live under /console/api/; anything that changes state lives
// under /console/admin/, answers POST only, and is refused with 401 unless the request carries the
// admin token (config console.admin_token_env names the environment variable holding it; with none,
// every admin action is refused). The page asks for a confirmation before each admin action.
//
// The console reads what the daemon already keeps: its Prometheus registry (packet counts, client
// trusting periods, balances, header ages), the packet lifecycle bucket (packets.PacketBucket), the
// dead-letter stream, and the chains and light clients of the composition root (relayer/assemble). A packet is found by the
// attestation id it carries from the entries the pipeline's scanners write beside the lifecycles
// (shared by every instance on the NATS, kept as long as they are), merged with an index of its own
// built from the work items published on NATS while it runs (which also holds the heights of the
// acknowledgements written).
package console
