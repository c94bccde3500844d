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
func (c *Client) CheckConflict(ctx context.Context, x *types.LightBlock, source string) error {
	if x == nil || x.SignedHeader == nil || x.Header == nil || x.Commit == nil {
		return fmt.Errorf("header from %s: %w: incomplete", source, ErrNotEvidence)
	}
	if x.ChainID != c.chainID {
		return fmt.Errorf("header from %s: %w: a header of %s, not %s", source, ErrNotEvidence, x.ChainID, c.chainID)
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
