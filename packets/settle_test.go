package packets_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/packets"
)

// fakeMsg is a delivered work item: what the settler did with it is its fate.
type fakeMsg struct {
	jetstream.Msg
	data      []byte
	delivered uint64 // 0: metadata unreadable
	fate      string // "nak", "term" or ""
	delay     time.Duration
}

func (m *fakeMsg) Data() []byte { return m.data }
func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	if m.delivered == 0 {
		return nil, errors.New("not a JetStream message")
	}
	return &jetstream.MsgMetadata{NumDelivered: m.delivered}, nil
}
func (m *fakeMsg) NakWithDelay(d time.Duration) error { m.fate, m.delay = "nak", d; return nil }
func (m *fakeMsg) Term() error                        { m.fate = "term"; return nil }

// fakePub records dead letters, or refuses them.
type fakePub struct {
	sent []*nats.Msg
	err  error
}

func (p *fakePub) PublishMsg(_ context.Context, m *nats.Msg, _ ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.sent = append(p.sent, m)
	return &jetstream.PubAck{}, nil
}

// hooks records the settler's calls to its hooks, in order.
type hooks struct{ calls []string }

func (h *hooks) settler(pub packets.Publisher) *packets.Settler {
	return &packets.Settler{JS: pub, To: "bucheon-1", MaxDeliver: 3, RetryBase: time.Second, Requeue: 2 * time.Second, Log: zerolog.Nop(),
		BeforeRetry: func(it packets.Item, tries uint64, delay time.Duration, err error) {
			h.calls = append(h.calls, fmt.Sprintf("retry %s try %d in %s: %v", it.ID, tries, delay, err))
		},
		BeforeDead: func(it packets.Item, reason error) { h.calls = append(h.calls, "before dead "+it.ID) },
		OnDead: func(it packets.Item, reason error) {
			h.calls = append(h.calls, fmt.Sprintf("dead %s/%s terminal=%v", it.Path, it.Kind, errors.Is(reason, packets.ErrTerminal)))
		},
	}
}

var item = packets.Item{Path: "seoul-bucheon", Kind: packets.KindRecv, ID: "seoul-1/did/channel-0/7/recv/12-ab"}

// TestSettlerRetry: what the pipeline's submitter and the EVM bridge both rely on. A transient
// failure is handed back with a backoff growing with the deliveries (base doubled, capped), without
// a limit; a deterministic one likewise until MaxDeliver deliveries, then dead-lettered with a reason
// that wraps ErrTerminal and says how often it failed and why; the hooks see a retry before the
// hand-back and a dead letter before and after its publication, never both for one failure.
func TestSettlerRetry(t *testing.T) {
	cause := errors.New("tx sdk/5: refused")
	for _, c := range []struct {
		name          string
		delivered     uint64
		deterministic bool
		fate          string
		delay         time.Duration
		calls         []string
	}{
		{"transient, first delivery", 1, false, "nak", time.Second, []string{"retry " + item.ID + " try 1 in 1s: " + cause.Error()}},
		{"transient, past MaxDeliver: no limit", 5, false, "nak", 16 * time.Second, []string{"retry " + item.ID + " try 5 in 16s: " + cause.Error()}},
		{"transient, backoff capped", 40, false, "nak", packets.MaxBackoff, []string{"retry " + item.ID + " try 40 in 5m0s: " + cause.Error()}},
		{"metadata unreadable: one delivery", 0, true, "nak", time.Second, []string{"retry " + item.ID + " try 1 in 1s: " + cause.Error()}},
		{"deterministic, below MaxDeliver", 2, true, "nak", 2 * time.Second, []string{"retry " + item.ID + " try 2 in 2s: " + cause.Error()}},
		{"deterministic, at MaxDeliver", 3, true, "term", 0, []string{"before dead " + item.ID, "dead seoul-bucheon/recv terminal=true"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h hooks
			pub := &fakePub{}
			m := &fakeMsg{data: []byte("work"), delivered: c.delivered}
			v := h.settler(pub).Retry(context.Background(), m, item, cause, c.deterministic)
			if m.fate != c.fate || m.delay != c.delay {
				t.Fatalf("%s after %s; want %s after %s", m.fate, m.delay, c.fate, c.delay)
			}
			if strings.Join(h.calls, "|") != strings.Join(c.calls, "|") {
				t.Fatalf("hooks %q, want %q", h.calls, c.calls)
			}
			if v.Dead != (c.fate == "term") || v.Delay != c.delay || v.Tries != max(c.delivered, 1) {
				t.Fatalf("verdict %+v", v)
			}
			if !v.Dead {
				if len(pub.sent) != 0 {
					t.Fatalf("%d dead letters for a retry", len(pub.sent))
				}
				return
			}
			if len(pub.sent) != 1 {
				t.Fatalf("%d dead letters, want 1", len(pub.sent))
			}
			d := pub.sent[0]
			want := fmt.Sprintf("terminal: failed 3 times, last: %v", cause)
			if d.Subject != "cityrelay.dead.bucheon-1.seoul-bucheon" || string(d.Data) != "work" || d.Header.Get(packets.ReasonHeader) != want {
				t.Fatalf("dead letter %s %q reason %q; want cityrelay.dead.bucheon-1.seoul-bucheon, the item's bytes, %q",
					d.Subject, d.Data, d.Header.Get(packets.ReasonHeader), want)
			}
		})
	}
}

