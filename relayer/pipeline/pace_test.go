package pipeline

import (
	"testing"
	"time"
)

// simulate runs a pacer against a chain whose block h is available at avail(h) (header time
// h*interval, available lag later) for n blocks, and returns the polls made and the worst delay
// between a block's availability and the poll that saw it.
func simulate(interval, lag time.Duration, n int64) (polls int, worst time.Duration) {
	p := newPacer(200 * time.Millisecond)
	t0 := time.Unix(1_700_000_000, 0)
	header := func(h int64) time.Time { return t0.Add(time.Duration(h) * interval) }
	now := header(1).Add(lag)
	seen := int64(0)
	for seen < n {
		polls++
		h := int64(now.Sub(t0.Add(lag)) / interval) // the newest block available now
		if h > seen {
			if seen > 0 {
				worst = max(worst, now.Sub(header(seen+1).Add(lag)))
			}
			seen = h
		}
		now = now.Add(p.next(h, header(h), now))
	}
	return polls, worst
}

// TestPacerPollsByBlockTime: the pacer learns the block interval and when blocks become available,
// then polls about once per block and sees each block soon after it is available, at 200 ms test
// blocks as at 1 s and 6 s blocks, with commit lags from none to most of a block.
func TestPacerPollsByBlockTime(t *testing.T) {
	for _, c := range []struct{ interval, lag time.Duration }{
		{200 * time.Millisecond, 15 * time.Millisecond},
		{time.Second, 30 * time.Millisecond},
		{time.Second, 700 * time.Millisecond},
		{6 * time.Second, 200 * time.Millisecond},
	} {
		const n = 200
		polls, worst := simulate(c.interval, c.lag, n)
		if polls > n*5/4 {
			t.Errorf("interval %s, lag %s: %d polls for %d blocks, want at most %d", c.interval, c.lag, polls, n, n*5/4)
		}
		if limit := c.interval / 5; worst > limit {
			t.Errorf("interval %s, lag %s: a block seen %s after it was available, want at most %s", c.interval, c.lag, worst, limit)
		}
	}
}

// TestPacerBacksOffOnAStalledChain: while nothing changes, pauses grow, to at most twice the interval.
func TestPacerBacksOffOnAStalledChain(t *testing.T) {
	p := newPacer(200 * time.Millisecond)
	t0 := time.Unix(1_700_000_000, 0)
	for h := int64(1); h <= 5; h++ {
		p.next(h, t0.Add(time.Duration(h)*time.Second), t0.Add(time.Duration(h)*time.Second+50*time.Millisecond))
	}
	now := t0.Add(6 * time.Second)
	var last time.Duration
	for i := range 20 {
		w := p.next(5, t0.Add(5*time.Second), now)
		if w < last {
			t.Fatalf("pause %d shrank: %s after %s", i, w, last)
		}
		if w > 2*time.Second {
			t.Fatalf("pause %d is %s, more than twice the 1s interval", i, w)
		}
		last, now = w, now.Add(w)
	}
	if last != 2*time.Second {
		t.Fatalf("pause after 20 misses is %s, want the 2s cap", last)
	}
	// The chain moves on: the next pause is again about one interval.
	if w := p.next(6, t0.Add(6*time.Second), now); w > time.Second+100*time.Millisecond || w < 900*time.Millisecond {
		t.Fatalf("pause after a new block is %s", w)
	}
}

// TestPacerBeforeTheIntervalIsKnown: the first polls pause Options.Poll.
func TestPacerBeforeTheIntervalIsKnown(t *testing.T) {
	p := newPacer(200 * time.Millisecond)
	now := time.Unix(1_700_000_000, 0)
	if w := p.next(7, now, now); w != 200*time.Millisecond {
		t.Fatalf("first pause %s, want 200ms", w)
	}
	if w := p.next(7, now, now.Add(time.Second)); w != 200*time.Millisecond {
		t.Fatalf("pause with one header seen %s, want 200ms", w)
	}
}
