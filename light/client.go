package light

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmtlight "github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"
	lighthttp "github.com/cometbft/cometbft/light/provider/http"
	lightdb "github.com/cometbft/cometbft/light/store/db"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	"github.com/cometbft/cometbft/types"
	"github.com/rs/zerolog"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// Options configure a light client.
type Options struct {
	ChainID string
	// Primary is the RPC address headers are fetched from.
	Primary string
	// Witnesses are RPC addresses headers are cross-checked against. With none, the primary is its
	// own witness (cometbft's light client needs one), which checks nothing: a warning is logged.
	Witnesses []string
	// TrustingPeriod bounds how old the last verified header may be.
	TrustingPeriod time.Duration
	// TrustHeight and TrustHash are the root of trust when the store is empty.
	TrustHeight int64
	TrustHash   []byte
	// TrustLatest trusts the primary's latest header when the store is empty and no trust root is
	// given. Only for an operator's explicit --trust-latest; a warning is logged.
	TrustLatest bool
	// StoreDir holds the verified headers (survives restarts). Required.
	StoreDir string
	// EvidenceDir receives divergence evidence files (default StoreDir/evidence).
	EvidenceDir string
	Logger      zerolog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnDivergence, if set, is called once, in its own goroutine, when the client halts on a witness
	// that served a conflicting header: with both headers, for whoever turns them into misbehaviour
	// (this package knows nothing of IBC). SetOnDivergence sets it on an open client. A client that
	// opens halted (a halt file from before a restart) hands it that fork once too, if its evidence
	// file holds both headers: what was done with it before the restart may not have succeeded.
	OnDivergence func(*Fork)
}

// Client is a chain's light client.
type Client struct {
	chainID     string
	lc          *cmtlight.Client
	primary     provider.Provider
	witnesses   []provider.Provider
	witnessURLs []string
	db          dbm.DB
	storeDir    string
	evidenceDir string
	log         zerolog.Logger
	now         func() time.Time
	// trustingPeriod bounds the age of the newest verified header.
	trustingPeriod time.Duration
	mu             sync.Mutex // serialises verification: cometbft's client is not meant for parallel updates
	// record is every witness's last cross-check and the divergences seen (Witnesses, Divergences).
	record *witnessRecord
	store  *trustedStore
	// halted is set once a witness diverged (ErrHalted), from then on or from the halt file at open:
	// every verification returns it.
	halted error
	// onDivergence is Options.OnDivergence (guarded by mu).
	onDivergence func(*Fork)
	// replay is the fork of a halt file found at open, with both headers read back from its evidence
	// file, until it is handed to onDivergence (guarded by mu).
	replay *Fork
}

