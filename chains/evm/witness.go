package evm

import (
	"fmt"
	"sync"
	"time"

	"github.com/cityrelay/cityrelay/light"
)

// witnessBook is the witnesses' last cross-checks, as light.WitnessStatus (the same record a Cosmos
// chain's light client keeps), with faults counted and a witness dropped at light.MaxWitnessFaults
// until the process restarts. Its own lock: a reader never waits for a verification.
type witnessBook struct {
	mu     sync.Mutex
	status []light.WitnessStatus
}

func newWitnessBook(urls []string) *witnessBook {
	b := &witnessBook{status: make([]light.WitnessStatus, len(urls))}
	seen := map[string]int{}
	for i, u := range urls {
		name := light.RedactURL(u)
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s#%d", name, seen[name])
		}
		b.status[i] = light.WitnessStatus{Witness: name, State: light.WitnessUnchecked}
	}
	return b
}

// checked records witness i's outcome at height (a dropped witness stays dropped).
func (b *witnessBook) checked(i int, height uint64, at time.Time, state light.WitnessState, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &b.status[i]
	if s.State == light.WitnessDropped {
		return
	}
	s.State, s.Height, s.At, s.Error = state, int64(height), at, reason
	if state == light.WitnessDiverged {
		s.Divergences++
	}
}

// faulty records that witness i served a block at height that does not verify, dropping it at its
// light.MaxWitnessFaults-th.
func (b *witnessBook) faulty(i int, height uint64, at time.Time, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &b.status[i]
	if s.State == light.WitnessDropped {
		return
	}
	s.Faults++
	s.State, s.Height, s.At, s.Error = light.WitnessFaulty, int64(height), at, reason
	if s.Faults >= light.MaxWitnessFaults {
		s.State = light.WitnessDropped
	}
}

func (b *witnessBook) dropped(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status[i].State == light.WitnessDropped
}

func (b *witnessBook) list() []light.WitnessStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]light.WitnessStatus(nil), b.status...)
}
