package pipeline

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// TestOrderedSubmitter: the submitter of an ORDERED end hands back (not acknowledges, not counts as
// failed) what the relayer marks Later, delivers a split batch's halves one after the other, and
// turns recv work for a CLOSED destination end into timeout work (acknowledgements for a closed
// sender are dead-lettered).
func TestOrderedSubmitter(t *testing.T) {
	run := func(t *testing.T, works []*packets.Work, answer func(kind string, seqs []uint64) (*relayer.Outcome, error)) (*fakeRelayer, *fakeJS, map[uint64]*fakeMsg, []string, []string) {
		js := &fakeJS{steps: map[string]packets.Lifecycle{}}
		rel := &fakeRelayer{answer: answer}
		light := fakeLight{height: verified, time: now}
		p := &relayer.Path{Name: "a-b",
			A: &relayer.End{Chain: fakeChain{id: "a-1"}, Light: light, PortID: "did", ChannelID: "channel-0"},
			B: &relayer.End{Chain: fakeChain{id: "b-1"}, Light: light, PortID: "did", ChannelID: "channel-1"}}
		var failed, retried []string
		o := Options{Paths: []*relayer.Path{p}, JS: js, Log: zerolog.Nop(), MaxDeliver: 3, RetryBase: retryBase,
			OnFailed:  func(_, _, reason string, _ int) { failed = append(failed, reason) },
			OnRetried: func(_, _, reason string, _ int) { retried = append(retried, reason) }}
		s := &submitter{to: "b-1", port: "did", channel: "channel-1", o: o, rel: rel, life: packets.NewRecorder(js, zerolog.Nop()), ordered: true}
		var msgs []jetstream.Msg
		bySeq := map[uint64]*fakeMsg{}
		for _, w := range works {
			bz, err := w.Encode()
			if err != nil {
				t.Fatal(err)
			}
			m := &fakeMsg{data: bz, delivered: 1}
			msgs, bySeq[w.Packet.Sequence] = append(msgs, m), m
		}
		s.handle(context.Background(), msgs)
		return rel, js, bySeq, failed, retried
	}

	t.Run("later handed back", func(t *testing.T) {
		_, _, msgs, failed, retried := run(t, []*packets.Work{recv(1), recv(2), recv(4)}, func(_ string, seqs []uint64) (*relayer.Outcome, error) {
			return &relayer.Outcome{Tx: &relayer.TxInfo{Hash: "TX", Height: 200}, Delivered: []uint64{1, 2}, Later: map[int]string{2: "sequence 3 is missing"}}, nil
		})
		if msgs[1].fate != "acked" || msgs[2].fate != "acked" || msgs[4].fate != "nak" || msgs[4].delay != laterDelay {
			t.Fatalf("fates 1:%s 2:%s 4:%s (delay %s), want acked, acked, nak after %s", msgs[1].fate, msgs[2].fate, msgs[4].fate, msgs[4].delay, laterDelay)
		}
		if len(failed) != 0 || !slices.Contains(retried, "out of order") {
			t.Fatalf("failed %v retried %v: want the later item retried as out of order, nothing failed", failed, retried)
		}
	})

	t.Run("halves in sequence", func(t *testing.T) {
		rel, _, msgs, _, _ := run(t, []*packets.Work{recv(1), recv(2), recv(3), recv(4)}, func(_ string, seqs []uint64) (*relayer.Outcome, error) {
			if len(seqs) > 2 {
				return nil, fmt.Errorf("b-1: %d messages: %w", len(seqs), chains.ErrTxTooLarge)
			}
			if seqs[0] == 1 {
				time.Sleep(100 * time.Millisecond) // a parallel second half would overtake the first
			}
			return &relayer.Outcome{Tx: &relayer.TxInfo{Hash: "TX", Height: 200}, Delivered: seqs}, nil
		})
		var got []string
		for _, c := range rel.calls {
			got = append(got, fmt.Sprint(c.seqs))
		}
		if want := []string{"[1 2 3 4]", "[1 2]", "[3 4]"}; !slices.Equal(got, want) {
			t.Fatalf("calls %v, want %v in that order", got, want)
		}
		for s, m := range msgs {
			if m.fate != "acked" {
				t.Fatalf("seq %d: %s", s, m.fate)
			}
		}
	})

	t.Run("closed destination times out on close", func(t *testing.T) {
		_, js, msgs, _, _ := run(t, []*packets.Work{recv(1), recv(2)}, func(string, []uint64) (*relayer.Outcome, error) {
			return nil, fmt.Errorf("did/channel-1 on b-1: %w", relayer.ErrChannelClosed)
		})
		timeout := packets.WorkSubject("a-1", packets.EndToken("did", "channel-0"), packets.KindTimeout)
		if !slices.Equal(js.work, []string{timeout, timeout}) {
			t.Fatalf("work published %v, want two timeouts for a-1", js.work)
		}
		for s, m := range msgs {
			if m.fate != "acked" || js.steps[packets.LifecycleKey(recv(s).MsgID())].State != "timed-out" {
				t.Fatalf("seq %d: %s, lifecycle %q", s, m.fate, js.steps[packets.LifecycleKey(recv(s).MsgID())].State)
			}
		}
	})

	t.Run("closed sender dead-letters acks", func(t *testing.T) {
		_, js, msgs, _, _ := run(t, []*packets.Work{back(packets.KindAck, 3)}, func(string, []uint64) (*relayer.Outcome, error) {
			return nil, fmt.Errorf("did/channel-1 on b-1: %w", relayer.ErrChannelClosed)
		})
		if msgs[3].fate != "term" || len(js.dead) != 1 {
			t.Fatalf("ack on a closed end: %s, %d dead letters", msgs[3].fate, len(js.dead))
		}
	})
}
