package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer"
)

// The submitter's decisions, tested above NATS and the chains: fakes of a JetStream message, of the
// JetStream publisher, of the relayer (deliverer) and of the ends' chains and light clients.

// fakeMsg is a work item as a pull consumer hands it out; it records what became of it. Methods
// the submitter does not use are not implemented (calling one panics).
type fakeMsg struct {
	jetstream.Msg
	data      []byte
	delivered uint64 // NumDelivered, counting this delivery

	mu    sync.Mutex
	fate  string // "" (nothing yet), "acked", "nak" or "term"
	delay time.Duration
}

func (m *fakeMsg) Data() []byte { return m.data }
func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumDelivered: m.delivered}, nil
}
func (m *fakeMsg) InProgress() error                  { return nil }
func (m *fakeMsg) DoubleAck(context.Context) error    { return m.settle("acked", 0) }
func (m *fakeMsg) NakWithDelay(d time.Duration) error { return m.settle("nak", d) }
func (m *fakeMsg) Term() error                        { return m.settle("term", 0) }

func (m *fakeMsg) settle(fate string, d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fate != "" {
		return fmt.Errorf("%s after %s", fate, m.fate)
	}
	m.fate, m.delay = fate, d
	return nil
}

// fakeJS records what the submitter publishes: dead letters, timeout work and lifecycle steps.
type fakeJS struct {
	jetstream.JetStream

	mu    sync.Mutex
	dead  []*nats.Msg
	work  []string                     // subjects of published work
	steps map[string]packets.Lifecycle // lifecycle key → last record
}

func (j *fakeJS) PublishMsg(_ context.Context, m *nats.Msg, _ ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.dead = append(j.dead, m)
	return &jetstream.PubAck{}, nil
}

func (j *fakeJS) Publish(_ context.Context, subject string, _ []byte, _ ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.work = append(j.work, subject)
	return &jetstream.PubAck{}, nil
}

func (j *fakeJS) PublishAsync(subject string, data []byte, _ ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	var l packets.Lifecycle
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.steps[strings.TrimPrefix(subject, packets.PacketBucketSubject)] = l
	return nil, nil
}

// fakeChain is an end's chain: only its id is used above the relayer.
type fakeChain struct {
	relayer.Chain
	id string
}

func (c fakeChain) ChainID() string { return c.id }

// fakeLight is an end's light client, verified up to a fixed header.
type fakeLight struct {
	relayer.HeaderVerifier
	height int64
	time   time.Time
}

func (l fakeLight) VerifyLatest(context.Context) (*cmttypes.LightBlock, error) {
	return &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &cmttypes.Header{Height: l.height, Time: l.time}}}, nil
}

// call is one delivery the submitter asked of the relayer.
type call struct {
	kind     string
	src, dst string // chain ids, as passed
	seqs     []uint64
}

// fakeRelayer answers every delivery with answer (delivering everything when answer is nil).
type fakeRelayer struct {
	answer func(kind string, seqs []uint64) (*relayer.Outcome, error)

	mu    sync.Mutex
	calls []call
}

func (r *fakeRelayer) do(kind string, src, dst *relayer.End, seqs []uint64) (*relayer.Outcome, error) {
	r.mu.Lock()
	r.calls = append(r.calls, call{kind: kind, src: src.ChainID(), dst: dst.ChainID(), seqs: seqs})
	r.mu.Unlock()
	if r.answer != nil {
		return r.answer(kind, seqs)
	}
	return &relayer.Outcome{Tx: &relayer.TxInfo{Hash: "TX", Height: 200}, Delivered: seqs}, nil
}

func seqsOf(pks []channeltypes.Packet) []uint64 {
	out := make([]uint64, len(pks))
	for i, p := range pks {
		out[i] = p.Sequence
	}
	return out
}

func (r *fakeRelayer) Recv(_ context.Context, src, dst *relayer.End, pks []channeltypes.Packet, _ int64) (*relayer.Outcome, error) {
	return r.do(packets.KindRecv, src, dst, seqsOf(pks))
}

func (r *fakeRelayer) Ack(_ context.Context, src, dst *relayer.End, acks []relayer.Ack, _ int64) (*relayer.Outcome, error) {
	seqs := make([]uint64, len(acks))
	for i, a := range acks {
		seqs[i] = a.Packet.Sequence
	}
	return r.do(packets.KindAck, src, dst, seqs)
}

func (r *fakeRelayer) TimeoutPackets(_ context.Context, src, dst *relayer.End, pks []channeltypes.Packet, _ int64) (*relayer.TxInfo, []uint64, error) {
	out, err := r.do(packets.KindTimeout, src, dst, seqsOf(pks))
	if out == nil {
		return nil, nil, err
	}
	return out.Tx, out.Delivered, err
}

