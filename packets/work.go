package packets

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// Version is the wire version of Work. Decoding refuses any other.
const Version = 1

// Kinds of work.
const (
	KindRecv    = "recv"    // deliver a packet to its destination
	KindAck     = "ack"     // return an acknowledgement to the packet's source
	KindTimeout = "timeout" // prove on the source that the destination never received it
)

// ErrBadWork is returned for a work item that cannot be decoded or is incomplete.
var ErrBadWork = errors.New("bad work item")

// Packet is an IBC packet as it travels in a work item.
type Packet struct {
	Sequence         uint64 `json:"sequence"`
	SourcePort       string `json:"source_port"`
	SourceChannel    string `json:"source_channel"`
	DestPort         string `json:"dest_port"`
	DestChannel      string `json:"dest_channel"`
	Data             []byte `json:"data"`
	TimeoutRevision  uint64 `json:"timeout_revision"`
	TimeoutHeight    uint64 `json:"timeout_height"`
	TimeoutTimestamp uint64 `json:"timeout_timestamp"`
}

// FromIBC is an IBC packet as it travels in a work item.
func FromIBC(p channeltypes.Packet) Packet {
	return Packet{Sequence: p.Sequence, SourcePort: p.SourcePort, SourceChannel: p.SourceChannel,
		DestPort: p.DestinationPort, DestChannel: p.DestinationChannel, Data: p.Data,
		TimeoutRevision: p.TimeoutHeight.RevisionNumber, TimeoutHeight: p.TimeoutHeight.RevisionHeight, TimeoutTimestamp: p.TimeoutTimestamp}
}

// IBC is the IBC packet p carries.
func (p Packet) IBC() channeltypes.Packet {
	return channeltypes.Packet{Sequence: p.Sequence, SourcePort: p.SourcePort, SourceChannel: p.SourceChannel,
		DestinationPort: p.DestPort, DestinationChannel: p.DestChannel, Data: p.Data,
		TimeoutHeight: clienttypes.NewHeight(p.TimeoutRevision, p.TimeoutHeight), TimeoutTimestamp: p.TimeoutTimestamp}
}

// Work is one unit of relaying: a packet (and, for acks, its acknowledgement) to deliver to a chain.
type Work struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	Path string `json:"path"`
	// From is the chain the events were read on; To is the chain the tx goes to.
	From   string `json:"from"`
	To     string `json:"to"`
	Packet Packet `json:"packet"`
	Ack    []byte `json:"ack,omitempty"`
	// Height is the block of From that holds the event (proofs come from a header above it).
	Height int64 `json:"height"`
	// Class is the packet's classification (attestation, revocation, service:<type>, ics20, other).
	Class string `json:"class"`
	// ObservedUnixNano is when the scanner saw the event (for send→recv latency).
	ObservedUnixNano int64 `json:"observed_unix_nano"`
}

// MsgID is the work's JetStream de-duplication id:
//
//	<src-chain>/<port>/<channel>/<seq>/recv/<height>-<digest>      <height>: the send's block on the source
//	<src-chain>/<port>/<channel>/<seq>/ack/<height>-<digest>       <height>: the acknowledgement's block on the destination
//	<src-chain>/<port>/<channel>/<seq>/timeout/<digest>
//
// where <src-chain>/<port>/<channel>/<seq> is the packet (PacketID) and <digest> is ContentDigest.
// Events come from an RPC node, which the header does not cover: a lying node can serve a send_packet
// the chain never committed, for a sequence the chain is about to use. With an id of the sequence
// alone that forgery (dead-lettered as never sent) would occupy the real packet's id, and JetStream
// would drop the real packet as a duplicate for its de-duplication window. So the id also names what
// the event claims and where: a forgery can only share an id with an item claiming the same content
// in the same block, which is the real packet itself (delivered from a proof above that block). Two
// instances scanning the same chain, a rescan and the clearing pass (which reads each packet's own
// block from the tx index) still publish one id per real packet. Timeout work carries no source
// height (it is made from recv work with the destination's height, which differs between instances):
// its id names the content only; a forgery of it would need the real packet's exact content with a
// timeout already past, which the chain refuses to send.
func (w *Work) MsgID() string {
	id := w.PacketID() + "/" + w.Kind + "/"
	if w.Kind != KindTimeout {
		id += strconv.FormatInt(w.Height, 10) + "-"
	}
	return id + w.ContentDigest()
}

// PacketID names the work's packet by its source end: <src-chain>/<port>/<channel>/<seq>.
func (w *Work) PacketID() string {
	src := w.From
	if w.Kind == KindAck || w.Kind == KindTimeout {
		src = w.To // the packet's source chain is where the ack or timeout goes
	}
	return fmt.Sprintf("%s/%s/%s/%d", src, w.Packet.SourcePort, w.Packet.SourceChannel, w.Packet.Sequence)
}

