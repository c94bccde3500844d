package pipeline

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/packets"
)

type abciEvent = abci.Event

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
	State  string `json:"state"` // observed, submitted, confirmed, failed
	Reason string `json:"reason,omitempty"`
	Tx     string `json:"tx,omitempty"`
	AtUnix int64  `json:"at"`
}

// LifecycleKey is the bucket key of a work item (its Nats-Msg-Id with '/' as '.').
func LifecycleKey(msgID string) string { return strings.ReplaceAll(msgID, "/", ".") }

// setState records a lifecycle step; it is best effort (the packet's fate lives on the chains).
func setState(ctx context.Context, kv jetstream.KeyValue, msgID, state, detail string) {
	l := Lifecycle{State: state, AtUnix: time.Now().Unix()}
	if state == "confirmed" {
		l.Tx = detail
	} else {
		l.Reason = detail
	}
	bz, err := json.Marshal(l)
	if err != nil {
		return
	}
	_, _ = kv.Put(ctx, LifecycleKey(msgID), bz)
}
