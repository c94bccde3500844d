package packets

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// States of a work item's lifecycle record.
const (
	StateObserved         = "observed"
	StateConfirmed        = "confirmed"
	StateAlreadyDelivered = "already-delivered"
	StateRetrying         = "retrying"
	StateTimedOut         = "timed-out"
	StateFailed           = "failed"
)

// Lifecycle is a packet's state as the pipeline knows it, kept in the packet bucket (PacketBucket).
type Lifecycle struct {
	// State is observed, confirmed, already-delivered, retrying, timed-out or failed.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	Tx     string `json:"tx,omitempty"`
	// Height and Chain are the block and the chain Tx was committed in (confirmed only).
	Height int64  `json:"height,omitempty"`
	Chain  string `json:"chain,omitempty"`
	AtUnix int64  `json:"at"`
}

// LifecycleKey is the bucket key of a work item (its Nats-Msg-Id with '/' as '.'):
// <chain>.<port>.<channel>.<seq>.<kind>.<variant> (see Work.MsgID). A packet's sequence may
// have several work items of a kind: the real one, and forgeries of it a lying node served (each
// settled on its own, most of them failed); Lifecycles reads them all.
func LifecycleKey(msgID string) string { return strings.ReplaceAll(msgID, "/", ".") }

// Lifecycles reads, from the packet bucket, the records of every work item of packet
// (<chain>/<port>/<channel>/<seq>, its source end) by kind, the record that says most about the
// real packet first: settled on chain (confirmed, already-delivered, timed-out), then in progress
// (observed, retrying), then failed; newer first within each. The others are usually forgeries,
// failed with the reason. Records written before work ids named their content (key
// <packet>.<kind>) are read too.
func Lifecycles(ctx context.Context, kv jetstream.KeyValue, packet string) (map[string][]Lifecycle, error) {
	prefix := LifecycleKey(packet) + "."
	wt, err := kv.Watch(ctx, prefix+">", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("lifecycle of %s: %w", packet, err)
	}
	defer func() { _ = wt.Stop() }()
	out := map[string][]Lifecycle{}
	for {
		select {
		case e, open := <-wt.Updates():
			if !open || e == nil { // nil: every stored record was delivered
				for _, recs := range out {
					sort.SliceStable(recs, func(i, j int) bool {
						if ri, rj := lifecycleRank(recs[i].State), lifecycleRank(recs[j].State); ri != rj {
							return ri < rj
						}
						return recs[i].AtUnix > recs[j].AtUnix
					})
				}
				return out, nil
			}
			kind, _, _ := strings.Cut(strings.TrimPrefix(e.Key(), prefix), ".")
			if kind != KindRecv && kind != KindAck && kind != KindTimeout {
				continue
			}
			var l Lifecycle
			if err := json.Unmarshal(e.Value(), &l); err != nil {
				return nil, fmt.Errorf("lifecycle record %s: %w", e.Key(), err)
			}
			out[kind] = append(out[kind], l)
		case <-ctx.Done():
			return nil, fmt.Errorf("lifecycle of %s: %w", packet, ctx.Err())
		}
	}
}

// lifecycleRank orders states by what they say of the real packet: settled, in progress, failed.
func lifecycleRank(state string) int {
	switch state {
	case StateConfirmed, StateAlreadyDelivered, StateTimedOut:
		return 0
	case StateFailed:
		return 2
	default:
		return 1
	}
}

// Attested is the packet bucket's entry of a packet carrying an attestation id (an attestation, or a
// revocation of one: see Classifier): which packet it is, so the packet can be found by the id on any
// instance sharing the NATS, after restarts too, for as long as the bucket keeps records.
type Attested struct {
	ID       string `json:"id"`
	Chain    string `json:"chain"` // the packet's source chain
	Port     string `json:"port"`
	Channel  string `json:"channel"`
	Sequence uint64 `json:"sequence"`
	Dest     string `json:"dest"`
	Path     string `json:"path"`
	Class    string `json:"class"`
	// Height is the block of Chain that holds the send (as the scanner's event or the clearing pass's
	// tx search says: untrusted, like the event); AtUnix when the relayer saw it.
	Height int64 `json:"height"`
	AtUnix int64 `json:"at"`
}