// New opens (or creates) the light client of a chain.
func New(ctx context.Context, o Options) (*Client, error) {
	if o.ChainID == "" || o.Primary == "" || o.StoreDir == "" {
		return nil, errors.New("light: chain id, primary and store dir are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EvidenceDir == "" {
		o.EvidenceDir = filepath.Join(o.StoreDir, "evidence")
	}
	log := o.Logger.With().Str("chain", o.ChainID).Logger()
	rpc, err := newRPC(o.Primary)
	if err != nil {
		return nil, fmt.Errorf("light %s: primary %s: %w", o.ChainID, o.Primary, err)
	}
	primary := newCachedProvider(lighthttp.NewWithClient(o.ChainID, rpc))
	witnessURLs := o.Witnesses
	if len(witnessURLs) == 0 {
		log.Warn().Str("primary", o.Primary).Msg("no witnesses configured: the primary is its own witness and divergence cannot be detected")
		witnessURLs = []string{o.Primary}
	}
	var witnesses []provider.Provider
	for _, w := range witnessURLs {
		if w == o.Primary {
			// The same node again: one fetch serves both roles.
			witnesses = append(witnesses, primary)
			continue
		}
		wrpc, err := newRPC(w)
		if err != nil {
			return nil, fmt.Errorf("light %s: witness %s: %w", o.ChainID, w, err)
		}
		witnesses = append(witnesses, lighthttp.NewWithClient(o.ChainID, wrpc))
	}
	return newWithProviders(ctx, o, log, primary, witnesses, witnessURLs)
}

// newWithProviders builds the client over given providers. Each witness serves both cometbft's
// divergence detector and our cross-check through one cache, so a header is fetched from it once.
func newWithProviders(ctx context.Context, o Options, log zerolog.Logger, primary provider.Provider, witnesses []provider.Provider,
	witnessURLs []string,
) (*Client, error) {
	for i, w := range witnesses {
		if _, ok := w.(*cachedProvider); !ok {
			witnesses[i] = newCachedProvider(w)
		}
	}
	isPrimary := make([]bool, len(witnesses))
	for i, w := range witnesses {
		isPrimary[i] = w == primary
	}
	record := newWitnessRecord(witnessURLs, isPrimary)
	if err := record.loadEvidence(o.EvidenceDir, o.ChainID); err != nil {
		log.Warn().Err(err).Str("dir", o.EvidenceDir).Msg("earlier evidence files not listed")
	}
	if err := os.MkdirAll(o.StoreDir, 0o700); err != nil {
		return nil, fmt.Errorf("light %s: store dir: %w", o.ChainID, err)
	}
	// No table files kept open (the store is small and read rarely): at 121 chains, the cache's two
	// open files a store were 242 file descriptors. A 256 KiB write buffer instead of leveldb's 4 MiB:
	// a store takes one small header a block, and at 121 chains the default buffers were 93 % of the
	// heap (bench-sim: 636 → 278 MB RSS).
	db, err := dbm.NewGoLevelDBWithOpts("light-"+o.ChainID, o.StoreDir, &opt.Options{OpenFilesCacheCapacity: -1, WriteBuffer: 256 << 10})
	if errors.Is(err, syscall.EAGAIN) {
		return nil, fmt.Errorf("light %s: %w: %s is locked by another process (a running `cityrelay start` owns it: ask its /v1/attestations endpoint or its console)",
			o.ChainID, ErrStoreInUse, o.StoreDir)
	}
	if err != nil {
		return nil, fmt.Errorf("light %s: open store: %w", o.ChainID, err)
	}
	store := &trustedStore{Store: lightdb.New(unsyncedDB{db}, o.ChainID)}
	opts := lcOptions

	c := &Client{chainID: o.ChainID, primary: primary, witnesses: witnesses, witnessURLs: witnessURLs, db: db, storeDir: o.StoreDir,
		evidenceDir: o.EvidenceDir, log: log, now: o.Now, trustingPeriod: o.TrustingPeriod, record: record, store: store,
		onDivergence: o.OnDivergence}
	detectorWitnesses := c.detectorWitnesses()
	if err := c.loadHalt(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("light %s: halt file: %w", o.ChainID, err)
	}
	if h, err := store.LastLightBlockHeight(); err == nil && h > 0 {
		// Resume from the headers verified before: the trust options are not needed again.
		c.lc, err = cmtlight.NewClientFromTrustedStore(o.ChainID, o.TrustingPeriod, primary, detectorWitnesses, store, opts...)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("light %s: resume from store: %w", o.ChainID, err)
		}
		log.Info().Int64("height", h).Msg("light client resumed from its store")
		c.replayHalt()
		return c, nil
	}
	trust := cmtlight.TrustOptions{Period: o.TrustingPeriod, Height: o.TrustHeight, Hash: o.TrustHash}
	if o.TrustHeight == 0 && !o.TrustLatest {
		_ = db.Close()
		return nil, fmt.Errorf("light %s: %w", o.ChainID, ErrNoTrustRoot)
	}
	root, err := primary.LightBlock(ctx, o.TrustHeight) // height 0: the latest
	if err != nil {
		_ = db.Close()
		if o.TrustHeight == 0 {
			return nil, fmt.Errorf("light %s: latest header from the primary (--trust-latest): %w", o.ChainID, err)
		}
		return nil, fmt.Errorf("light %s: trusted header %d from the primary: %w", o.ChainID, o.TrustHeight, err)
	}
	if o.TrustHeight == 0 {
		trust.Height, trust.Hash = root.Height, root.Hash()
		log.Warn().Int64("height", root.Height).Str("hash", fmt.Sprintf("%X", trust.Hash)).
			Msg("trusting the primary's latest header (--trust-latest): check this hash out of band")
	}
	// The root of trust is cross-checked against the witnesses before anything is built on it.
	if err := c.crossCheck(ctx, root); err != nil {
		_ = db.Close()
		return nil, err
	}
	c.lc, err = cmtlight.NewClient(ctx, o.ChainID, trust, primary, detectorWitnesses, store, opts...)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("light %s: initialise from trust height %d: %w", o.ChainID, trust.Height, err)
	}
	c.replayHalt()
	return c, nil
}