// ContentDigest is the hex of the first 16 bytes of the SHA-256 of what the work claims the chain
// committed: the packet commitment (ICS-04 CommitPacket: timeouts and the data's hash), the packet's
// destination port and channel (which the commitment leaves out), and for an acknowledgement its
// commitment (the SHA-256 of the ack), each length-prefixed after a domain tag.
func (w *Work) ContentDigest() string {
	p := w.Packet
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte("cityrelay/work/v1"))
	field(channeltypes.CommitPacket(nil, p.IBC()))
	field([]byte(p.DestPort))
	field([]byte(p.DestChannel))
	if w.Kind == KindAck {
		field(channeltypes.CommitAcknowledgement(w.Ack))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Subject is cityrelay.work.<to>.<port>:<channel>.<kind>, where port and channel are the end on To
// the work goes to: work is addressed by what it is on chain, so the instances that serve that channel
// end (whatever their paths are called) share it, and no other instance ever receives it.
func (w *Work) Subject() string { return WorkSubject(w.To, EndToken(w.ToEnd()), w.Kind) }

// ToEnd is the port and channel, on To, of the end the work goes to: a packet's destination end for a
// recv, its source end for an acknowledgement or a timeout.
func (w *Work) ToEnd() (port, channel string) {
	if w.Kind == KindRecv {
		return w.Packet.DestPort, w.Packet.DestChannel
	}
	return w.Packet.SourcePort, w.Packet.SourceChannel
}

// ConsumerName is the durable consumer of the submitters of a channel end on chain (ports may hold
// characters a consumer name cannot: they are replaced).
func ConsumerName(chain, port, channel string) string {
	return strings.NewReplacer("/", "_", "\\", "_").Replace(token("submit-" + chain + "-" + port + "-" + channel))
}

// EndToken is a channel end as one subject token: <port>:<channel>.
func EndToken(port, channel string) string { return port + ":" + channel }

// WorkSubject builds a work subject; "*" and ">" wildcards pass through for filters.
func WorkSubject(to, end, kind string) string {
	return "cityrelay.work." + token(to) + "." + token(end) + "." + token(kind)
}

// token makes a string safe as one subject token (NATS tokens cannot hold '.', ' ' or wildcards).
func token(s string) string {
	if s == "*" || s == ">" {
		return s
	}
	return strings.NewReplacer(".", "_", " ", "_", "*", "_", ">", "_").Replace(s)
}

// Encode writes the work item.
func (w *Work) Encode() ([]byte, error) {
	w.V = Version
	if err := w.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// Decode reads a work item strictly: unknown fields, another version, trailing data or a missing
// field are errors wrapping ErrBadWork; it never panics.
func Decode(bz []byte) (*Work, error) {
	var w Work
	if err := decodeStrict(bz, &w, func() int { return w.V }); err != nil {
		return nil, err
	}
	if err := w.validate(); err != nil {
		return nil, err
	}
	return &w, nil
}

// decodeStrict decodes one JSON value into v refusing unknown fields, trailing data and a version
// (read by version after decoding) other than Version.
func decodeStrict(bz []byte, v any, version func() int) error {
	dec := json.NewDecoder(bytes.NewReader(bz))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadWork, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data", ErrBadWork)
	}
	if got := version(); got != Version {
		return fmt.Errorf("%w: version %d, want %d", ErrBadWork, got, Version)
	}
	return nil
}

func (w *Work) validate() error {
	switch w.Kind {
	case KindRecv, KindTimeout:
	case KindAck:
		if len(w.Ack) == 0 {
			return fmt.Errorf("%w: ack work without an acknowledgement", ErrBadWork)
		}
	default:
		return fmt.Errorf("%w: kind %q", ErrBadWork, w.Kind)
	}
	p := w.Packet
	switch {
	case w.Path == "" || w.From == "" || w.To == "" || w.From == w.To:
		return fmt.Errorf("%w: path %q from %q to %q", ErrBadWork, w.Path, w.From, w.To)
	case p.Sequence == 0:
		return fmt.Errorf("%w: sequence 0", ErrBadWork)
	case p.SourcePort == "" || p.SourceChannel == "" || p.DestPort == "" || p.DestChannel == "":
		return fmt.Errorf("%w: packet ends missing", ErrBadWork)
	case w.Height <= 0:
		return fmt.Errorf("%w: height %d", ErrBadWork, w.Height)
	}
	return nil
}
