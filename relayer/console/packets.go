package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/packets"
)

// Step is one step of a packet's lifecycle as the console shows it.
type Step struct {
	// Name is sent, delivered, acknowledged or timed out.
	Name string `json:"name"`
	// Done: the step happened (for sent: the scanner saw it).
	Done bool `json:"done"`
	// State is the pipeline's lifecycle state of the work item behind the step (observed, confirmed,
	// already-delivered, retrying, timed-out, failed), empty when none is recorded.
	State  string    `json:"state,omitempty"`
	Chain  string    `json:"chain,omitempty"`
	Height int64     `json:"height,omitempty"`
	Tx     string    `json:"tx,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// Packet is a packet and its lifecycle.
type Packet struct {
	Key           string `json:"key"`
	Chain         string `json:"chain"`
	Port          string `json:"port"`
	Channel       string `json:"channel"`
	Sequence      uint64 `json:"sequence"`
	Dest          string `json:"dest,omitempty"`
	Path          string `json:"path,omitempty"`
	Class         string `json:"class,omitempty"`
	AttestationID string `json:"attestation_id,omitempty"`
	Steps         []Step `json:"steps"`
	// Refused are the other work items seen for this packet's sequence that failed on their own
	// (Name is their kind): events the chain never committed, forged by a lying node, with the reason.
	Refused []Step `json:"refused,omitempty"`
}

// ports are the ports a packet search tries when none is given.
var ports = []string{"did", "transfer"}

// apiPackets finds packets by attestation id (?id=) or by source chain, channel and sequence
// (?chain=&channel=&seq=, optional &port=).
func (c *Console) apiPackets(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	q := r.URL.Query()
	id := strings.ToLower(strings.TrimSpace(q.Get("id")))
	seq, seqErr := strconv.ParseUint(q.Get("seq"), 10, 64)
	if id == "" && (q.Get("chain") == "" || q.Get("channel") == "" || seqErr != nil) {
		reply(w, http.StatusBadRequest, nil, fmt.Errorf("%w: give an attestation id, or the source chain, channel and sequence", ErrBadQuery))
		return
	}
	kv, err := c.js.KeyValue(ctx, packets.PacketBucket)
	if err != nil {
		reply(w, http.StatusBadGateway, nil, fmt.Errorf("packet bucket: %w", err))
		return
	}
	var look []seen // the packets to show, with what is known of them beside their lifecycle records
	if id != "" {
		if look, err = c.byAttestation(ctx, kv, id); err != nil {
			reply(w, http.StatusBadGateway, nil, err)
			return
		}
		if len(look) == 0 {
			reply(w, http.StatusNotFound, nil, fmt.Errorf("no packet carrying attestation %s was seen by a relayer on this NATS in the last hour (records are kept for an hour)", id))
			return
		}
	} else {
		try := ports
		if p := q.Get("port"); p != "" {
			try = []string{p}
		}
		for _, p := range try {
			look = append(look, seen{Key: packetKey{Chain: q.Get("chain"), Port: p, Channel: q.Get("channel"), Seq: seq}})
		}
	}
	var out []Packet
	for _, s := range look {
		p, found, err := c.lifecycle(ctx, kv, s)
		if err != nil {
			reply(w, http.StatusBadGateway, nil, err)
			return
		}
		if found {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		reply(w, http.StatusNotFound, nil, errors.New("no lifecycle recorded for this packet (records are kept for an hour)"))
		return
	}
	reply(w, http.StatusOK, out, nil)
}

// byAttestation returns the packets carrying attestation id: those the scanners of every relayer on
// this NATS recorded in the packet bucket, merged with those the console's own index saw.
func (c *Console) byAttestation(ctx context.Context, kv jetstream.KeyValue, id string) ([]seen, error) {
	stored, err := attested(ctx, kv, id)
	if err != nil {
		return nil, fmt.Errorf("packets carrying attestation %s: %w", id, err)
	}
	mem := c.index.byAttestation(id)
	out := make([]seen, 0, len(stored)+len(mem))
	at := map[packetKey]int{}
	for _, s := range stored {
		at[s.Key] = len(out)
		out = append(out, s)
	}
	for _, s := range mem {
		if i, ok := at[s.Key]; ok {
			out[i] = s.or(out[i])
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// attested reads the packet bucket's entries of the packets carrying attestation id, in the
// order the scanners saw them.
func attested(ctx context.Context, kv jetstream.KeyValue, id string) ([]seen, error) {
	filter, ok := packets.AttestedKeys(id)
	if !ok {
		return nil, nil // no packet can be stored under such an id
	}
	wt, err := kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer func() { _ = wt.Stop() }()
	var out []seen
	for {
		select {
		case e, open := <-wt.Updates():
			if !open || e == nil { // nil: every stored entry was delivered
				sort.SliceStable(out, func(i, j int) bool { return out[i].SentSeen.Before(out[j].SentSeen) })
				return out, nil
			}
			var a packets.Attested
			if json.Unmarshal(e.Value(), &a) != nil || a.ID != id {
				continue
			}
			out = append(out, seen{Key: packetKey{Chain: a.Chain, Port: a.Port, Channel: a.Channel, Seq: a.Sequence}, AttestationID: a.ID,
				Class: a.Class, Path: a.Path, Dest: a.Dest, SendHeight: a.Height, SentSeen: time.Unix(a.AtUnix, 0).UTC()})
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// lifecycle reads packet known.Key's work items' records (recv, ack, timeout: for each kind the one
// that says most about the real packet, see packets.Lifecycles), and what the index saw of it
// completed by what is known (from the bucket's attestation entry).
func (c *Console) lifecycle(ctx context.Context, kv jetstream.KeyValue, known seen) (Packet, bool, error) {
	k := known.Key
	all, err := packets.Lifecycles(ctx, kv, k.String())
	if err != nil {
		return Packet{}, false, err
	}
	recs := map[string]*packets.Lifecycle{}
	var refused []Step
	for _, kind := range []string{packets.KindRecv, packets.KindAck, packets.KindTimeout} {
		if len(all[kind]) == 0 {
			continue
		}
		recs[kind] = &all[kind][0]
		// The other items of the kind that failed: forged events for this sequence, refused alone.
		for _, l := range all[kind][1:] {
			if l.State == "failed" {
				refused = append(refused, Step{Name: kind, State: l.State, Reason: l.Reason, At: time.Unix(l.AtUnix, 0).UTC()})
			}
		}
	}
	s, indexed := c.index.packet(k)
	s = s.or(known)
	if len(recs) == 0 && !indexed && known.AttestationID == "" { // a bucket's entry names the send
		return Packet{}, false, nil
	}
	p := steps(k, s, recs)
	p.Refused = refused
	return p, true, nil
}

// steps lays out a packet's lifecycle: sent (the scanner saw the send), delivered (the recv work
// item settled), acknowledged (the ack work item settled), or timed out.
func steps(k packetKey, s seen, recs map[string]*packets.Lifecycle) Packet {
	p := Packet{Key: k.String(), Chain: k.Chain, Port: k.Port, Channel: k.Channel, Sequence: k.Seq, Dest: s.Dest, Path: s.Path,
		Class: s.Class, AttestationID: s.AttestationID}
	// Seen at all (by a scanner, or by the clearing pass, which knows no send height): sent.
	sent := Step{Name: "sent", Chain: k.Chain, Height: s.SendHeight, At: s.SentSeen, Done: s.SendHeight > 0 || !s.SentSeen.IsZero()}
	recv := Step{Name: "delivered", Chain: s.Dest, Height: s.WriteAckAt}
	ack := Step{Name: "acknowledged", Chain: k.Chain}
	apply := func(st *Step, l *packets.Lifecycle) {
		if l == nil {
			return
		}
		st.State, st.Tx, st.Reason, st.At = l.State, l.Tx, l.Reason, time.Unix(l.AtUnix, 0).UTC()
		st.Done = settled(l.State)
		if l.Height > 0 { // where the tx was committed
			st.Height, st.Chain = l.Height, l.Chain
		}
	}
	if l := recs[packets.KindRecv]; l != nil && l.State == "observed" {
		sent.Done, sent.State = true, l.State
		if sent.At.IsZero() {
			sent.At = time.Unix(l.AtUnix, 0).UTC()
		}
	} else {
		apply(&recv, l)
		sent.Done = sent.Done || l != nil
	}
	// The acknowledgement written on the destination proves delivery even when the recv record aged
	// out or another instance delivered it.
	recv.Done = recv.Done || s.WriteAckAt > 0
	if l := recs[packets.KindAck]; l != nil {
		recv.Done, sent.Done = true, true
		if l.State != "observed" {
			apply(&ack, l)
		} else {
			ack.State = l.State
		}
	}
	p.Steps = []Step{sent, recv, ack}
	if l := recs[packets.KindTimeout]; l != nil {
		t := Step{Name: "timed out", Chain: k.Chain}
		apply(&t, l)
		p.Steps = []Step{sent, t}
	}
	return p
}

// settled: the lifecycle state says the work is done on chain.
func settled(state string) bool {
	return state == "confirmed" || state == "already-delivered" || state == "timed-out"
}

// DeadLetter is a dead-lettered work item as the console lists it.
type DeadLetter struct {
	Seq        uint64 `json:"seq"`
	Reason     string `json:"reason"`
	Subject    string `json:"subject"`
	Work       string `json:"work,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Path       string `json:"path,omitempty"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	Requeuable bool   `json:"requeueable"`
}

// deadLimit is the most dead letters a page lists (the CLI lists them all).
const deadLimit = 200

func (c *Console) apiDeadLetters(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	dead, err := packets.DeadLetters(ctx, c.js, deadLimit)
	if err != nil {
		reply(w, http.StatusBadGateway, nil, err)
		return
	}
	out := make([]DeadLetter, 0, len(dead))
	for _, d := range dead {
		dl := DeadLetter{Seq: d.Seq, Reason: d.Reason, Subject: d.Subject}
		if d.Work != nil {
			dl.Work, dl.Kind, dl.Path, dl.From, dl.To, dl.Requeuable = d.Work.MsgID(), d.Work.Kind, d.Work.Path, d.Work.From, d.Work.To, true
		}
		out = append(out, dl)
	}
	reply(w, http.StatusOK, out, nil)
}
