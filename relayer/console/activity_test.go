package console

import (
	"testing"
	"time"
)

func TestLastHourCounts(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var h history
	if got := h.lastHour("p", Counts{Relayed: 5}, t0); got != (Counts{}) {
		t.Fatalf("no samples: %+v, want nothing", got)
	}
	// The baseline at start, then a sample a minute with 10 more packets relayed each time.
	for i := range 91 {
		h.add(sample{at: t0.Add(time.Duration(i) * time.Minute), paths: map[string]Counts{"p": {Observed: float64(10 * i), Relayed: float64(10 * i), Failed: float64(i / 30)}}})
	}
	// 20 minutes in (as if asked then): everything since the start, over 20 minutes.
	var early history
	early.add(sample{at: t0, paths: map[string]Counts{"p": {}}})
	if got := early.lastHour("p", Counts{Observed: 200, Relayed: 190, Failed: 1, Retried: 4}, t0.Add(20*time.Minute)); got != (Counts{Observed: 200, Relayed: 190, Failed: 1, Retried: 4, Seconds: 1200}) {
		t.Errorf("after 20 minutes: %+v", got)
	}
	// 90 minutes in: the last hour only (the sample of minute 30 is the baseline).
	now := t0.Add(90 * time.Minute)
	got := h.lastHour("p", Counts{Observed: 900, Relayed: 900, Failed: 3}, now)
	if want := (Counts{Observed: 600, Relayed: 600, Failed: 2, Seconds: 3600}); got != want {
		t.Errorf("after 90 minutes: %+v, want %+v", got, want)
	}
	// Samples no window needs are forgotten: the newest at least an hour old and what follows.
	if n := len(h.samples); n != 61 {
		t.Errorf("%d samples kept, want 61 (an hour of minutes and its baseline)", n)
	}
	// A path the samples do not know (added since): all of its counts are new.
	if got := h.lastHour("q", Counts{Relayed: 4}, now); got.Relayed != 4 {
		t.Errorf("new path: %+v", got)
	}
	// A counter below its baseline was reset by a restart: all of it is new.
	if got := h.lastHour("p", Counts{Relayed: 7}, now); got.Relayed != 7 {
		t.Errorf("reset counter: %+v", got)
	}
}
