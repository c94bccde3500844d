// Package packets is the relayer's work queue over NATS JetStream, the one place that knows its
// shape: the work items that travel between scanners and submitters (IBC packet work, EVM
// attestation work) and their strict wire encoding and de-duplication ids; the JetStream streams, KV
// buckets and subjects they live in (every name a constant here); the lifecycle records of each item
// in the packet bucket and the attestation index beside them (Recorder, Lifecycles, Attested); the
// retry and dead-letter policy every submitter follows (Settler, Backoff, DeadLetters, Requeue); and
// the supervision that restarts a failing part (Supervise). What a packet means is the caller's
// business: it hands in a Classifier (the city's DID classification lives in relayer/classify).
//
// Delivery is at least once with de-duplication: a scanner may publish the same work twice (after a
// restart, or when two relayers scan the same chain); the Nats-Msg-Id (source chain, port, channel,
// sequence, kind, the block of the event and a digest of the content it claims: see Work.MsgID) makes
// JetStream drop the copy inside the duplicate window, and the submitter drops whatever the
// destination already has. The id names the content and the block so that an event the chain never
// committed, served by a lying node, can never occupy the id of the real packet. A work item is acknowledged to JetStream only after the
// transaction that delivered it is committed, so nothing acknowledged is ever lost.
package packets
