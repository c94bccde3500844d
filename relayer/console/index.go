package console

import (
	"fmt"
	"sync"
	"time"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/classify"
)

// indexMax bounds the packets indexed: a busy relayer forgets the oldest first (the lifecycle bucket
// keeps records for an hour; 20,000 packets is well over an hour of a city's traffic, at ~200 bytes each).
const indexMax = 20000

// seen is what the work items published for one packet told: which attestation it carries and the
// heights of its events (the send on the source, the acknowledgement written on the destination).
type seen struct {
	Key           packetKey
	AttestationID string
	Class         string
	Path          string
	Dest          string
	SendHeight    int64
	SentSeen      time.Time
	WriteAckChain string
	WriteAckAt    int64
}

// or is s with the fields it lacks taken from o (another source's view of the same packet).
func (s seen) or(o seen) seen {
	if s.Key == (packetKey{}) {
		s.Key = o.Key
	}
	for _, f := range []struct{ dst, src *string }{{&s.AttestationID, &o.AttestationID}, {&s.Class, &o.Class}, {&s.Path, &o.Path}, {&s.Dest, &o.Dest}} {
		if *f.dst == "" {
			*f.dst = *f.src
		}
	}
	if s.SendHeight == 0 {
		s.SendHeight, s.SentSeen = o.SendHeight, o.SentSeen
	}
	return s
}

// packetKey names a packet: its source chain, port, channel and sequence.
type packetKey struct {
	Chain, Port, Channel string
	Seq                  uint64
}

func (k packetKey) String() string {
	return fmt.Sprintf("%s/%s/%s/%d", k.Chain, k.Port, k.Channel, k.Seq)
}

// index maps attestation ids and packets to what their work items told. It is written by the NATS
// subscription's one goroutine and read by HTTP handlers; the lock guards the maps only (no I/O
// under it).
type index struct {
	mu      sync.Mutex
	max     int
	order   []packetKey // insertion order, for eviction
	packets map[packetKey]*seen
	byID    map[string][]packetKey
}

func newIndex(max int) *index {
	return &index{max: max, packets: map[packetKey]*seen{}, byID: map[string][]packetKey{}}
}

// add indexes one published work item (anything that does not decode is ignored).
func (x *index) add(data []byte, now time.Time) {
	w, err := packets.Decode(data)
	if err != nil {
		return
	}
	k := packetKey{Chain: w.From, Port: w.Packet.SourcePort, Channel: w.Packet.SourceChannel, Seq: w.Packet.Sequence}
	if w.Kind != packets.KindRecv {
		k.Chain = w.To
	}
	_, id := classify.Describe(w.Packet.SourcePort, w.Packet.Data)
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.packets[k]
	if !ok {
		s = &seen{Key: k, AttestationID: id, Class: w.Class, Path: w.Path}
		x.packets[k] = s
		x.order = append(x.order, k)
		if id != "" {
			x.byID[id] = append(x.byID[id], k)
		}
		x.evict()
	}
	switch w.Kind {
	case packets.KindRecv:
		s.Dest, s.SendHeight, s.SentSeen = w.To, w.Height, now
	case packets.KindAck:
		s.Dest, s.WriteAckChain, s.WriteAckAt = w.From, w.From, w.Height
	}
}

func (x *index) evict() {
	for len(x.order) > x.max {
		k := x.order[0]
		x.order = x.order[1:]
		if s := x.packets[k]; s != nil && s.AttestationID != "" {
			keys := x.byID[s.AttestationID]
			for i, o := range keys {
				if o == k {
					keys = append(keys[:i], keys[i+1:]...)
					break
				}
			}
			if len(keys) == 0 {
				delete(x.byID, s.AttestationID)
			} else {
				x.byID[s.AttestationID] = keys
			}
		}
		delete(x.packets, k)
	}
}

// byAttestation returns the packets that carried attestation id (its sending, then its status
// changes), oldest first.
func (x *index) byAttestation(id string) []seen {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []seen
	for _, k := range x.byID[id] {
		out = append(out, *x.packets[k])
	}
	return out
}

// packet returns what was seen of packet k.
func (x *index) packet(k packetKey) (seen, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.packets[k]
	if !ok {
		return seen{}, false
	}
	return *s, true
}
