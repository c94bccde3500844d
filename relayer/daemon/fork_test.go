package daemon

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// namedChain is a chain that only says its id (what freezeOnFork asks of it).
type namedChain struct {
	relayer.Chain
	id string
}

func (c namedChain) ChainID() string { return c.id }

// watchedLight is a light client that records the divergence hooks set on it.
type watchedLight struct {
	relayer.HeaderVerifier
	hooks int
}

func (w *watchedLight) SetOnDivergence(func(*light.Fork)) { w.hooks++ }

// Every light client of the paths' chains gets one divergence hook, whether or not the metrics
// wrapped it already, and a chain on several paths is hooked once.
func TestFreezeOnForkHooksEveryChainOnce(t *testing.T) {
	seoul, bucheon, wego := &watchedLight{}, &watchedLight{}, &watchedLight{}
	end := func(chain string, lc *watchedLight) *relayer.End {
		return &relayer.End{Chain: namedChain{id: chain}, Light: lc, ClientID: "07-tendermint-0"}
	}
	paths := []*relayer.Path{
		{Name: "seoul-bucheon", A: end("seoul-1", seoul), B: end("bucheon-1", bucheon)},
		{Name: "seoul-wego", A: end("seoul-1", seoul), B: end("wego-1", wego)},
	}
	m := newMetrics(nil)
	m.instrument(paths[1:]) // one path's light clients wrapped by the metrics already
	freezeOnFork(t.Context(), zerolog.Nop(), m, paths)
	for name, lc := range map[string]*watchedLight{"seoul-1": seoul, "bucheon-1": bucheon, "wego-1": wego} {
		if lc.hooks != 1 {
			t.Errorf("%s hooked %d times, want once", name, lc.hooks)
		}
	}
}