// detectorWitnesses are the witnesses as cometbft's divergence detector gets them: a dropped one, or
// one at the height it was found faulty at, answers nothing (gatedProvider). cometbft's client drops
// a witness it finds bad by moving the last one into its slot: this is its own slice, or our
// witnesses would no longer line up with witnessURLs.
func (c *Client) detectorWitnesses() []provider.Provider {
	out := make([]provider.Provider, len(c.witnesses))
	for i, w := range c.witnesses {
		out[i] = &gatedProvider{Provider: w, refuses: func(h int64) bool { return c.record.refuses(i, h) }}
	}
	return out
}

// ChainID is the chain the client verifies.
func (c *Client) ChainID() string { return c.chainID }

// VerifyLatest verifies the primary's newest header and returns it (or the newest verified one if
// the primary has nothing newer).
func (c *Client) VerifyLatest(ctx context.Context) (*types.LightBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stillHalted(); err != nil {
		return nil, err
	}
	lb, err := c.lc.Update(ctx, c.now())
	if err != nil {
		if errors.Is(err, cmtlight.ErrLightClientAttack) {
			return nil, c.haltOnAttack(ctx, c.primaryLatest(), err)
		}
		if herr := c.judgeUnconfirmed(ctx, c.primaryLatest(), err); herr != nil {
			return nil, herr
		}
		err = c.withFaulty(err)
		return nil, &VerificationError{ChainID: c.chainID, Err: err}
	}
	if lb == nil {
		// Nothing newer: the newest verified header must still be within the trusting period.
		if lb, err = c.lc.TrustedLightBlock(0); err != nil {
			return nil, &VerificationError{ChainID: c.chainID, Err: err}
		}
		if expiry := lb.Time.Add(c.trustingPeriod); !c.now().Before(expiry) {
			return nil, &VerificationError{ChainID: c.chainID, Height: lb.Height, Err: cmtlight.ErrOldHeaderExpired{At: expiry, Now: c.now()}}
		}
		return lb, nil
	}
	if err := c.crossCheck(ctx, lb); err != nil {
		return nil, err
	}
	return lb, nil
}

// witnessLatestTimeout bounds the wait for a witness's latest header in VerifyFresh.
const witnessLatestTimeout = 5 * time.Second

