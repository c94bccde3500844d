// Package packets defines the work items that travel over NATS JetStream between the relayer's
// scanners and submitters, their strict wire encoding, the classification of packet data for routing
// and metrics, and the JetStream streams and KV buckets they live in.
//
// Delivery is at least once with de-duplication: a scanner may publish the same work twice (after a
// restart, or when two relayers scan the same chain); the Nats-Msg-Id (source chain, port, channel,
// sequence, kind, the block of the event and a digest of the content it claims: see Work.MsgID) makes
// JetStream drop the copy inside the duplicate window, and the submitter drops whatever the
// destination already has. The id names the content and the block so that an event the chain never
// committed, served by a lying node, can never occupy the id of the real packet. A work item is acknowledged to JetStream only after the
// transaction that delivered it is committed, so nothing acknowledged is ever lost.
package packets