// The test path: a-1 (did/channel-0) ↔ b-1 (did/channel-1); the submitter serves b-1's end. Both
// light clients have verified up to height 100, at now.
var now = time.Unix(1_800_000_000, 0)

const (
	verified  = 100
	retryBase = time.Second
)

// recv is recv work for b-1 (a packet a-1 sent) at height 10.
func recv(seq uint64) *packets.Work {
	return &packets.Work{Kind: packets.KindRecv, Path: "a-b", From: "a-1", To: "b-1", Height: 10, Class: "other",
		Packet: packets.Packet{Sequence: seq, SourcePort: "did", SourceChannel: "channel-0", DestPort: "did", DestChannel: "channel-1",
			Data: []byte("data"), TimeoutTimestamp: uint64(now.Add(time.Hour).UnixNano())}}
}

// back is ack or timeout work for b-1 (a packet b-1 sent to a-1).
func back(kind string, seq uint64) *packets.Work {
	w := &packets.Work{Kind: kind, Path: "a-b", From: "a-1", To: "b-1", Height: 10, Class: "other",
		Packet: packets.Packet{Sequence: seq, SourcePort: "did", SourceChannel: "channel-1", DestPort: "did", DestChannel: "channel-0",
			Data: []byte("data"), TimeoutTimestamp: uint64(now.Add(time.Hour).UnixNano())}}
	if kind == packets.KindAck {
		w.Ack = []byte(`{"result":"AQ=="}`)
	}
	return w
}

func with(w *packets.Work, f func(*packets.Work)) *packets.Work { f(w); return w }

func txRefused(codespace string, code uint32) error {
	return fmt.Errorf("recv on b-1: %w", &chains.TxError{ChainID: "b-1", Codespace: codespace, Code: code, Log: "refused"})
}