// VerifyFresh verifies the primary's newest header and returns it only if it is at most maxAge old
// and no witness serves a header more than maxAge newer. A primary that freezes its answers reports
// nothing newer, and VerifyLatest then serves the last stored header for the whole trusting period:
// whoever answers a question about now (is this credential revoked?) must not answer from that.
// A witness's latest header counts only if it verifies from the newest verified header (signed by at
// least 1/3 of its validators): one that does not marks the witness faulty and is ignored, so a lying
// witness cannot make this refuse.
func (c *Client) VerifyFresh(ctx context.Context, maxAge time.Duration) (*types.LightBlock, error) {
	lb, err := c.VerifyLatest(ctx)
	if err != nil {
		return nil, err
	}
	now := c.now()
	if age := now.Sub(lb.Time); age > maxAge {
		return nil, &VerificationError{ChainID: c.chainID, Height: lb.Height, Err: fmt.Errorf(
			"%w: the newest header the primary serves is from %s, %s old (max %s): the node is stalled or freezing its answers",
			ErrStale, lb.Time.UTC().Format(time.RFC3339), age.Round(time.Second), maxAge)}
	}
	for i, w := range c.witnesses {
		if w == c.primary || c.record.dropped(i) {
			continue // the primary as its own witness says nothing new; a dropped witness is not asked
		}
		wctx, cancel := context.WithTimeout(ctx, witnessLatestTimeout)
		wlb, err := w.LightBlock(wctx, 0)
		cancel()
		if err != nil {
			c.log.Debug().Err(err).Str("witness", c.witnessURLs[i]).Msg("witness did not give its latest header")
			continue
		}
		if wlb.Height > lb.Height && wlb.Time.Sub(lb.Time) > maxAge {
			// Only a header the trusted validators signed says the chain moved on: one that does not
			// verify from the newest verified header is the witness's fault, not the primary's.
			if verr := c.verifiesFromTrust(wlb, lb.ValidatorSet); verr != nil {
				dropped := c.record.faulty(i, wlb.Height, c.now(), fmt.Sprintf("served a latest header %d (%s) that does not verify from the trusted state: %v",
					wlb.Height, wlb.Time.UTC().Format(time.RFC3339), verr))
				c.log.Warn().Int64("height", wlb.Height).Str("witness", c.witnessURLs[i]).AnErr("reason", verr).Bool("dropped", dropped).
					Msg("faulty witness: its latest header, ahead of the primary's, does not verify; ignored")
				continue
			}
			return nil, &VerificationError{ChainID: c.chainID, Height: lb.Height, Err: fmt.Errorf(
				"%w: witness %s is at height %d (%s), %s ahead of the primary's newest header",
				ErrStale, c.witnessURLs[i], wlb.Height, wlb.Time.UTC().Format(time.RFC3339), wlb.Time.Sub(lb.Time).Round(time.Second))}
		}
	}
	return lb, nil
}

// VerifyHeight returns the verified header at h, verifying it if it is not in the store yet.
func (c *Client) VerifyHeight(ctx context.Context, h int64) (*types.LightBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stillHalted(); err != nil {
		return nil, err
	}
	if lb, err := c.lc.TrustedLightBlock(h); err == nil {
		return lb, nil
	}
	lb, err := c.lc.VerifyLightBlockAtHeight(ctx, h, c.now())
	if err != nil {
		if errors.Is(err, cmtlight.ErrLightClientAttack) {
			return nil, c.haltOnAttack(ctx, h, err)
		}
		if herr := c.judgeUnconfirmed(ctx, h, err); herr != nil {
			return nil, herr
		}
		err = c.withFaulty(err)
		return nil, &VerificationError{ChainID: c.chainID, Height: h, Err: err}
	}
	if err := c.crossCheck(ctx, lb); err != nil {
		return nil, err
	}
	return lb, nil
}

// ValidatorsAt returns the validator set at height h whose hash is hash, a hash the caller takes from
// state it already trusts (the NextValidatorsHash of an IBC client's consensus state). It comes from
// the store when h was verified, otherwise from the primary and checked against hash: updating a
// client that fell behind this light client's first header needs no walk back through every header
// in between (two RPC calls per header).
func (c *Client) ValidatorsAt(ctx context.Context, h int64, hash []byte) (*types.ValidatorSet, error) {
	c.mu.Lock()
	halted := c.stillHalted()
	c.mu.Unlock()
	if halted != nil {
		return nil, halted
	}
	return c.validatorsAt(ctx, h, hash)
}

// validatorsAt is ValidatorsAt, halted or not (Fork.ValidatorsAt).
func (c *Client) validatorsAt(ctx context.Context, h int64, hash []byte) (*types.ValidatorSet, error) {
	c.mu.Lock()
	lb, err := c.lc.TrustedLightBlock(h)
	c.mu.Unlock()
	if err != nil {
		if lb, err = c.primary.LightBlock(ctx, h); err != nil {
			return nil, &VerificationError{ChainID: c.chainID, Height: h, Err: fmt.Errorf("validators: %w", err)}
		}
	}
	if got := lb.ValidatorSet.Hash(); !bytes.Equal(got, hash) {
		return nil, &VerificationError{ChainID: c.chainID, Height: h, Err: fmt.Errorf("%w: validators hash %X, the trusted state says %X", ErrDivergence, got, hash)}
	}
	return lb.ValidatorSet, nil
}

