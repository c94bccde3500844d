package pipeline

import (
	"context"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// TestOrderedHold: while its loop runs, an ORDERED end holds the items after a gap (neither acked
// nor handed back, counted once as out of order), keeps of a round only BatchMax lowest sequences
// (holding the rest), delivers held items as soon as the gap is, and hands back what it still holds
// when the loop ends.
func TestOrderedHold(t *testing.T) {
	js := &fakeJS{steps: map[string]packets.Lifecycle{}}
	next := uint64(1) // the destination's next_sequence_recv
	rel := &fakeRelayer{answer: func(_ string, seqs []uint64) (*relayer.Outcome, error) {
		out := &relayer.Outcome{Later: map[int]string{}, Tx: &relayer.TxInfo{Hash: "TX", Height: 200}}
		for i, s := range seqs {
			if s == next {
				out.Delivered = append(out.Delivered, s)
				next++
			} else {
				out.Later[i] = "gap"
			}
		}
		return out, nil
	}}
	light := fakeLight{height: verified, time: now}
	p := &relayer.Path{Name: "a-b",
		A: &relayer.End{Chain: fakeChain{id: "a-1"}, Light: light, PortID: "did", ChannelID: "channel-0"},
		B: &relayer.End{Chain: fakeChain{id: "b-1"}, Light: light, PortID: "did", ChannelID: "channel-1"}}
	waited := 0
	o := Options{Paths: []*relayer.Path{p}, JS: js, Log: zerolog.Nop(), MaxDeliver: 3, RetryBase: retryBase, BatchMax: 2,
		OnRetried: func(_, _, reason string, n int) {
			if reason == "out of order" {
				waited += n
			}
		}}
	s := &submitter{to: "b-1", port: "did", channel: "channel-1", o: o, rel: rel, life: packets.NewRecorder(js, zerolog.Nop()), ordered: true}
	msgs := map[uint64]*fakeMsg{}
	msg := func(seq uint64) jetstream.Msg {
		bz, err := recv(seq).Encode()
		if err != nil {
			t.Fatal(err)
		}
		msgs[seq] = &fakeMsg{data: bz, delivered: 1}
		return msgs[seq]
	}
	fates := func() []string {
		var f []string
		for seq := uint64(1); seq <= 5; seq++ {
			if m := msgs[seq]; m != nil {
				f = append(f, m.fate)
			}
		}
		return f
	}
	s.held.start()
	ctx := context.Background()

	// Round 1: 2..5 behind the gap of 1. 2 and 3 are tried (BatchMax), 4 and 5 held untried.
	s.handle(ctx, []jetstream.Msg{msg(2), msg(3), msg(4), msg(5)})
	if f := fates(); !slices.Equal(f, []string{"", "", "", ""}) || waited != 2 {
		t.Fatalf("after round 1: fates %q, %d counted out of order; want all held, 2 counted", f, waited)
	}
	// Round 2: 1 arrives; with the held items 1 and 2 are delivered, 3..5 stay held (not counted again).
	taken := s.held.take(1)
	if len(taken) != 4 {
		t.Fatalf("took %d held items, want 4", len(taken))
	}
	s.handle(ctx, append(taken, msg(1)))
	s.held.settled(taken)
	if f := fates(); !slices.Equal(f, []string{"acked", "acked", "", "", ""}) || waited != 2 {
		t.Fatalf("after round 2: fates %q, %d counted; want 1, 2 acked, the rest held", f, waited)
	}
	if s.held.take(0) != nil {
		t.Fatal("held items tried again before laterDelay with nothing fetched")
	}
	// Round 3: 3 and 4 delivered; 5 still held.
	taken = s.held.take(1)
	s.handle(ctx, taken)
	s.held.settled(taken)
	if f := fates(); !slices.Equal(f, []string{"acked", "acked", "acked", "acked", ""}) {
		t.Fatalf("after round 3: fates %q", f)
	}
	// The loop ends: 5 is handed back.
	s.held.release()
	if m := msgs[5]; m.fate != "nak" || m.delay != laterDelay {
		t.Fatalf("after release 5 is %q (delay %s), want nak after %s", m.fate, m.delay, laterDelay)
	}
	if got := rel.calls; len(got) != 3 {
		t.Fatalf("%d recv calls, want 3", len(got))
	}
}
