// Package packets defines the work items that travel over NATS JetStream between the relayer's
// scanners and submitters, their strict wire encoding, the classification of packet data for routing
// and metrics, and the JetStream streams and KV buckets they live in.
//
// Delivery is at least once with de-duplication: a scanner may publish the same work twice (after a
// restart, or when two relayers scan the same chain); the Nats-Msg-Id (source chain, port, channel,
// sequence, kind) makes JetStream drop the copy inside the duplicate window, and the submitter drops
// whatever the destination already has. A work item is acknowledged to JetStream only after the
// transaction that delivered it is committed, so nothing acknowledged is ever lost.
package packets
