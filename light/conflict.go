package light

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/types"
)

// ErrNotEvidence is returned by CheckConflict for a header that differs from the verified one but
// does not verify from the trusted state (not signed by the validators the client trusts): no one
// holding the validators' keys signed it, so it proves nothing and nothing halts.
var ErrNotEvidence = errors.New("conflicting header does not verify: not evidence of a fork")

// ErrOutsideConflict is returned by CheckConflict when the header it judged conflicts with the
// verified one and verifies: the client halted on it (the error wraps the halt too).
var ErrOutsideConflict = errors.New("a header from outside conflicts with the verified one and verifies")

// OutsideSourcePrefix starts the source CheckConflict records for a header that came from outside
// (no witness URL: it is kept as given, not redacted).
const OutsideSourcePrefix = "outside: "

// CheckConflict judges a header of the chain that came from elsewhere than the client's primary and
// witnesses — another relayer's MsgUpdateClient to an IBC client of the chain, say — against the header
// the client verifies at the same height (through its primary and witnesses, as any other). The same
// header: nil. Another header that verifies from the trusted state (conflictVerifies: signed by +2/3 of
// the validators it names and by the trust level of the validators the client trusts), like a
// witness's: the chain forked or its IBC clients are attacked; evidence is written, the client halts
// and OnDivergence gets the Fork (source names where the header came from), and the error wraps
// ErrOutsideConflict, ErrHalted and ErrDivergence. A client halted already judges nothing (ErrHalted
// without ErrOutsideConflict). Another header that does not verify: ErrNotEvidence, nothing halts.
// Where the header came from is not trusted and need not be: only the validators' signatures make it
// evidence. An error verifying the client's own header (the height not produced yet, the primary
// unreachable) is returned as it is: judge the header again later.
//
// Before any RPC call (precheckConflict): a header not signed by +2/3 of the validators it names or not
// by the trust level of the validators of the nearest verified header below it is ErrNotEvidence; one
// below the store's first header is ErrNotEvidence and ErrOutsideStore (never walked back to); one above
// the newest verified header + 1 updates the client to the primary's latest once and, still above it,
// is ErrNotYetVerifiable (judge it again later) — VerifyHeight is never asked for it.
func (c *Client) CheckConflict(ctx context.Context, x *types.LightBlock, source string) error {
	if x == nil || x.SignedHeader == nil || x.Header == nil || x.Commit == nil {
		return fmt.Errorf("header from %s: %w: incomplete", source, ErrNotEvidence)
	}
	if x.ChainID != c.chainID {
		return fmt.Errorf("header from %s: %w: a header of %s, not %s", source, ErrNotEvidence, x.ChainID, c.chainID)
	}
	// Cheap local checks first, no RPC: the header is anyone's to make up (a failing tx carries it as
	// well as a passing one), and verifying its height costs RPC calls under the client's lock.
	if err := c.precheckConflict(ctx, x, source); err != nil {
		return err
	}
	lb, err := c.VerifyHeight(ctx, x.Height)
	if err != nil {
		return fmt.Errorf("verify %s header %d to judge a header from %s: %w", c.chainID, x.Height, source, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stillHalted(); err != nil {
		return err
	}
	if bytes.Equal(lb.Hash(), x.Hash()) {
		return nil
	}
	if verr := c.conflictVerifies(lb, x); verr != nil {
		c.log.Warn().Int64("height", x.Height).Str("source", source).Str("verified_hash", fmt.Sprintf("%X", lb.Hash())).
			Str("conflicting_hash", fmt.Sprintf("%X", x.Hash())).AnErr("reason", verr).
			Msg("a header from outside conflicts with the verified one but does not verify: not a fork, nothing halts")
		return fmt.Errorf("%s header %d from %s: %w: %w", c.chainID, x.Height, source, ErrNotEvidence, verr)
	}
	file, werr := c.writeEvidence(lb, x, OutsideSourcePrefix+source)
	if werr != nil {
		c.log.Error().Err(werr).Msg("could not write the evidence file")
		file = ""
	}
	c.log.Error().Int64("height", x.Height).Str("source", source).Str("verified_hash", fmt.Sprintf("%X", lb.Hash())).
		Str("conflicting_hash", fmt.Sprintf("%X", x.Hash())).Str("evidence", file).
		Msg("a header from outside conflicts with the verified one and verifies: the chain forked or its IBC clients are attacked")
	// Listed with the witnesses' divergences (the console's light client card, Divergences).
	c.record.mu.Lock()
	c.record.add(Divergence{Height: x.Height, Witness: OutsideSourcePrefix + source, At: c.now(), Evidence: file})
	c.record.mu.Unlock()
	return fmt.Errorf("%w: %w", ErrOutsideConflict, c.haltOn(lb, x, OutsideSourcePrefix+source, file))
}

// precheckConflict is CheckConflict's refusals that need no RPC call (but the one VerifyLatest for a
// validly signed header ahead of the newest verified one). nil: verify x's height and compare.
func (c *Client) precheckConflict(ctx context.Context, x *types.LightBlock, source string) error {
	c.mu.Lock()
	if err := c.stillHalted(); err != nil {
		c.mu.Unlock()
		return err
	}
	first, ferr := c.lc.FirstTrustedHeight()
	last, lerr := c.lc.LastTrustedHeight()
	if ferr != nil || lerr != nil || first <= 0 || last <= 0 {
		c.mu.Unlock()
		return fmt.Errorf("%s header %d from %s: the light client has no verified header yet (%v, %v): judge it later", c.chainID, x.Height, source, ferr, lerr)
	}
	if x.Height < first {
		c.mu.Unlock()
		return fmt.Errorf("%s header %d from %s: %w: %w: below the first verified header %d", c.chainID, x.Height, source, ErrNotEvidence, ErrOutsideStore, first)
	}
	var trusted []*types.ValidatorSet
	if stored, err := c.lc.TrustedLightBlock(x.Height); err == nil {
		if bytes.Equal(stored.Hash(), x.Hash()) {
			c.mu.Unlock()
			return nil // the verified header itself: CheckConflict answers from the store
		}
		trusted = append(trusted, stored.ValidatorSet)
	}
	verr := c.verifiesFromTrust(x, trusted...)
	c.mu.Unlock()
	if verr != nil {
		c.log.Warn().Int64("height", x.Height).Str("source", source).Str("conflicting_hash", fmt.Sprintf("%X", x.Hash())).AnErr("reason", verr).
			Msg("a header from outside does not verify from the trusted state: not a fork, nothing halts (no RPC asked)")
		return fmt.Errorf("%s header %d from %s: %w: %w", c.chainID, x.Height, source, ErrNotEvidence, verr)
	}
	if x.Height <= last+1 {
		return nil
	}
	// Signed by validators we trust, ahead of what we verified: catch up once (skipping verification,
	// its cost does not grow with the distance), never by asking for x's height itself.
	if _, err := c.VerifyLatest(ctx); err != nil {
		return fmt.Errorf("%s header %d from %s: update to the latest header: %w", c.chainID, x.Height, source, err)
	}
	c.mu.Lock()
	last, lerr = c.lc.LastTrustedHeight()
	c.mu.Unlock()
	if lerr != nil || x.Height > last {
		return fmt.Errorf("%s header %d from %s: %w: the newest verified header is %d", c.chainID, x.Height, source, ErrNotYetVerifiable, last)
	}
	return nil
}
