package pipeline

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// An ORDERED end's items after a gap (Later) are held here rather than handed back to JetStream:
// handed back, they came back before the gap's own items (redeliveries go first, the gap fetched
// again is at the stream's tail) and were handed back again, round after round. Held, they stay
// claimed (kept in progress), are tried again with what the next fetch brings (at least every
// laterDelay), lowest sequences first, and are delivered as soon as the gap is; the relayer proves
// each time what the end can take, so holding changes nothing of what is delivered or in what order.
// Beyond maxHeld items, or at shutdown, they are handed back as before.

// maxHeld bounds the items one ordered end holds (each is one claimed JetStream message).
const maxHeld = 2000

// heightWait bounds how long an ordered end waits for its source's light client to verify an item's
// height before handing the item back (which reorders the queue behind it).
const heightWait = 5 * time.Second

// heldQueue is an ordered end's held items: in is true while an item waits in the queue, false while
// it is being tried again (taken), and the item is forgotten once a try settles it otherwise.
type heldQueue struct {
	mu sync.Mutex
	// on while the submitter's loop runs: it keeps the held items claimed and tries them again (a
	// batch handled without it hands its Later items back).
	on       bool
	in       map[jetstream.Msg]bool
	lastTry  time.Time
	lastBeat time.Time
}

// hold keeps m (an item found Later) and reports whether it is newly held; false with full when
// the queue is full (the caller hands it back).
func (q *heldQueue) hold(m jetstream.Msg) (fresh, full bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.on {
		return false, true
	}
	if q.in == nil {
		q.in = map[jetstream.Msg]bool{}
	}
	if _, ok := q.in[m]; ok {
		q.in[m] = true
		return false, false
	}
	if len(q.in) >= maxHeld {
		return false, true
	}
	q.in[m] = true
	return true, false
}

// take returns the held items to try again (all of them) when fetched brought work or laterDelay
// has passed since the last try; nil otherwise.
func (q *heldQueue) take(fetched int) []jetstream.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.in) == 0 || (fetched == 0 && time.Since(q.lastTry) < laterDelay) {
		return nil
	}
	q.lastTry = time.Now()
	var out []jetstream.Msg
	for m, in := range q.in {
		if in {
			out = append(out, m)
			q.in[m] = false
		}
	}
	return out
}

// settled forgets the taken items a try did not hold again.
func (q *heldQueue) settled(taken []jetstream.Msg) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range taken {
		if !q.in[m] {
			delete(q.in, m)
		}
	}
}

// beat keeps the waiting items claimed (their AckWait restarts) every heartbeat.
func (q *heldQueue) beat() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.in) == 0 || time.Since(q.lastBeat) < heartbeat {
		return
	}
	q.lastBeat = time.Now()
	for m, in := range q.in {
		if in {
			_ = m.InProgress()
		}
	}
}

// start turns holding on (the loop runs).
func (q *heldQueue) start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.on = true
}

// release hands every held item back and turns holding off (the loop ends).
func (q *heldQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.on = false
	for m := range q.in {
		_ = m.NakWithDelay(laterDelay)
	}
	q.in = nil
}

// trim keeps, of an ordered end's group, the BatchMax lowest sequences and holds the rest (tried
// with the next round, when the lowest have been delivered).
func (s *submitter) trim(g *group) *group {
	if !s.ordered || s.o.BatchMax <= 0 || len(g.works) <= s.o.BatchMax {
		return g
	}
	idx := make([]int, len(g.works))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return g.works[idx[a]].Packet.Sequence < g.works[idx[b]].Packet.Sequence })
	keep := &group{kind: g.kind, p: g.p, dst: g.dst, src: g.src}
	for k, i := range idx {
		if k < s.o.BatchMax {
			keep.works, keep.msgs = append(keep.works, g.works[i]), append(keep.msgs, g.msgs[i])
			continue
		}
		if _, full := s.held.hold(g.msgs[i]); full {
			s.retried(g.p.Name, g.kind, "out of order", 1)
			_ = g.msgs[i].NakWithDelay(laterDelay)
		}
	}
	return keep
}

// awaitHeight waits, for an ordered end, up to heightWait for g's source light client to verify past
// the highest height g's items name: handing an item back reorders the queue behind it.
func (s *submitter) awaitHeight(ctx context.Context, g *group) {
	if !s.ordered || len(g.works) == 0 {
		return
	}
	var h int64
	for _, w := range g.works {
		h = max(h, w.Height)
	}
	wctx, cancel := context.WithTimeout(ctx, heightWait)
	defer cancel()
	for {
		lb, err := g.src.Light.VerifyLatest(wctx)
		if err != nil || lb.Height > h {
			return
		}
		select {
		case <-wctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
