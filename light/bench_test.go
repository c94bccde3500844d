package light

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtlight "github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
	"github.com/rs/zerolog"
)

// chainGen makes a chain of adjacent signed headers with a fixed validator set.
type chainGen struct {
	chainID string
	vals    *types.ValidatorSet
	privs   []types.PrivValidator
	blocks  map[int64]*types.LightBlock
	start   time.Time
}

func newChainGen(_ testing.TB, n int) *chainGen {
	vals, privs := types.RandValidatorSet(n, 10)
	return &chainGen{chainID: "bench-1", vals: vals, privs: privs, blocks: map[int64]*types.LightBlock{}, start: time.Now().Add(-time.Hour)}
}

func (g *chainGen) block(b testing.TB, h int64) *types.LightBlock {
	if lb, ok := g.blocks[h]; ok {
		return lb
	}
	var last types.BlockID
	if h > 1 {
		last = g.block(b, h-1).Commit.BlockID
	}
	header := &types.Header{Version: cmtversion.Consensus{Block: version.BlockProtocol}, ChainID: g.chainID, Height: h,
		Time: g.start.Add(time.Duration(h) * time.Second), LastBlockID: last, ValidatorsHash: g.vals.Hash(), NextValidatorsHash: g.vals.Hash(),
		ConsensusHash: tmhash.Sum([]byte("consensus")), AppHash: tmhash.Sum([]byte(fmt.Sprintf("app-%d", h))), ProposerAddress: g.vals.Proposer.Address}
	bid := types.BlockID{Hash: header.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: header.Hash()}}
	voteSet := types.NewVoteSet(g.chainID, h, 0, cmtproto.PrecommitType, g.vals)
	ext, err := types.MakeExtCommit(bid, h, 0, voteSet, g.privs, header.Time.Add(time.Millisecond), false)
	if err != nil {
		b.Fatal(err)
	}
	lb := &types.LightBlock{SignedHeader: &types.SignedHeader{Header: header, Commit: ext.ToCommit()}, ValidatorSet: g.vals}
	g.blocks[h] = lb
	return lb
}

// fakeProvider serves the generated chain (a fake is fine here: this measures our code above it).
type fakeProvider struct {
	g      *chainGen
	b      *testing.B
	latest int64
}

func (p *fakeProvider) ChainID() string { return p.g.chainID }
func (p *fakeProvider) LightBlock(_ context.Context, h int64) (*types.LightBlock, error) {
	if h == 0 {
		h = p.latest
	}
	if h > p.latest {
		return nil, provider.ErrHeightTooHigh
	}
	return p.g.block(p.b, h), nil
}
func (p *fakeProvider) ReportEvidence(context.Context, types.Evidence) error { return nil }

// BenchmarkVerifyAdjacent compares a header verification through this package (cometbft's light
// client plus our trusted store and witness cross-check) with cometbft's bare light.VerifyAdjacent
// for the same validator sets.
func BenchmarkVerifyAdjacent(b *testing.B) {
	for _, n := range []int{4, 21, 100, 150} {
		b.Run(fmt.Sprintf("vals=%d/raw", n), func(b *testing.B) {
			g := newChainGen(b, n)
			for h := int64(1); h <= int64(b.N)+1; h++ {
				g.block(b, h)
			}
			now := g.start.Add(time.Duration(b.N+10) * time.Second)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				trusted, next := g.blocks[int64(i+1)], g.blocks[int64(i+2)]
				if err := cmtlight.VerifyAdjacent(trusted.SignedHeader, next.SignedHeader, next.ValidatorSet, time.Hour, now, 10*time.Second); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("vals=%d/ours", n), func(b *testing.B) {
			g := newChainGen(b, n)
			for h := int64(1); h <= int64(b.N)+1; h++ {
				g.block(b, h)
			}
			primary := &fakeProvider{g: g, b: b, latest: int64(b.N) + 1}
			witness := &fakeProvider{g: g, b: b, latest: int64(b.N) + 1}
			now := g.start.Add(time.Duration(b.N+10) * time.Second)
			o := Options{ChainID: g.chainID, TrustingPeriod: time.Hour, TrustHeight: 1, TrustHash: g.blocks[1].Hash(), StoreDir: b.TempDir(),
				Now: func() time.Time { return now }}
			c, err := newWithProviders(context.Background(), o, zerolog.Nop(), primary, []provider.Provider{witness}, []string{"witness"})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.VerifyHeight(context.Background(), int64(i+2)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
