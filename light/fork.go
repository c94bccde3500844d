package light

import (
	"context"
	"errors"
	"fmt"

	cmtlight "github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/types"
)

// Fork is a divergence the client halted on, as Options.OnDivergence receives it: the header the
// client verified and the one a witness served instead at the same height, which verifies from the
// client's trusted state too (signed by validators the client trusts; a witness's header that does
// not is a faulty witness, no Fork). Both together are misbehaviour that freezes the chain's IBC
// clients on other chains. Whoever receives a Fork checks it against what each of those clients
// trusts before submitting: this package stays ignorant of IBC. (A halt from before a restart is
// handed over again as it was recorded.)
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

// judgeUnconfirmed runs, when cometbft's detector matched no witness (ErrFailedHeaderCrossReferencing:
// every witness was unreachable, dropped, or served a header that did not verify; ErrNoWitnesses: it
// would have dropped the last one), the cross-check on the primary's header at h, so that a witness
// serving a conflicting header is judged: a divergence (evidence, halt) if its header verifies from
// the trusted state, a faulty witness if not. cometbft may not have verified the primary's header
// (after ErrNoWitnesses the primary may have failed first): it is checked from the trusted state
// first, and a primary whose header does not verify makes no witness's header a fork. It returns the
// halt, or nil: the caller fails this verification only. Called with c.mu held.
func (c *Client) judgeUnconfirmed(ctx context.Context, h int64, err error) error {
	if !errors.Is(err, cmtlight.ErrFailedHeaderCrossReferencing) && !errors.Is(err, cmtlight.ErrNoWitnesses) || h <= 0 {
		return nil
	}
	lb, perr := c.primary.LightBlock(ctx, h)
	if perr != nil || lb.Height != h {
		return nil
	}
	if verr := c.verifiesFromTrust(lb); verr != nil {
		c.log.Warn().Err(verr).Int64("height", h).Msg("the primary's header does not verify from the trusted state: no witness is judged against it")
		return nil
	}
	// crossCheck halts on a divergence (c.lc is set); with none it returns nil.
	return c.crossCheck(ctx, lb)
}

// conflictVerifies reports (nil) whether x, a witness's header conflicting with verified (a header the
// client verified at the same height), verifies from the trusted state: signed by at least the trust
// level (1/3) of verified's validators, or of the validators of the newest stored header below
// it. Only such a header is evidence of a fork; the error says why x is not.
func (c *Client) conflictVerifies(verified, x *types.LightBlock) error {
	if x != nil && x.SignedHeader != nil && x.Header != nil && x.Height != verified.Height {
		// A genuine header of another height is no conflict at this one.
		return fmt.Errorf("served header %d for height %d", x.Height, verified.Height)
	}
	return c.verifiesFromTrust(x, verified.ValidatorSet)
}

// verifiesFromTrust checks x: well formed for this chain, signed by +2/3 of the validators it names
// (anyone can make up a validator set and sign with it), and signed by at least the trust level (1/3,
// cometbft's default, as an IBC client's) of one of the trusted validator sets given or of the
// validators of the newest stored (verified) header below x. The same rule a counterparty's 07-tendermint
// client applies to misbehaviour (relayer.Misbehaviour checks it again before submitting).
func (c *Client) verifiesFromTrust(x *types.LightBlock, trusted ...*types.ValidatorSet) error {
	if x == nil || x.SignedHeader == nil || x.Header == nil || x.Commit == nil || x.ValidatorSet == nil {
		return errors.New("incomplete light block")
	}
	if err := x.ValidateBasic(c.chainID); err != nil {
		return fmt.Errorf("malformed: %w", err)
	}
	if err := x.ValidatorSet.VerifyCommitLight(c.chainID, x.Commit.BlockID, x.Height, x.Commit); err != nil {
		return fmt.Errorf("not signed by +2/3 of the validators it names: %w", err)
	}
	if below, err := c.store.LightBlockBefore(x.Height); err == nil && below.ValidatorSet != nil {
		trusted = append(trusted, below.ValidatorSet)
	}
	var errs []error
	for _, vals := range trusted {
		if vals == nil {
			continue
		}
		err := vals.VerifyCommitLightTrusting(c.chainID, x.Commit, cmtlight.DefaultTrustLevel)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return errors.New("no trusted validator set to verify it from")
	}
	return fmt.Errorf("not signed by the validators the client trusts: %w", errors.Join(errs...))
}