// AppHashAt returns the app hash of the state after block h, taken from the verified header h+1.
func (c *Client) AppHashAt(ctx context.Context, h int64) ([]byte, error) {
	lb, err := c.VerifyHeight(ctx, h+1)
	if err != nil {
		return nil, err
	}
	return lb.AppHash, nil
}

// VerifyMembership checks a proof of (storeKey, key) = value read at height h (value nil: absence)
// against the verified app hash of the state after h.
func (c *Client) VerifyMembership(ctx context.Context, h int64, storeKey string, key, value []byte, ops *cmtcrypto.ProofOps) error {
	appHash, err := c.AppHashAt(ctx, h)
	if err != nil {
		return err
	}
	return VerifyProofAgainstAppHash(appHash, storeKey, key, value, ops)
}

// TrustedHeight is the height of the newest verified header.
func (c *Client) TrustedHeight() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lc.LastTrustedHeight()
}

// Close closes the store.
func (c *Client) Close() error { return c.db.Close() }

// crossCheck asks every witness that is not dropped for the header at lb's height (lb verified). A
// witness serving the same header agrees. One serving another header is judged by that header alone
// (conflictVerifies): if it verifies from the trusted state too (signed by the validators the client
// trusts), the chain forked or the client is attacked, and that is a divergence: evidence, halt,
// OnDivergence. If it does not, no one who holds the validators' keys signed it: the witness is
// faulty (lying, or serving another network), which is recorded (WitnessFaulty, dropped at
// MaxWitnessFaults) and neither halts nor refuses lb. Every witness is asked, even after a divergence,
// and its outcome recorded (Witnesses); the error is the first divergence.
func (c *Client) crossCheck(ctx context.Context, lb *types.LightBlock) error {
	var diverged error
	var firstWitness, firstEvidence string
	var conflicting *types.LightBlock
	for i, w := range c.witnesses {
		if c.record.dropped(i) {
			continue
		}
		wlb, err := witnessBlock(ctx, w, lb.Height)
		if err != nil {
			// An unreachable witness is not evidence of anything; cometbft's detector retries it.
			c.log.Debug().Err(err).Str("witness", c.witnessURLs[i]).Int64("height", lb.Height).Msg("witness did not answer")
			if ctx.Err() == nil { // our own deadline says nothing about the witness
				c.record.checked(i, lb.Height, c.now(), WitnessNoAnswer, noAnswerReason(err), "")
			}
			continue
		}
		if bytes.Equal(wlb.Hash(), lb.Hash()) {
			c.record.checked(i, lb.Height, c.now(), WitnessAgrees, "", "")
			continue
		}
		if verr := c.conflictVerifies(lb, wlb); verr != nil {
			reason := fmt.Sprintf("served header %d (%X) that does not verify from the trusted state: %v", lb.Height, wlb.Hash(), verr)
			dropped := c.record.faulty(i, lb.Height, c.now(), reason)
			ev := c.log.Warn()
			msg := "faulty witness: its conflicting header does not verify (not a fork); it confirms nothing"
			if dropped {
				ev = c.log.Error()
				msg = "witness dropped after repeated headers that do not verify: restart the process to re-admit it"
			}
			ev.Int64("height", lb.Height).Str("witness", c.witnessURLs[i]).Str("verified_hash", fmt.Sprintf("%X", lb.Hash())).
				Str("witness_hash", fmt.Sprintf("%X", wlb.Hash())).AnErr("reason", verr).Int("max_faults", MaxWitnessFaults).Msg(msg)
			continue
		}
		file, werr := c.writeEvidence(lb, wlb, c.witnessURLs[i])
		ev := c.log.Error().Int64("height", lb.Height).Str("witness", c.witnessURLs[i]).
			Str("verified_hash", fmt.Sprintf("%X", lb.Hash())).Str("witness_hash", fmt.Sprintf("%X", wlb.Hash()))
		written := file
		if werr != nil {
			ev = ev.AnErr("evidence_error", werr)
			written = ""
		}
		ev.Str("evidence", file).Msg("witness serves a conflicting header that verifies: the chain forked or the client is attacked")
		c.record.checked(i, lb.Height, c.now(), WitnessDiverged, "", written)
		if diverged == nil {
			diverged = &VerificationError{ChainID: c.chainID, Height: lb.Height, Err: fmt.Errorf("%w: witness %s (evidence %s)", ErrDivergence, c.witnessURLs[i], file)}
			firstWitness, firstEvidence, conflicting = c.witnessURLs[i], written, wlb
		}
	}
	if diverged != nil && c.lc != nil {
		// cometbft stored the header before this check: forget it and stop trusting the chain. (At
		// open, c.lc is nil: the root of trust is refused and nothing was stored.)
		return c.haltOn(lb, conflicting, firstWitness, firstEvidence)
	}
	return diverged
}