// TestSettlerDead: a dead letter carries the item's bytes and the reason; when it cannot be published
// the item is handed back after Requeue (RetryBase when unset), not terminated, and OnDead is not
// told; the hook before is told either way (the pipeline records the item failed there).
func TestSettlerDead(t *testing.T) {
	var h hooks
	pub := &fakePub{}
	m := &fakeMsg{data: []byte("not a work item"), delivered: 1}
	bad := packets.Item{Path: "unknown", Kind: "unknown"}
	if err := h.settler(pub).Dead(context.Background(), m, bad, fmt.Errorf("%w: kind", packets.ErrBadWork)); err != nil {
		t.Fatal(err)
	}
	if m.fate != "term" || len(pub.sent) != 1 || pub.sent[0].Subject != "cityrelay.dead.bucheon-1.unknown" ||
		pub.sent[0].Header.Get(packets.ReasonHeader) != "bad work item: kind" || string(pub.sent[0].Data) != "not a work item" {
		t.Fatalf("fate %q, dead letters %v", m.fate, pub.sent)
	}
	if strings.Join(h.calls, "|") != "before dead |dead unknown/unknown terminal=false" {
		t.Fatalf("hooks %q", h.calls)
	}

	down := errors.New("nats: no responders")
	for _, c := range []struct {
		requeue, want time.Duration
	}{{2 * time.Second, 2 * time.Second}, {0, time.Second}} {
		h = hooks{}
		s := h.settler(&fakePub{err: down})
		s.Requeue = c.requeue
		m := &fakeMsg{data: []byte("work"), delivered: 9}
		err := s.Dead(context.Background(), m, item, errors.New("refused"))
		if !errors.Is(err, packets.ErrDeadLetter) || !errors.Is(err, down) {
			t.Fatalf("unpublished dead letter: %v; want ErrDeadLetter wrapping the cause", err)
		}
		if m.fate != "nak" || m.delay != c.want {
			t.Fatalf("requeue %s: %s after %s, want nak after %s", c.requeue, m.fate, m.delay, c.want)
		}
		if strings.Join(h.calls, "|") != "before dead "+item.ID {
			t.Fatalf("hooks %q: OnDead must not be told of an unpublished dead letter", h.calls)
		}
	}
}

// TestSettlerDefaults: MaxDeliver 8 and RetryBase 2s when unset, as both submitters had.
func TestSettlerDefaults(t *testing.T) {
	s := &packets.Settler{JS: &fakePub{}, To: "b-1", Log: zerolog.Nop()}
	m := &fakeMsg{data: []byte("w"), delivered: 7}
	if v := s.Retry(context.Background(), m, item, errors.New("refused"), true); v.Dead || m.delay != packets.Backoff(packets.DefaultRetryBase, 7) {
		t.Fatalf("7th delivery: %+v, %s", v, m.delay)
	}
	m = &fakeMsg{data: []byte("w"), delivered: 8}
	if v := s.Retry(context.Background(), m, item, errors.New("refused"), true); !v.Dead || m.fate != "term" {
		t.Fatalf("8th delivery: %+v, %s; want dead-lettered", v, m.fate)
	}
	if packets.DefaultMaxDeliver != 8 || packets.DefaultRetryBase != 2*time.Second || packets.Backoff(2*time.Second, 3) != 8*time.Second {
		t.Fatal("defaults changed")
	}
}

// TestSettlerDeadLetterOnJetStream: on a real embedded server, an item fetched from the work queue and
// dead-lettered by the settler leaves the work queue, lands in the dead-letter stream with its reason
// (DeadLetters reads it back as a work item), and Requeue puts it back in the work queue.
func TestSettlerDeadLetterOnJetStream(t *testing.T) {
	ctx := context.Background()
	srv, err := packets.StartEmbedded(t.TempDir(), "127.0.0.1:-1")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := packets.Setup(ctx, js, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	w := sample()
	bz, err := w.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, w.Subject(), bz, jetstream.WithMsgID(w.MsgID())); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, packets.WorkStream, jetstream.ConsumerConfig{Durable: "settle", AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubject: w.Subject()})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m := <-batch.Messages()
	if m == nil {
		t.Fatal("no work fetched")
	}
	s := &packets.Settler{JS: js, To: w.To, MaxDeliver: 1, Log: zerolog.Nop()}
	if v := s.Retry(ctx, m, packets.Item{Path: w.Path, Kind: w.Kind, ID: w.MsgID()}, errors.New("tx sdk/5: refused"), true); !v.Dead {
		t.Fatalf("verdict %+v; want dead at MaxDeliver 1", v)
	}
	dead, err := packets.DeadLetters(ctx, js, 0)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters %v, %v; want 1", dead, err)
	}
	if d := dead[0]; d.Work == nil || d.Work.MsgID() != w.MsgID() || d.Reason != "terminal: failed 1 times, last: tx sdk/5: refused" {
		t.Fatalf("dead letter %+v", d)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st, err := js.Stream(ctx, packets.WorkStream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 0 {
			break // terminated: gone from the work queue
		}
		if time.Now().After(deadline) {
			t.Fatalf("work queue still holds %d items after the dead letter", info.State.Msgs)
		}
	}
	if back, err := packets.Requeue(ctx, js, dead[0].Seq); err != nil || back.MsgID() != w.MsgID() {
		t.Fatalf("requeue: %v, %v", back, err)
	}
}
