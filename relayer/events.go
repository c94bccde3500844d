package relayer

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains"
)

// Events come from an RPC node and are not trusted: what is read from them is a hint that a proof
// checked against a verified app hash confirms or refutes before anything is relayed.

// EventSource is a chain whose block events can be read (pull mode): an optional capability, probed
// on an end's Chain.
type EventSource = chains.EventSource

// Ack is an acknowledgement written on the chain that received packet.
type Ack struct {
	Packet channeltypes.Packet
	Ack    []byte
}

// SendPackets extracts the packets of send_packet events. Events come from an RPC node and are not
// trusted: a packet is relayed only with a proof of its commitment checked against a verified app
// hash, and a forged event has no such commitment. A malformed event is skipped, not the others: the
// packets of the well-formed ones are returned with an error (wrapping ErrBadEvent) naming each
// skipped one.
func SendPackets(events []chains.Event) ([]channeltypes.Packet, error) {
	var out []channeltypes.Packet
	var errs []error
	for _, ev := range events {
		if ev.Type != channeltypes.EventTypeSendPacket {
			continue
		}
		p, _, err := packetFromEvent(ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// WrittenAcks extracts the acknowledgements of write_acknowledgement events (untrusted, as above;
// malformed events are skipped and reported in the error).
func WrittenAcks(events []chains.Event) ([]Ack, error) {
	var out []Ack
	var errs []error
	for _, ev := range events {
		if ev.Type != channeltypes.EventTypeWriteAck {
			continue
		}
		p, ack, err := packetFromEvent(ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Ack{Packet: p, Ack: ack})
	}
	return out, errors.Join(errs...)
}

func packetFromEvent(ev chains.Event) (channeltypes.Packet, []byte, error) {
	attrs := make(map[string]string, len(ev.Attributes))
	for _, a := range ev.Attributes {
		attrs[a.Key] = a.Value
	}
	var p channeltypes.Packet
	var err error
	bad := func(key string, err error) (channeltypes.Packet, []byte, error) {
		return channeltypes.Packet{}, nil, fmt.Errorf("%s event: attribute %s: %w: %v", ev.Type, key, ErrBadEvent, err)
	}
	if p.Sequence, err = strconv.ParseUint(attrs[channeltypes.AttributeKeySequence], 10, 64); err != nil {
		return bad(channeltypes.AttributeKeySequence, err)
	}
	p.SourcePort, p.SourceChannel = attrs[channeltypes.AttributeKeySrcPort], attrs[channeltypes.AttributeKeySrcChannel]
	p.DestinationPort, p.DestinationChannel = attrs[channeltypes.AttributeKeyDstPort], attrs[channeltypes.AttributeKeyDstChannel]
	if p.Data, err = hex.DecodeString(attrs[channeltypes.AttributeKeyDataHex]); err != nil {
		return bad(channeltypes.AttributeKeyDataHex, err)
	}
	if p.TimeoutHeight, err = clienttypes.ParseHeight(attrs[channeltypes.AttributeKeyTimeoutHeight]); err != nil {
		return bad(channeltypes.AttributeKeyTimeoutHeight, err)
	}
	if p.TimeoutTimestamp, err = strconv.ParseUint(attrs[channeltypes.AttributeKeyTimeoutTimestamp], 10, 64); err != nil {
		return bad(channeltypes.AttributeKeyTimeoutTimestamp, err)
	}
	var ack []byte
	if ev.Type == channeltypes.EventTypeWriteAck {
		if ack, err = hex.DecodeString(attrs[channeltypes.AttributeKeyAckHex]); err != nil {
			return bad(channeltypes.AttributeKeyAckHex, err)
		}
	}
	if err := p.ValidateBasic(); err != nil {
		return bad("packet", err)
	}
	return p, ack, nil
}

// eventAttr returns the value of attribute key in the first event of type typ.
func eventAttr(events []chains.Event, typ, key string) (string, error) {
	for _, ev := range events {
		if ev.Type != typ {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == key {
				return a.Value, nil
			}
		}
	}
	return "", fmt.Errorf("%s.%s: %w", typ, key, ErrEventMissing)
}
