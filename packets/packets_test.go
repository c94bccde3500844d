package packets_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/packets"
)

func sample() *packets.Work {
	return &packets.Work{Kind: packets.KindRecv, Path: "seoul-bucheon", From: "seoul-1", To: "bucheon-1", Height: 42,
		Packet: packets.Packet{Sequence: 7, SourcePort: "did", SourceChannel: "channel-0", DestPort: "did", DestChannel: "channel-3", Data: []byte{1, 2}},
		Class:  "attestation"}
}

func TestConsumerNameIsValid(t *testing.T) {
	if got := packets.ConsumerName("seoul-1", "wasm.city1abc", "channel-7"); got != "submit-seoul-1-wasm_city1abc-channel-7" {
		t.Fatalf("consumer name %q", got)
	}
}

func TestWorkRoundTrip(t *testing.T) {
	w := sample()
	bz, err := w.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := packets.Decode(bz)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.MsgID(), "seoul-1/did/channel-0/7/recv/42-") || got.MsgID() != w.MsgID() || got.Subject() != "cityrelay.work.bucheon-1.did:channel-3.recv" {
		t.Fatalf("id %s subject %s", got.MsgID(), got.Subject())
	}
	ack := *w
	ack.Kind, ack.From, ack.To, ack.Ack = packets.KindAck, "bucheon-1", "seoul-1", []byte(`{"result":"AQ=="}`)
	// An ack is keyed by the packet's source chain, like its recv.
	if !strings.HasPrefix(ack.MsgID(), "seoul-1/did/channel-0/7/ack/42-") || ack.PacketID() != "seoul-1/did/channel-0/7" {
		t.Fatalf("ack id %s", ack.MsgID())
	}
}

// TestMsgIDNamesWhatTheEventClaims: the de-duplication id of a work item is the same for every
// publication of one event (whatever the instance calls the path, whenever it saw it), and differs
// for an item claiming other content, or the same content in another block: a forged event cannot
// take the id of the real one.
func TestMsgIDNamesWhatTheEventClaims(t *testing.T) {
	base := sample()
	base.Packet.TimeoutTimestamp = 1_700_000_000_000_000_000
	same := *base
	same.Path, same.Class, same.ObservedUnixNano = "another-name", "other", 99
	if same.MsgID() != base.MsgID() {
		t.Fatalf("one event, two ids: %s %s", base.MsgID(), same.MsgID())
	}
	// The digest is 16 bytes of hex, one key token.
	if d := base.ContentDigest(); len(d) != 32 || strings.ContainsAny(d, "./ *>") {
		t.Fatalf("digest %q", d)
	}
	variants := map[string]func(w *packets.Work){
		"another block":             func(w *packets.Work) { w.Height++ },
		"other data":                func(w *packets.Work) { w.Packet.Data = []byte{1, 3} },
		"another timeout timestamp": func(w *packets.Work) { w.Packet.TimeoutTimestamp++ },
		"another timeout height":    func(w *packets.Work) { w.Packet.TimeoutHeight = 5 },
		"another timeout revision":  func(w *packets.Work) { w.Packet.TimeoutRevision = 1 },
		"another destination":       func(w *packets.Work) { w.Packet.DestChannel = "channel-4" },
		"another destination port":  func(w *packets.Work) { w.Packet.DestPort = "transfer" },
		"another sequence":          func(w *packets.Work) { w.Packet.Sequence++ },
		"another kind":              func(w *packets.Work) { w.Kind, w.From, w.To = packets.KindTimeout, "bucheon-1", "seoul-1" },
		"no data":                   func(w *packets.Work) { w.Packet.Data = nil },
	}
	for name, change := range variants {
		v := *base
		change(&v)
		if v.MsgID() == base.MsgID() {
			t.Errorf("%s: same id %s", name, v.MsgID())
		}
	}
	ack := *base
	ack.Kind, ack.From, ack.To, ack.Ack = packets.KindAck, "bucheon-1", "seoul-1", []byte(`{"result":"AQ=="}`)
	other := ack
	other.Ack = []byte(`{"error":"forged"}`)
	if other.MsgID() == ack.MsgID() {
		t.Error("two acknowledgements of one packet share an id")
	}
	// Timeout work is made by each instance with its own view of the destination's height: its id
	// does not depend on it.
	to := *base
	to.Kind, to.From, to.To = packets.KindTimeout, "bucheon-1", "seoul-1"
	later := to
	later.Height += 100
	if later.MsgID() != to.MsgID() || !strings.HasPrefix(to.MsgID(), "seoul-1/did/channel-0/7/timeout/") || strings.Count(to.MsgID(), "/") != 5 {
		t.Errorf("timeout ids %s %s", to.MsgID(), later.MsgID())
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, _ := sample().Encode()
	var m map[string]any
	_ = json.Unmarshal(good, &m)
	edit := func(f func(map[string]any)) []byte {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		f(c)
		bz, _ := json.Marshal(c)
		return bz
	}
	for name, bz := range map[string][]byte{
		"empty":          nil,
		"truncated":      good[:len(good)/2],
		"trailing data":  append(append([]byte{}, good...), []byte(`{}`)...),
		"future version": edit(func(c map[string]any) { c["v"] = 2 }),
		"unknown field":  edit(func(c map[string]any) { c["priority"] = 1 }),
		"unknown kind":   edit(func(c map[string]any) { c["kind"] = "steal" }),
		"no sequence": edit(func(c map[string]any) {
			p := c["packet"].(map[string]any)
			p["sequence"] = 0
		}),
		"ack without ack": edit(func(c map[string]any) { c["kind"] = "ack" }),
	} {
		if _, err := packets.Decode(bz); !errors.Is(err, packets.ErrBadWork) {
			t.Errorf("%s: want ErrBadWork, got %v", name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := sample().Encode()
	f.Add(good)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`[]`))
	f.Add(good[:10])
	f.Fuzz(func(t *testing.T, bz []byte) {
		w, err := packets.Decode(bz)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same item.
		again, err := w.Encode()
		if err != nil {
			t.Fatalf("decoded work does not re-encode: %v", err)
		}
		if _, err := packets.Decode(again); err != nil {
			t.Fatalf("re-encoded work does not decode: %v", err)
		}
	})
}

func TestUnclassified(t *testing.T) {
	if class, id := packets.Unclassified("did", []byte{0xff}); class != packets.ClassOther || id != "" {
		t.Fatalf("Unclassified = %q, %q; want %q and no attestation id", class, id, packets.ClassOther)
	}
}

// TestJetStreamDeduplicates publishes the same work twice on a real embedded server: the stream keeps one.
func TestJetStreamDeduplicates(t *testing.T) {
	nc := testnet.NATS(t)
	if _, err := packets.StartEmbedded(t.TempDir(), "0.0.0.0:-1"); err == nil {
		t.Fatal("embedded server listened on a public address")
	}
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 { // idempotent
		if err := packets.Setup(ctx, js, 1, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	w := sample()
	bz, _ := w.Encode()
	for range 3 {
		if _, err := js.Publish(ctx, w.Subject(), bz, jetstream.WithMsgID(w.MsgID())); err != nil {
			t.Fatal(err)
		}
	}
	info, err := js.Stream(ctx, packets.WorkStream)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := info.Info(ctx)
	if st.State.Msgs != 1 {
		t.Fatalf("stream holds %d copies of one work item", st.State.Msgs)
	}
}