// withFaulty adds the faulty and dropped witnesses to err (a verification no witness confirmed may
// owe it to them).
func (c *Client) withFaulty(err error) error {
	if sum := c.faultySummary(); sum != "" {
		return fmt.Errorf("no witness confirmed the header: %s: %w", sum, err)
	}
	return err
}

// faultySummary names the witnesses whose last check found a header that does not verify, or that
// are dropped ("" if none), for the error of a verification no witness confirmed.
func (c *Client) faultySummary() string {
	var parts []string
	for _, s := range c.Witnesses() {
		switch s.State {
		case WitnessFaulty:
			parts = append(parts, fmt.Sprintf("witness %s faulty at %d (%d of %d faults before it is dropped)", s.Witness, s.Height, s.Faults, MaxWitnessFaults))
		case WitnessDropped:
			parts = append(parts, fmt.Sprintf("witness %s dropped after %d headers that do not verify (restart to re-admit it)", s.Witness, s.Faults))
		}
	}
	return strings.Join(parts, "; ")
}

// evidence is the divergence record written for a later misbehaviour submission.
type evidence struct {
	ChainID string    `json:"chain_id"`
	Height  int64     `json:"height"`
	Time    time.Time `json:"time"`
	Witness string    `json:"witness"`
	// Verified and Conflict are *types.LightBlock in cometbft's JSON (cmtjson): the standard library's
	// loses the validators' key types, and a client that opens halted reads them back (replayHalt).
	Verified json.RawMessage `json:"verified"`
	Conflict json.RawMessage `json:"conflicting"`
}

func (c *Client) writeEvidence(verified, conflict *types.LightBlock, witness string) (string, error) {
	if err := os.MkdirAll(c.evidenceDir, 0o700); err != nil {
		return "", err
	}
	now := c.now()
	vbz, err := cmtjson.Marshal(verified)
	if err != nil {
		return "", err
	}
	cbz, err := cmtjson.Marshal(conflict)
	if err != nil {
		return "", err
	}
	bz, err := json.MarshalIndent(evidence{ChainID: c.chainID, Height: verified.Height, Time: now, Witness: witness,
		Verified: vbz, Conflict: cbz}, "", "  ")
	if err != nil {
		return "", err
	}
	file := filepath.Join(c.evidenceDir, fmt.Sprintf("%s-%d-%d.json", c.chainID, verified.Height, now.UnixNano()))
	return file, os.WriteFile(file, bz, 0o600)
}

// witnessLag bounds how long a witness that is behind the primary is waited for.
const witnessLag = 3 * time.Second

// witnessBlock fetches the header at h from a witness, waiting a little for a witness that has not
// reached h yet (an honest node a block or two behind).
func witnessBlock(ctx context.Context, w provider.Provider, h int64) (*types.LightBlock, error) {
	deadline := time.Now().Add(witnessLag)
	for {
		lb, err := w.LightBlock(ctx, h)
		if !errors.Is(err, provider.ErrHeightTooHigh) || time.Now().After(deadline) {
			return lb, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
