package light

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlight "github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/types"
)

// HaltFile is the file, in a light client's store directory, that records a divergence: while it
// exists the client verifies nothing. An operator checks the evidence (a fork of the chain, or a
// lying primary or witness), then removes it; the client resumes from its newest stored header
// below the divergence at its next verification, without a restart.
const HaltFile = "DIVERGED.json"

// halt is what the halt file holds.
type halt struct {
	ChainID  string    `json:"chain_id"`
	Height   int64     `json:"height"`
	Witness  string    `json:"witness"`
	Evidence string    `json:"evidence,omitempty"`
	At       time.Time `json:"at"`
}

func (h halt) err(file string) error {
	return &VerificationError{ChainID: h.ChainID, Height: h.Height, Err: fmt.Errorf(
		"%w: %w: witness %s at height %d (evidence %s, since %s): nothing from %s is trusted until an operator checks the evidence and removes %s",
		ErrHalted, ErrDivergence, h.Witness, h.Height, h.Evidence, h.At.UTC().Format(time.RFC3339), h.ChainID, file)}
}

// haltFile is the halt file's path.
func (c *Client) haltFile() string { return filepath.Join(c.storeDir, HaltFile) }

// loadHalt reads the halt file, if any, into c.halted.
func (c *Client) loadHalt() error {
	bz, err := os.ReadFile(c.haltFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var h halt
	if err := json.Unmarshal(bz, &h); err != nil {
		// Unreadable, but there: halted all the same.
		h = halt{ChainID: c.chainID, Witness: "unknown", Evidence: "unreadable halt file: " + err.Error()}
	}
	c.halted = h.err(c.haltFile())
	if h.Evidence != "" && h.Height > 0 {
		verified, conflicting, err := readEvidence(h.Evidence, c.chainID, h.Height)
		if err != nil {
			c.log.Warn().Err(err).Str("evidence", h.Evidence).Msg("halted since before the restart; its fork is not handed over again: the evidence file does not hold both headers")
			return nil
		}
		c.replay = &Fork{ChainID: c.chainID, Height: h.Height, Witness: h.Witness, Evidence: h.Evidence, Verified: verified, Conflicting: conflicting, c: c}
	}
	return nil
}

// readEvidence reads the two headers of chainID at height back from an evidence file (writeEvidence),
// each checked to be well formed (its validators the ones its header names).
func readEvidence(file, chainID string, height int64) (verified, conflicting *types.LightBlock, err error) {
	bz, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var ev evidence
	if err := json.Unmarshal(bz, &ev); err != nil {
		return nil, nil, err
	}
	if ev.ChainID != chainID || ev.Height != height {
		return nil, nil, fmt.Errorf("evidence of %s at %d, the halt is of %s at %d", ev.ChainID, ev.Height, chainID, height)
	}
	blocks := make([]*types.LightBlock, 2)
	for i, raw := range []json.RawMessage{ev.Verified, ev.Conflict} {
		var lb types.LightBlock
		if err := cmtjson.Unmarshal(raw, &lb); err != nil {
			return nil, nil, fmt.Errorf("header %d: %w", i+1, err)
		}
		if err := lb.ValidateBasic(chainID); err != nil {
			return nil, nil, fmt.Errorf("header %d: %w", i+1, err)
		}
		if lb.Height != height {
			return nil, nil, fmt.Errorf("header %d is at %d, not %d", i+1, lb.Height, height)
		}
		blocks[i] = &lb
	}
	return blocks[0], blocks[1], nil
}

// replayHalt hands the fork of the halt file the client opened with (loadHalt) to OnDivergence, once,
// if both are there.
func (c *Client) replayHalt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, fork := c.onDivergence, c.replay; f != nil && fork != nil {
		c.replay = nil
		c.log.Warn().Int64("height", fork.Height).Str("evidence", fork.Evidence).Msg("halted since before the restart: its fork is handed over again")
		go f(fork)
	}
}

// haltOn stops the client after a witness served conflicting instead of the verified header: it
// forgets the stored headers from verified's height up (so a restart does not trust them), writes the
// halt file, makes every later verification fail with ErrHalted and hands both headers to
// OnDivergence. Called with c.mu held.
func (c *Client) haltOn(verified, conflicting *types.LightBlock, witness, evidence string) error {
	height := verified.Height
	if witness != "unknown" && !strings.HasPrefix(witness, OutsideSourcePrefix) {
		witness = RedactURL(witness)
	}
	h := halt{ChainID: c.chainID, Height: height, Witness: witness, Evidence: evidence, At: c.now()}
	c.halted = h.err(c.haltFile())
	for {
		last, err := c.store.LastLightBlockHeight()
		if err != nil || last < height {
			break
		}
		if err := c.store.DeleteLightBlock(last); err != nil {
			c.log.Error().Err(err).Int64("height", last).Msg("could not forget a header at or above the divergence")
			break
		}
	}
	bz, err := json.MarshalIndent(h, "", "  ")
	if err == nil {
		err = os.WriteFile(c.haltFile(), bz, 0o600)
	}
	c.log.Error().AnErr("halt_file_error", err).Int64("height", height).Str("halt_file", c.haltFile()).
		Msg("light client halted: a witness diverges; nothing from this chain is trusted until an operator checks the evidence and removes the halt file")
	if f := c.onDivergence; f != nil && conflicting != nil {
		go f(&Fork{ChainID: c.chainID, Height: height, Witness: witness, Evidence: evidence, Verified: verified, Conflicting: conflicting, c: c})
	}
	return c.halted
}

// Halted is the halt (ErrHalted) after a divergence, nil while the client verifies (or once the
// halt file is removed: the client then resumes).
func (c *Client) Halted() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stillHalted()
}

// lcOptions are the options of the cometbft client inside Client.
var lcOptions = []cmtlight.Option{cmtlight.SkippingVerification(cmtlight.DefaultTrustLevel), cmtlight.MaxRetryAttempts(3)}

// stillHalted is the halt, unless an operator has removed the halt file since: then the client
// resumes from its stored headers (those from the divergence up were forgotten when it halted) and
// verifies again, without a restart. Called with c.mu held.
func (c *Client) stillHalted() error {
	if c.halted == nil {
		return nil
	}
	if _, err := os.Stat(c.haltFile()); !errors.Is(err, os.ErrNotExist) {
		return c.halted
	}
	// A fresh cometbft client: the old one still holds the refused header as its latest, and its
	// detector may have dropped witnesses.
	lc, err := cmtlight.NewClientFromTrustedStore(c.chainID, c.trustingPeriod, c.primary, c.detectorWitnesses(), c.store, lcOptions...)
	if err != nil {
		c.log.Error().Err(err).Msg("halt file removed, but the light client cannot resume from its store")
		return c.halted
	}
	c.lc, c.halted, c.replay = lc, nil, nil
	last, _ := c.store.LastLightBlockHeight()
	c.log.Warn().Int64("height", last).Msg("halt file removed: the light client resumes from its newest stored header")
	return nil
}