func TestSubmitterHandle(t *testing.T) {
	type fate struct {
		fate  string        // "acked", "nak" or "term"
		state string        // the lifecycle's last state
		delay time.Duration // for "nak"
	}
	acked := fate{fate: "acked", state: "confirmed"}
	for _, c := range []struct {
		name      string
		works     []*packets.Work
		raw       [][]byte // undecodable items, after works
		delivered uint64   // NumDelivered of every item (1 when zero)
		answer    func(kind string, seqs []uint64) (*relayer.Outcome, error)
		want      map[uint64]fate // by sequence
		calls     [][]uint64      // the relayer's calls, as sets of sequences in any order
		dead      int             // dead letters
		reason    string          // in every dead letter's reason
		failed    string          // the OnFailed reason of a hand-back
		retried   string          // the OnRetried reason of a hand-back (then nothing is reported failed)
		work      []string        // work published (timeouts handed to the source)
	}{{
		// A batch of one kind for one channel end goes out in one tx, acknowledged once committed.
		name:  "recv batch in one tx",
		works: []*packets.Work{recv(1), recv(2), recv(3)},
		want:  map[uint64]fate{1: acked, 2: acked, 3: acked},
		calls: [][]uint64{{1, 2, 3}},
	}, {
		// Each item is settled by the outcome on its own: carried, proven done, or refused.
		name:  "outcome settles each item",
		works: []*packets.Work{recv(1), recv(2), recv(3)},
		answer: func(string, []uint64) (*relayer.Outcome, error) {
			return &relayer.Outcome{Tx: &relayer.TxInfo{Hash: "TX", Height: 200}, Delivered: []uint64{1}, Done: map[int]string{1: "receipt proven"},
				Bad: map[int]error{2: fmt.Errorf("forged: %w", relayer.ErrBadEvent)}}, nil
		},
		want:   map[uint64]fate{1: acked, 2: {fate: "acked", state: "already-delivered"}, 3: {fate: "term", state: "failed"}},
		calls:  [][]uint64{{1, 2, 3}},
		dead:   1,
		reason: "forged",
	}, {
		// A tx the chain refuses is split until the item that caused it is alone: only it is retried.
		name:  "refusal isolates the poison item",
		works: []*packets.Work{recv(1), recv(2), recv(3), recv(4)},
		answer: func(_ string, seqs []uint64) (*relayer.Outcome, error) {
			if slices.Contains(seqs, 3) {
				return nil, txRefused("ibc", 11)
			}
			return &relayer.Outcome{Tx: &relayer.TxInfo{Hash: "TX", Height: 200}, Delivered: seqs}, nil
		},
		want:   map[uint64]fate{1: acked, 2: acked, 3: {fate: "nak", state: "retrying", delay: retryBase}, 4: acked},
		calls:  [][]uint64{{1, 2, 3, 4}, {1, 2}, {3, 4}, {3}, {4}},
		failed: "tx ibc/11",
	}, {
		// A batch too large for one tx is halved until the halves fit.
		name:  "too large is halved",
		works: []*packets.Work{recv(1), recv(2), recv(3), recv(4)},
		answer: func(_ string, seqs []uint64) (*relayer.Outcome, error) {
			if len(seqs) > 2 {
				return nil, fmt.Errorf("b-1: %d messages: %w", len(seqs), chains.ErrTxTooLarge)
			}
			return &relayer.Outcome{Tx: &relayer.TxInfo{Hash: "TX", Height: 200}, Delivered: seqs}, nil
		},
		want:  map[uint64]fate{1: acked, 2: acked, 3: acked, 4: acked},
		calls: [][]uint64{{1, 2, 3, 4}, {1, 2}, {3, 4}},
	}, {
		// A transient failure hands every item back with a backoff growing with its deliveries, and
		// never dead-letters it (MaxDeliver counts deterministic failures only).
		name:      "transient failure backs off without a limit",
		works:     []*packets.Work{recv(1), recv(2)},
		delivered: 5,
		answer: func(string, []uint64) (*relayer.Outcome, error) {
			return nil, errors.New("b-1: connection refused")
		},
		want:    map[uint64]fate{1: {fate: "nak", state: "retrying", delay: 16 * retryBase}, 2: {fate: "nak", state: "retrying", delay: 16 * retryBase}},
		calls:   [][]uint64{{1, 2}},
		retried: "transient",
	}, {
		// A lone item the chain keeps refusing is dead-lettered once it has had MaxDeliver tries.
		name:      "refused lone item dead after MaxDeliver",
		works:     []*packets.Work{recv(7)},
		delivered: 3,
		answer: func(string, []uint64) (*relayer.Outcome, error) {
			return nil, txRefused("did", 5)
		},
		want:   map[uint64]fate{7: {fate: "term", state: "failed"}},
		calls:  [][]uint64{{7}},
		dead:   1,
		reason: "failed 3 times",
		failed: "tx did/5",
	}, {
		// A lone item too large for a tx under this config is not retried forever: dead-lettered
		// after MaxDeliver tries, saying why (the operator raises max_gas and re-queues it).
		name:      "lone item too large dead after MaxDeliver",
		works:     []*packets.Work{recv(8)},
		delivered: 3,
		answer: func(_ string, seqs []uint64) (*relayer.Outcome, error) {
			return nil, fmt.Errorf("b-1: %d messages need 95000000 gas, max_gas is 90000000: %w", len(seqs)+1, chains.ErrTxTooLarge)
		},
		want:   map[uint64]fate{8: {fate: "term", state: "failed"}},
		calls:  [][]uint64{{8}},
		dead:   1,
		reason: "max_gas",
		failed: "too large",
	}, {
		// A terminal error dead-letters the whole batch at once.
		name:  "terminal error dead-letters the batch",
		works: []*packets.Work{recv(1), recv(2)},
		answer: func(string, []uint64) (*relayer.Outcome, error) {
			return nil, fmt.Errorf("%w: cannot be delivered", ErrTerminal)
		},
		want:   map[uint64]fate{1: {fate: "term", state: "failed"}, 2: {fate: "term", state: "failed"}},
		calls:  [][]uint64{{1, 2}},
		dead:   2,
		reason: "cannot be delivered",
	}, {
		// Ack work goes back to the packet's source: this chain, from the chain that wrote it.
		name:  "ack work",
		works: []*packets.Work{back(packets.KindAck, 4), back(packets.KindAck, 5)},
		want:  map[uint64]fate{4: acked, 5: acked},
		calls: [][]uint64{{4, 5}},
	}, {
		// Timeout work is proven on this chain (the sender) from the chain that never received it.
		name:  "timeout work",
		works: []*packets.Work{back(packets.KindTimeout, 9)},
		want:  map[uint64]fate{9: acked},
		calls: [][]uint64{{9}},
	}, {
		// A recv the destination can no longer receive becomes timeout work for its source, and
		// leaves the batch; the rest is delivered.
		name: "timed-out recv handed to the source",
		works: []*packets.Work{with(recv(1), func(w *packets.Work) { w.Packet.TimeoutTimestamp = uint64(now.Add(-time.Minute).UnixNano()) }),
			recv(2)},
		want:  map[uint64]fate{1: {fate: "acked", state: "timed-out"}, 2: acked},
		calls: [][]uint64{{2}},
		work:  []string{packets.WorkSubject("a-1", packets.EndToken("did", "channel-0"), packets.KindTimeout)},
	}, {
		// An item naming a height its source's light client has not verified is handed back alone.
		name:  "height ahead handed back alone",
		works: []*packets.Work{recv(1), with(recv(2), func(w *packets.Work) { w.Height = verified + 50 })},
		want:  map[uint64]fate{1: acked, 2: {fate: "nak", state: "retrying", delay: retryBase}},
		calls: [][]uint64{{1}},
	}, {
		// Work from a chain no local path links to this end is dead-lettered, not bounced forever.
		name:   "no path for the work",
		works:  []*packets.Work{with(recv(1), func(w *packets.Work) { w.From = "c-1" })},
		want:   map[uint64]fate{1: {fate: "term", state: "failed"}},
		dead:   1,
		reason: "no path here links these ends",
	}, {
		// An item that does not decode is dead-lettered with the decoding error.
		name:   "undecodable item",
		raw:    [][]byte{[]byte(`{"v":1,"kind":"recv"}`)},
		dead:   1,
		reason: packets.ErrBadWork.Error(),
	}} {
		t.Run(c.name, func(t *testing.T) {
			js := &fakeJS{steps: map[string]packets.Lifecycle{}}
			rel := &fakeRelayer{answer: c.answer}
			light := fakeLight{height: verified, time: now}
			p := &relayer.Path{Name: "a-b",
				A: &relayer.End{Chain: fakeChain{id: "a-1"}, Light: light, PortID: "did", ChannelID: "channel-0"},
				B: &relayer.End{Chain: fakeChain{id: "b-1"}, Light: light, PortID: "did", ChannelID: "channel-1"}}
			var mu sync.Mutex
			var failed, retried []string
			o := Options{Paths: []*relayer.Path{p}, JS: js, Log: zerolog.Nop(), MaxDeliver: 3, RetryBase: retryBase,
				OnFailed: func(_, _, reason string, _ int) {
					mu.Lock()
					defer mu.Unlock()
					failed = append(failed, reason)
				},
				OnRetried: func(_, _, reason string, _ int) {
					mu.Lock()
					defer mu.Unlock()
					retried = append(retried, reason)
				}}
			s := &submitter{to: "b-1", port: "did", channel: "channel-1", o: o, rel: rel, life: packets.NewRecorder(js, zerolog.Nop())}

			delivered := max(c.delivered, 1)
			var msgs []jetstream.Msg
			bySeq := map[uint64]*fakeMsg{}
			for _, w := range c.works {
				bz, err := w.Encode()
				if err != nil {
					t.Fatal(err)
				}
				m := &fakeMsg{data: bz, delivered: delivered}
				msgs, bySeq[w.Packet.Sequence] = append(msgs, m), m
			}
			var raws []*fakeMsg
			for _, bz := range c.raw {
				m := &fakeMsg{data: bz, delivered: delivered}
				msgs, raws = append(msgs, m), append(raws, m)
			}
			s.handle(context.Background(), msgs)

			for _, w := range c.works {
				seq, m, want := w.Packet.Sequence, bySeq[w.Packet.Sequence], c.want[w.Packet.Sequence]
				if m.fate != want.fate || m.delay != want.delay {
					t.Errorf("seq %d: %s (delay %s), want %s (delay %s)", seq, m.fate, m.delay, want.fate, want.delay)
				}
				got := js.steps[packets.LifecycleKey(w.MsgID())]
				if got.State != want.state {
					t.Errorf("seq %d: lifecycle %q, want %q", seq, got.State, want.state)
				}
				// A confirmed step names the tx and where it was committed: this submitter's chain.
				if got.State == "confirmed" && (got.Tx != "TX" || got.Height != 200 || got.Chain != "b-1") {
					t.Errorf("seq %d: confirmed lifecycle %+v, want tx TX at height 200 on b-1", seq, got)
				}
			}
			for i, m := range raws {
				if m.fate != "term" {
					t.Errorf("undecodable item %d: %q, want term", i, m.fate)
				}
			}
			var got [][]uint64
			for _, cl := range rel.calls {
				got = append(got, cl.seqs)
				kind := c.works[0].Kind
				src, dst := "a-1", "b-1" // the chain the proofs come from, the chain the tx goes to
				if kind == packets.KindTimeout {
					src, dst = dst, src // TimeoutPackets takes the sender first
				}
				if cl.kind != kind || cl.src != src || cl.dst != dst {
					t.Errorf("call %+v, want %s from %s to %s", cl, kind, src, dst)
				}
			}
			if !sameCalls(got, c.calls) {
				t.Errorf("relayer calls %v, want %v", got, c.calls)
			}
			if len(js.dead) != c.dead {
				t.Errorf("%d dead letters, want %d", len(js.dead), c.dead)
			}
			for _, d := range js.dead {
				if r := d.Header.Get(packets.ReasonHeader); !strings.Contains(r, c.reason) {
					t.Errorf("dead letter reason %q, want it to name %q", r, c.reason)
				}
				if !strings.HasPrefix(d.Subject, packets.DeadSubject("b-1", "")) {
					t.Errorf("dead letter on %s", d.Subject)
				}
			}
			if c.failed != "" && !slices.Contains(failed, c.failed) {
				t.Errorf("OnFailed reasons %v, want %q among them", failed, c.failed)
			}
			// A retry is not a failure: what is handed back to be tried again is reported apart.
			if c.retried != "" && (!slices.Contains(retried, c.retried) || len(failed) != 0) {
				t.Errorf("OnRetried reasons %v, OnFailed reasons %v; want %q retried and nothing failed", retried, failed, c.retried)
			}
			if !slices.Equal(js.work, c.work) {
				t.Errorf("work published %v, want %v", js.work, c.work)
			}
		})
	}
}

