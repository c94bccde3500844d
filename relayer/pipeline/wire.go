package pipeline

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/packets"
)

func toWire(p channeltypes.Packet) packets.Packet {
	return packets.Packet{Sequence: p.Sequence, SourcePort: p.SourcePort, SourceChannel: p.SourceChannel,
		DestPort: p.DestinationPort, DestChannel: p.DestinationChannel, Data: p.Data,
		TimeoutRevision: p.TimeoutHeight.RevisionNumber, TimeoutHeight: p.TimeoutHeight.RevisionHeight, TimeoutTimestamp: p.TimeoutTimestamp}
}

func fromWire(p packets.Packet) channeltypes.Packet {
	return channeltypes.Packet{Sequence: p.Sequence, SourcePort: p.SourcePort, SourceChannel: p.SourceChannel,
		DestinationPort: p.DestPort, DestinationChannel: p.DestChannel, Data: p.Data,
		TimeoutHeight: clienttypes.NewHeight(p.TimeoutRevision, p.TimeoutHeight), TimeoutTimestamp: p.TimeoutTimestamp}
}

// Lifecycle is a packet's state as the pipeline knows it, kept in the packet bucket.
type Lifecycle struct {
	// State is observed, confirmed, already-delivered, retrying, timed-out or failed.
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	Tx     string `json:"tx,omitempty"`
	AtUnix int64  `json:"at"`
}

// LifecycleKey is the bucket key of a work item (its Nats-Msg-Id with '/' as '.').
func LifecycleKey(msgID string) string { return strings.ReplaceAll(msgID, "/", ".") }

// lifecycle records work items' lifecycle steps in the packet bucket. The writes are asynchronous and
// best effort (a packet's fate lives on the chains): they never hold up scanning or delivery. They go
// out in order on the pipeline's one connection, so a later step is never overwritten by an earlier one.
type lifecycle struct {
	js  jetstream.JetStream
	log zerolog.Logger
}

// lifecycleSubject is where the bucket stores a key (what KeyValue.Put publishes to).
const lifecycleSubject = "$KV." + packets.PacketBucket + "."

func (l *lifecycle) set(msgID, state, detail string) {
	rec := Lifecycle{State: state, AtUnix: time.Now().Unix()}
	if state == "confirmed" {
		rec.Tx = detail
	} else {
		rec.Reason = detail
	}
	bz, err := json.Marshal(rec)
	if err != nil {
		return
	}
	if _, err := l.js.PublishAsync(lifecycleSubject+LifecycleKey(msgID), bz); err != nil {
		l.log.Debug().Err(err).Str("work", msgID).Str("state", state).Msg("lifecycle update dropped")
	}
}

// ackAll double-acknowledges msgs, several at a time (each waits for the server's confirmation);
// it returns the error of each message (nil when acknowledged).
func ackAll(ctx context.Context, msgs []jetstream.Msg) []error {
	errs := make([]error, len(msgs))
	sem := make(chan struct{}, ackParallel)
	var wg sync.WaitGroup
	for i, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = m.DoubleAck(ctx)
		}()
	}
	wg.Wait()
	return errs
}

const ackParallel = 64
