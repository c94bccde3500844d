package light

import (
	"context"
	"errors"

	cmtlight "github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/types"
)

// Fork is a divergence the client halted on, as Options.OnDivergence receives it: the header the
// client verified and the one a witness served instead at the same height. When the conflicting
// header is signed by validators the client trusts, the chain forked (its validators signed two
// headers at one height) and both together are misbehaviour that freezes the chain's IBC clients on
// other chains; when it is not, a witness lied and only the halt is due. Whoever receives a Fork
// checks which it is: this package stays ignorant of IBC.
type Fork struct {
	ChainID string
	Height  int64
	// Witness is the witness's address as RedactURL gives it.
	Witness string
	// Evidence is the evidence file ("" when it could not be written).
	Evidence              string
	Verified, Conflicting *types.LightBlock

	c *Client
}

// ValidatorsAt returns the chain's validator set at h whose hash is hash, as Client.ValidatorsAt does,
// although the client is halted: building misbehaviour needs the validators an IBC client of the
// chain trusts below the fork, and the set is checked against hash, taken from state the caller
// already trusts (that client's consensus state).
func (f *Fork) ValidatorsAt(ctx context.Context, h int64, hash []byte) (*types.ValidatorSet, error) {
	return f.c.validatorsAt(ctx, h, hash)
}

// SetOnDivergence sets Options.OnDivergence on an open client (whoever opens the client is not
// always the one who acts on a fork). A fork the client opened halted on is handed to it then.
func (c *Client) SetOnDivergence(f func(*Fork)) {
	c.mu.Lock()
	c.onDivergence = f
	c.mu.Unlock()
	c.replayHalt()
}

// primaryLatest is the height of the newest header the primary served for a request of its latest
// (0 if unknown).
func (c *Client) primaryLatest() int64 {
	if p, ok := c.primary.(*cachedProvider); ok {
		return p.latest.Load()
	}
	return 0
}

// haltOnAttack halts the client after cometbft's detector found a witness serving, at the height it
// verified (h), a conflicting header it could verify too: signed by validators the client trusts (a
// light client attack, or the validators equivocating). cometbft returns no header then; the
// primary's and the witness's are in their caches, and crossCheck compares them as for any divergence
// (evidence, halt, OnDivergence). If it finds none (the conflict was at a lagging witness's latest
// header), the client halts all the same. Called with c.mu held.
func (c *Client) haltOnAttack(ctx context.Context, h int64, attack error) error {
	c.log.Error().Err(attack).Int64("height", h).Msg("cometbft's detector verified a witness's conflicting header: the chain forked or a light client attack")
	if h > 0 {
		if lb, err := c.primary.LightBlock(ctx, h); err == nil {
			if err := c.crossCheck(ctx, lb); err != nil {
				return err
			}
		}
	}
	if c.halted != nil {
		return c.halted
	}
	// Nothing to compare: halt without evidence, above the newest stored header if h is unknown.
	if h <= 0 {
		last, _ := c.store.LastLightBlockHeight()
		h = max(last, 0) + 1
	}
	return c.haltOn(&types.LightBlock{SignedHeader: &types.SignedHeader{Header: &types.Header{Height: h}}}, nil, "unknown", "")
}

// haltIfWitnessesLied looks, when cometbft's detector matched no witness (ErrFailedHeaderCrossReferencing:
// every witness was unreachable, or served a header it could not verify and was dropped; ErrNoWitnesses:
// it would have dropped the last one), for a
// witness serving another header at h than the primary: that is a divergence like any other (evidence,
// halt). With only unreachable witnesses there is none, and it returns nil: the caller fails this
// verification without halting. After ErrFailedHeaderCrossReferencing cometbft had verified the
// primary's header at h; after ErrNoWitnesses it may not have (the primary failed first): a divergence
// then still halts, which fails closed, and misbehaviour built from it is checked against the trusted
// validators before anything is sent. Called with c.mu held.
func (c *Client) haltIfWitnessesLied(ctx context.Context, h int64, err error) error {
	if !errors.Is(err, cmtlight.ErrFailedHeaderCrossReferencing) && !errors.Is(err, cmtlight.ErrNoWitnesses) || h <= 0 {
		return nil
	}
	lb, perr := c.primary.LightBlock(ctx, h)
	if perr != nil {
		return nil
	}
	// crossCheck halts on a divergence (c.lc is set); with none it returns nil.
	return c.crossCheck(ctx, lb)
}