// sameCalls compares calls as a multiset of sequence sets: the halves of a split batch are
// delivered concurrently.
func sameCalls(got, want [][]uint64) bool {
	key := func(calls [][]uint64) []string {
		var out []string
		for _, c := range calls {
			c = slices.Clone(c)
			slices.Sort(c)
			out = append(out, fmt.Sprint(c))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(got), key(want))
}

func TestClassify(t *testing.T) {
	refused := &chains.TxError{ChainID: "b-1", Codespace: "sdk", Code: 32, Log: "account sequence mismatch"}
	for _, c := range []struct {
		name       string
		err        error
		items      int
		want       failure
		reason     string
		determined bool // deterministic: dead-lettered after MaxDeliver tries
	}{
		// Too large for one tx: halve it.
		{"too large batch", fmt.Errorf("recv: %w", chains.ErrTxTooLarge), 2, failSplit, "", true},
		// A lone item too large for a tx (max_gas or the node's tx size): nothing to split, and it
		// will not fit on another try either: retried, then dead-lettered with the reason (the
		// operator raises max_gas and re-queues it).
		{"too large item", fmt.Errorf("recv: %w", chains.ErrTxTooLarge), 1, failRetry, "too large", true},
		// A chain's refusal of a batch: split to find the item that caused it.
		{"refused batch", fmt.Errorf("recv 3 packets on b-1: %w", refused), 3, failSplit, "", true},
		// A chain's refusal of one item: retried, named by its code.
		{"refused item", refused, 1, failRetry, "tx sdk/32", true},
		// Terminal: dead-letter, however many items.
		{"terminal batch", fmt.Errorf("%w: kind", ErrTerminal), 5, failDead, "", false},
		// A node that did not answer: transient, retried without a limit, not a failure.
		{"unreachable", errors.New("dial tcp: connection refused"), 4, failTransient, "transient", false},
		// A state the relayer had not verified yet (another batch's client update just committed).
		{"state not verified yet", errors.New("client 07-tendermint-0 on a-1 has no consensus state at 1-41"), 3, failTransient, "transient", false},
		// The key's account sequence taken after the signer's own retries: the items are not at
		// fault, the batch is handed back whole.
		{"sequence mismatch", fmt.Errorf("recv 3 packets on b-1: %w", &chains.TxError{ChainID: "b-1", Codespace: "sdk", Code: 32,
			Log: "account sequence mismatch", Reason: chains.ErrSequenceMismatch}), 3, failTransient, "transient", false},
		// A height the source's light client never verified: retried, then dead-lettered.
		{"height ahead", fmt.Errorf("%w: 500", relayer.ErrHeightAhead), 1, failTransient, "height ahead", true},
		// The chain asks more per gas than max_gas_price: nothing was sent, the batch is not at fault
		// (not split, never dead-lettered): retried until the price falls or the cap is raised.
		{"gas price above cap", fmt.Errorf("recv 3 packets on b-1: %w", chains.ErrGasPriceAboveCap), 3, failTransient, "gas price above cap", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, reason := classify(c.err, c.items)
			if got != c.want || reason != c.reason {
				t.Errorf("classify = %d %q, want %d %q", got, reason, c.want, c.reason)
			}
			if d := deterministic(c.err); d != c.determined {
				t.Errorf("deterministic = %v, want %v", d, c.determined)
			}
		})
	}
}
