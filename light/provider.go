package light

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/cometbft/cometbft/light/provider"
	"github.com/cometbft/cometbft/types"
)

// cachedProvider remembers the light blocks a provider served most recently, so the header a witness
// gave cometbft's divergence detector is the one our own cross-check compares (one fetch, not two),
// and a primary that is also its own witness is asked once per header. A node's answer for a height
// does not change; a lying node's cached answer is the lie it told.
type cachedProvider struct {
	provider.Provider
	mu     sync.Mutex
	blocks map[int64]*types.LightBlock
	order  []int64
	// latest is the height of the newest block served for a request of the latest (h 0): the header
	// cometbft's Update verified when it returns no block, only an error.
	latest atomic.Int64
}

const cachedBlocks = 64

func newCachedProvider(p provider.Provider) *cachedProvider {
	return &cachedProvider{Provider: p, blocks: make(map[int64]*types.LightBlock, cachedBlocks)}
}

// LightBlock returns the block at h (0: the latest, never served from the cache).
func (p *cachedProvider) LightBlock(ctx context.Context, h int64) (*types.LightBlock, error) {
	if h > 0 {
		p.mu.Lock()
		lb, ok := p.blocks[h]
		p.mu.Unlock()
		if ok {
			return lb, nil
		}
	}
	lb, err := p.Provider.LightBlock(ctx, h)
	if err != nil {
		return nil, err
	}
	if h == 0 {
		p.latest.Store(lb.Height)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.blocks[lb.Height]; !ok {
		p.blocks[lb.Height] = lb
		p.order = append(p.order, lb.Height)
		if len(p.order) > cachedBlocks {
			delete(p.blocks, p.order[0])
			p.order = p.order[1:]
		}
	}
	return lb, nil
}

func (p *cachedProvider) String() string { return "cached " + stringOf(p.Provider) }

func stringOf(v any) string {
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return "provider"
}

// gatedProvider is a witness as cometbft's divergence detector sees it: once the client has dropped
// the witness (MaxWitnessFaults headers that do not verify), or for the height at which the client
// found it faulty last, it answers nothing (provider.ErrNoResponse, which the detector takes for an
// unreachable witness, never a match nor a conflict).
type gatedProvider struct {
	provider.Provider
	refuses func(h int64) bool
}

// LightBlock is the witness's block at h, or provider.ErrNoResponse when it is refused.
func (p *gatedProvider) LightBlock(ctx context.Context, h int64) (*types.LightBlock, error) {
	if p.refuses(h) {
		return nil, provider.ErrNoResponse
	}
	return p.Provider.LightBlock(ctx, h)
}

func (p *gatedProvider) String() string { return "gated " + stringOf(p.Provider) }
