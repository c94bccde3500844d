package relaysim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/internal/chainsim"
	"github.com/cityrelay/cityrelay/internal/chainsim/relaysim"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
)

func TestMain(m *testing.M) { testnet.Main(m) }

// startSim serves chains in this process and runs the relayer side against them.
func startSim(t *testing.T, o chainsim.Options) (*chainsim.Sim, *relaysim.Relayer) {
	t.Helper()
	sim, err := chainsim.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	rel, err := relaysim.Start(context.Background(), relaysim.Options{Chains: sim.Infos(), Home: t.TempDir(),
		JS: testnet.JetStream(t, time.Minute), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rel.Stop(); err != nil {
			t.Errorf("stop relayer side: %v", err)
		}
	})
	return sim, rel
}

// The scanners of a hub and three members keep up with their chains, scan every block once, and
// every header the chains made in the window was verified by its light client (no height skipped),
// each costing at most two RPC requests. (How fast each block is scanned is measured by
// BenchmarkSimulatedChains, not asserted here: a timing bound belongs to a benchmark.)
func TestSimulatedChainsKeepUp(t *testing.T) {
	const interval = 500 * time.Millisecond
	sim, rel := startSim(t, chainsim.Options{IDs: chainsim.IDs(4), Interval: interval})
	time.Sleep(3 * interval) // the scanners start and learn the block interval
	a := rel.Counters()
	reqs0 := sim.Stats().PerChain
	time.Sleep(10 * interval)
	b := rel.Counters()
	reqs1 := sim.Stats().PerChain
	w := rel.Window(a, b)
	infos := sim.Infos()
	for i, c := range infos {
		blocks := c.HeadAt(b.At) - c.HeadAt(a.At)
		if got := b.Verified[i] - a.Verified[i]; got < blocks-1 {
			t.Errorf("%s: %d headers verified in a window of %d blocks", c.ID, got, blocks)
		}
		if b.Skipped[i] != 0 {
			t.Errorf("%s: %d heights between verified headers were never verified (%d..%d verified)", c.ID, b.Skipped[i], b.FirstVerified[i], b.LastVerified[i])
		}
		if b.Gaps[i] != 0 {
			t.Errorf("%s: the scanner skipped %d blocks", c.ID, b.Gaps[i])
		}
		head := c.HeadAt(b.At)
		if lag := head - b.Scanned[i]; lag > 3 {
			t.Errorf("%s: scanned to %d, head %d: %d blocks behind", c.ID, b.Scanned[i], head, lag)
		}
		if b.Scanned[i] <= a.Scanned[i] {
			t.Errorf("%s: the scanner did not advance in the window (%d)", c.ID, b.Scanned[i])
		}
		if n := reqs1[i] - reqs0[i]; float64(n) > 2*float64(blocks)+1 {
			t.Errorf("%s: %d RPC requests for %d blocks", c.ID, n, blocks)
		}
	}
	if w.LagMax > 3 || w.Restarts != 0 || w.VerifyErrs != 0 {
		t.Errorf("window: lag max %d blocks, %d restarts (%v), %d verification errors", w.LagMax, w.Restarts, rel.Failures(), w.VerifyErrs)
	}
	t.Logf("%d headers verified (%d blocks made), scan delay p50 %s p99 %s, lag p99 %d max %d blocks",
		w.HeadersVerified, w.Blocks, w.DelayP50, w.DelayP99, w.LagP99, w.LagMax)
}

// A member whose commits, from some height on, are signed by keys that are not its validators' is
// refused by its light client: its scanner never scans the block before the first impostor header (it
// would need that header verified), fails with a verification error and is restarted, while the
// other chains' scanners go on.
func TestSimulatedImpostorHeadersRefused(t *testing.T) {
	const interval = 500 * time.Millisecond
	const forgeFrom = 6
	sim, rel := startSim(t, chainsim.Options{IDs: chainsim.IDs(3), Interval: interval, Chain: func(i int, o *chainsim.ChainOptions) {
		if i == 2 {
			o.ForgeFrom = forgeFrom
		}
	}})
	infos := sim.Infos()
	if infos[2].TrustHeight >= forgeFrom-1 {
		t.Fatalf("the trust root %d is already past the forged heights", infos[2].TrustHeight)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && infos[2].HeadAt(time.Now()) < forgeFrom+6 {
		time.Sleep(interval)
	}
	c := rel.Counters()
	if c.Scanned[2] >= forgeFrom-1 {
		t.Errorf("%s: scanned to %d past impostor headers from %d", infos[2].ID, c.Scanned[2], forgeFrom)
	}
	if c.LastVerified[2] >= forgeFrom {
		t.Errorf("%s: header %d verified, signed by impostors from %d", infos[2].ID, c.LastVerified[2], forgeFrom)
	}
	var verr *light.VerificationError
	var found bool
	for part, errs := range rel.Failures() {
		if !strings.Contains(part, infos[2].ID) {
			t.Errorf("part %s failed: %v", part, errs)
			continue
		}
		for _, err := range errs {
			found = found || errors.As(err, &verr)
		}
	}
	if !found {
		t.Errorf("%s: no scanner failure with a verification error: %v", infos[2].ID, rel.Failures())
	}
	for i := range 2 {
		if head := infos[i].HeadAt(c.At); head-c.Scanned[i] > 3 {
			t.Errorf("%s: scanned to %d, head %d", infos[i].ID, c.Scanned[i], head)
		}
	}
	t.Logf("%s: scanned to %d, verified to %d, %d verification errors; %s verified to %d", infos[2].ID, c.Scanned[2], c.LastVerified[2],
		c.VerifyErrors[2], infos[0].ID, c.LastVerified[0])
}
