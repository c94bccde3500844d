package pipeline

import "time"

// pacer spaces a scanner's polls of its chain's latest header by the chain's block interval, learned
// from the times of the verified headers it sees (so it adapts to 200 ms test blocks as to 6 s
// ones): after a new header it waits until the next one is due, and while nothing changes it backs
// off, from a twentieth of the interval up to twice the interval. One header verification per block
// instead of one per fixed tick (at 1 s blocks and a 200 ms tick that was five).
//
// When a header is due is learned as well: lag is how long after its header's time a block can be
// fetched (see next). Header h+1 is then due at header h's time + interval + lag. A chain whose clock is off
// from ours shifts every header time by the same amount, which the lag takes up; a pause is never
// longer than twice the interval whatever the times say, so a lying node gets no more than a slower
// scan of its own chain (it could always refuse to answer).
type pacer struct {
	// initial is the pause while the interval is unknown (Options.Poll).
	initial time.Duration
	// interval is the learned block interval (0: unknown); lag is as above (valid with haveLag).
	interval time.Duration
	lag      time.Duration
	haveLag  bool
	lastH    int64
	lastT    time.Time
	misses   int
}

// Bounds of the learned interval and of any pause.
const (
	minInterval = 10 * time.Millisecond
	maxInterval = time.Minute
	minPause    = 5 * time.Millisecond
)

func newPacer(initial time.Duration) *pacer { return &pacer{initial: initial} }

// next takes the newest verified header's height and time, seen now, and returns the pause before
// the next poll.
func (p *pacer) next(h int64, t time.Time, now time.Time) time.Duration {
	if h > p.lastH {
		if p.lastH > 0 && t.After(p.lastT) {
			d := min(max(t.Sub(p.lastT)/time.Duration(h-p.lastH), minInterval), maxInterval)
			if p.interval == 0 {
				p.interval = d
			} else {
				p.interval = (3*p.interval + d) / 4
			}
		}
		// now - t bounds the lag from above. Seen on the first poll for it, the block may have been
		// there a while, so the lag only comes down; seen after polls that missed it, it came within
		// the last pause, and the bound is taken (it also lets the lag go up when blocks come later).
		if off := now.Sub(t); !p.haveLag || p.misses > 0 || off < p.lag {
			p.lag, p.haveLag = max(off, 0), true
		}
		p.lastH, p.lastT, p.misses = h, t, 0
		if p.interval == 0 {
			return p.initial
		}
		due := p.lastT.Add(p.interval + p.lag).Sub(now)
		return min(max(due, minPause), 2*p.interval)
	}
	if p.interval == 0 {
		return p.initial
	}
	// Nothing new: the block is late. Back off from a twentieth of the interval, doubling, up to
	// twice the interval.
	p.misses++
	wait := max(p.interval/20, minPause) << min(p.misses-1, 10)
	return min(wait, 2*p.interval)
}