// AttestedKey is the key of the entry of packet (<chain>/<port>/<channel>/<seq>, its source end)
// carrying attestation id.
func AttestedKey(id, packet string) string { return "att." + id + "." + LifecycleKey(packet) }

// AttestedKeys is the key filter of the entries of the packets carrying attestation id
// (att.<id>.<chain>.<port>.<channel>.<seq>, one per packet: an attestation and its revocations are
// separate packets), false for an id that cannot be one token of a key (attestation ids are lowercase
// hex; no packet is indexed under another).
func AttestedKeys(id string) (string, bool) {
	if !keyToken(id) {
		return "", false
	}
	return "att." + id + ".>", true
}

// keyToken: s is one token of a bucket key (no '.', no wildcard).
func keyToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '=') {
			return false
		}
	}
	return true
}

// PacketBucketSubject prefixes the subject where the packet bucket stores a key (what KeyValue.Put
// publishes to).
const PacketBucketSubject = "$KV." + PacketBucket + "."

// Recorder records work items' lifecycle steps in the packet bucket. The writes are asynchronous and
// best effort (a packet's fate lives on the chains): they never hold up scanning or delivery. They go
// out in order on one connection, so a later step is never overwritten by an earlier one.
type Recorder struct {
	js  jetstream.JetStream
	log zerolog.Logger
}

// NewRecorder records on js (failures are logged at debug on log).
func NewRecorder(js jetstream.JetStream, log zerolog.Logger) *Recorder {
	return &Recorder{js: js, log: log}
}

// Set records a state without a tx.
func (l *Recorder) Set(msgID, state, reason string) {
	l.Put(msgID, Lifecycle{State: state, Reason: reason})
}

// Observed records that a scanner saw the work, only when nothing is recorded for it yet: another
// instance scanning the same block later (or a rescan) must not overwrite the record of a submitter
// that already delivered it (KV create semantics: no earlier message on the key's subject).
func (l *Recorder) Observed(msgID string) {
	rec := Lifecycle{State: StateObserved, AtUnix: time.Now().Unix()}
	l.publish(LifecycleKey(msgID), rec, msgID, rec.State, jetstream.WithExpectLastSequencePerSubject(0))
}

// Put records rec, stamped with the time.
func (l *Recorder) Put(msgID string, rec Lifecycle) {
	rec.AtUnix = time.Now().Unix()
	l.publish(LifecycleKey(msgID), rec, msgID, rec.State)
}

// Attested records that recv work w's packet carries attestation id (ids no key can hold are
// skipped); sendHeight is the block of the send.
func (l *Recorder) Attested(id string, w *Work, sendHeight int64) {
	if !keyToken(id) {
		return
	}
	p := w.Packet
	rec := Attested{ID: id, Chain: w.From, Port: p.SourcePort, Channel: p.SourceChannel, Sequence: p.Sequence, Dest: w.To,
		Path: w.Path, Class: w.Class, Height: sendHeight, AtUnix: time.Now().Unix()}
	l.publish(AttestedKey(id, fmt.Sprintf("%s/%s/%s/%d", w.From, p.SourcePort, p.SourceChannel, p.Sequence)), rec, w.MsgID(), "attested")
}

// publish writes rec under key without waiting for the server (a failure is logged at debug only).
func (l *Recorder) publish(key string, rec any, msgID, what string, opts ...jetstream.PublishOpt) {
	bz, err := json.Marshal(rec)
	if err != nil {
		return
	}
	if _, err := l.js.PublishAsync(PacketBucketSubject+key, bz, opts...); err != nil {
		l.log.Debug().Err(err).Str("work", msgID).Str("state", what).Msg("lifecycle update dropped")
	}
}
