package evm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/cityrelay/cityrelay/chains"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/light/qbft"
)

// Tuned bounds of the client.
const (
	// maxBisection bounds the headers one forward verification may check. Bisection halves the
	// distance on every overlap failure, so an honest chain needs about log2(distance) headers per
	// validator-set change it skips; a lying primary can only make it descend to an adjacent header
	// and fail.
	maxBisection = 256
	// maxBackward bounds the parent-hash walk to a height below every verified header: one RPC call per
	// block, no signatures. Proofs are asked at recent heights; older ones need an older trust root.
	maxBackward = 1024
	// maxCached is how many verified headers are kept in memory (the newest trusted one is never
	// evicted): enough for the heights a relayer proves at while the chain moves on.
	maxCached = 256
	// witnessPoll is the pause between a lagging witness's attempts.
	witnessPoll = 200 * time.Millisecond
)

// defaultWitnessLag bounds the wait for a witness that has not reached a height yet (an honest node a
// block or two behind, at QBFT's few-second block period). A variable only so tests of silent
// witnesses need not wait.
var defaultWitnessLag = 3 * time.Second

// VerifiedHeader is a header the client verified (see the package doc): the EVM header role's type,
// chains.EvmHeader. The client shares it between callers: treat it as read-only.
type VerifiedHeader = chains.EvmHeader

// trustedOf is vh as a trusted header.
func trustedOf(vh *VerifiedHeader) qbft.TrustedHeader {
	return qbft.TrustedHeader{Height: vh.Height, Time: vh.Time, Hash: vh.Hash, Validators: vh.Validators}
}

// fetched is a header a node served, parsed; nothing about it is verified.
type fetched struct {
	header *qbft.Header
	raw    []byte
	hash   common.Hash
	parent common.Hash
	bloom  types.Bloom
}

// linkedBy reports whether a child's parent hash names this header: Besu links blocks by the QBFT
// hash (seals emptied, round 0), go-ethereum-based chains (evmdevnet) by keccak256 of the full header
// RLP. Either commits to every field the bloom walk reads.
func (f *fetched) linkedBy(parentHash common.Hash) bool {
	return f.hash == parentHash || crypto.Keccak256Hash(f.raw) == parentHash
}

func (f *fetched) verified() *VerifiedHeader {
	return &VerifiedHeader{Height: f.header.Number().Uint64(), Time: time.Unix(int64(f.header.Time()), 0).UTC(),
		StateRoot: f.header.StateRoot(), Hash: f.hash, Validators: f.header.Validators(), RLP: f.raw, ParentHash: f.parent}
}

// node is one JSON-RPC endpoint.
type node struct {
	url string
	rc  *rpc.Client
}

// Client verifies an EVM city chain's headers and proves the registry's state against them. It is
// safe for concurrent use: verification runs without a lock, and only its result is committed under
// one.
type Client struct {
	cfg        Config
	opts       qbft.Options
	primary    node
	witnesses  []node
	store      *qbft.Store
	storeName  string
	witnessLag time.Duration
	// book is the witnesses' last cross-checks and faults.
	book *witnessBook

	mu      sync.Mutex
	trusted qbft.TrustedHeader         // the newest verified header, as stored
	cache   map[uint64]*VerifiedHeader // verified headers by height, the trusted one included
}

// Dial connects to the chain's nodes and sets up the root of trust: the newest header in the store or,
// when the store is empty or trust is newer, trust (all of its fields are required then). The root's
// header is fetched from the primary and must have trust's hash, validators and time; it must be
// within the trusting period and every witness that answers must serve it.
//
// Errors: config errors naming the field, ErrNoTrustRoot, ErrChainIDMismatch, qbft.ErrExpired,
// ErrHashMismatch, ErrWitnessMismatch, ErrNoWitness, and the nodes' errors.
func Dial(ctx context.Context, cfg Config, trust qbft.TrustedHeader) (_ *Client, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	store, err := qbft.OpenStore(cfg.StoreDir)
	if err != nil {
		return nil, fmt.Errorf("evm chain %d: %w", cfg.ChainID, err)
	}
	c := &Client{cfg: cfg, opts: qbft.Options{TrustingPeriod: cfg.TrustingPeriod, MaxClockDrift: cfg.MaxClockDrift}, store: store,
		storeName: fmt.Sprintf("evm-%d", cfg.ChainID), witnessLag: defaultWitnessLag, cache: make(map[uint64]*VerifiedHeader)}

	root, fromStore, err := c.trustRoot(trust)
	if err != nil {
		return nil, err
	}
	if expiry := root.Time.Add(cfg.TrustingPeriod); !cfg.Now().Before(expiry) {
		return nil, fmt.Errorf("evm chain %d: trusted block %d: %w: expired at %s; give a newer trust root", cfg.ChainID, root.Height,
			qbft.ErrExpired, expiry.UTC().Format(time.RFC3339))
	}

	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if c.primary, err = dialNode(ctx, cfg.RPC); err != nil {
		return nil, fmt.Errorf("evm chain %d: primary: %w", cfg.ChainID, err)
	}
	for _, w := range cfg.Witnesses {
		n, err := dialNode(ctx, w)
		if err != nil {
			return nil, fmt.Errorf("evm chain %d: witness: %w", cfg.ChainID, err)
		}
		c.witnesses = append(c.witnesses, n)
	}
	c.book = newWitnessBook(cfg.Witnesses)
	for _, n := range append([]node{c.primary}, c.witnesses...) {
		if err := c.checkChainID(ctx, n); err != nil {
			return nil, err
		}
	}

	vh, err := c.verifyByHash(ctx, root.Height, root.Hash)
	if err == nil && !slices.Equal(vh.Validators, root.Validators) {
		err = fmt.Errorf("%w: the trusted header lists validators %v, block %d lists %v", ErrHashMismatch, root.Validators, root.Height, vh.Validators)
	}
	if err == nil && !vh.Time.Equal(root.Time) {
		err = fmt.Errorf("%w: the trusted header's time is %s, block %d's %s", ErrHashMismatch, root.Time.UTC().Format(time.RFC3339), root.Height,
			vh.Time.Format(time.RFC3339))
	}
	if err == nil {
		err = c.crossCheck(ctx, vh)
	}
	if err != nil {
		return nil, &VerificationError{ChainID: cfg.ChainID, Height: root.Height, Err: fmt.Errorf("trust root: %w", err)}
	}
	if !fromStore {
		if err := c.store.Save(c.storeName, root); err != nil {
			return nil, fmt.Errorf("evm chain %d: store the trust root: %w", cfg.ChainID, err)
		}
	}
	c.trusted, c.cache[vh.Height] = trustedOf(vh), vh
	return c, nil
}

// trustRoot picks the root of trust: the stored header unless trust is newer.
func (c *Client) trustRoot(trust qbft.TrustedHeader) (root qbft.TrustedHeader, fromStore bool, err error) {
	given := trust.Hash != (common.Hash{}) || len(trust.Validators) > 0
	stored, err := c.store.Load(c.storeName)
	switch {
	case err == nil && (!given || trust.Height <= stored.Height):
		return stored, true, nil
	case err != nil && !errors.Is(err, qbft.ErrNoTrustedHeader):
		return qbft.TrustedHeader{}, false, fmt.Errorf("evm chain %d: %w", c.cfg.ChainID, err)
	case !given:
		return qbft.TrustedHeader{}, false, fmt.Errorf("evm chain %d: %w", c.cfg.ChainID, ErrNoTrustRoot)
	}
	if err := trust.Validate(); err != nil {
		return qbft.TrustedHeader{}, false, fmt.Errorf("evm chain %d: trust root: %w", c.cfg.ChainID, err)
	}
	return trust, false, nil
}

func dialNode(ctx context.Context, url string) (node, error) {
	rc, err := rpc.DialContext(ctx, url)
	if err != nil {
		return node{}, fmt.Errorf("dial %s: %w", url, err)
	}
	return node{url: url, rc: rc}, nil
}

func (c *Client) checkChainID(ctx context.Context, n node) error {
	var id hexutil.Big
	if err := n.rc.CallContext(ctx, &id, "eth_chainId"); err != nil {
		return fmt.Errorf("evm chain %d: eth_chainId from %s: %w", c.cfg.ChainID, n.url, err)
	}
	if got := id.ToInt(); !got.IsUint64() || got.Uint64() != c.cfg.ChainID {
		return fmt.Errorf("evm chain %d: %w: %s serves chain %s", c.cfg.ChainID, ErrChainIDMismatch, n.url, got)
	}
	return nil
}

// Close closes the connections to the nodes.
func (c *Client) Close() {
	for _, n := range append([]node{c.primary}, c.witnesses...) {
		if n.rc != nil {
			n.rc.Close()
		}
	}
}

// ChainID is the chain the client verifies.
func (c *Client) ChainID() uint64 { return c.cfg.ChainID }

// Trusted is the newest verified header, as stored.
func (c *Client) Trusted() qbft.TrustedHeader {
	c.mu.Lock()
	defer c.mu.Unlock()
	th := c.trusted
	th.Validators = slices.Clone(th.Validators)
	return th
}

// VerifiedHeader returns the verified header at height: from memory when it was verified before;
// above the newest trusted header by skipping verification from it (bisecting when too few trusted
// validators sealed the target); below it by the parent hashes from the nearest verified header above.
// Every configured witness that answers must serve the same block hash. A header newer than the
// trusted one becomes the trusted one and is stored.
//
// Errors are *VerificationError wrapping qbft's header errors (ErrExpired, ErrTrustOverlap, ...),
// ErrWitnessMismatch, ErrNoWitness, ErrHashMismatch, ErrNotVerified (too far below every verified
// header), ErrInvalidResponse or the nodes' errors.
func (c *Client) VerifiedHeader(ctx context.Context, height uint64) (*VerifiedHeader, error) {
	c.mu.Lock()
	if vh, ok := c.cache[height]; ok {
		c.mu.Unlock()
		return vh, nil
	}
	trusted, above := c.trusted, c.lowestAbove(height)
	c.mu.Unlock()

	var vh *VerifiedHeader
	var err error
	switch {
	case height > trusted.Height:
		vh, err = c.verifyForward(ctx, trusted, height)
	case height == trusted.Height: // the trusted header stays cached; should it not be, its hash identifies it
		vh, err = c.verifyByHash(ctx, height, trusted.Hash)
	default:
		vh, err = c.verifyBackward(ctx, height, above)
	}
	if err == nil {
		err = c.crossCheck(ctx, vh)
	}
	if err == nil {
		err = c.commit(vh)
	}
	if err != nil {
		return nil, &VerificationError{ChainID: c.cfg.ChainID, Height: height, Err: err}
	}
	return vh, nil
}

// Latest returns the verified header at the primary's newest block (or the newest verified header,
// if the primary reports an older block). It must be within the trusting period: a primary that stops
// moving cannot make the client serve an old header as the latest for ever.
func (c *Client) Latest(ctx context.Context) (*VerifiedHeader, error) {
	var n hexutil.Uint64
	if err := c.primary.rc.CallContext(ctx, &n, "eth_blockNumber"); err != nil {
		return nil, fmt.Errorf("evm chain %d: eth_blockNumber from %s: %w", c.cfg.ChainID, c.primary.url, err)
	}
	height := max(uint64(n), c.Trusted().Height)
	vh, err := c.VerifiedHeader(ctx, height)
	if err != nil {
		return nil, err
	}
	if now, expiry := c.cfg.Now(), vh.Time.Add(c.cfg.TrustingPeriod); !now.Before(expiry) {
		return nil, &VerificationError{ChainID: c.cfg.ChainID, Height: vh.Height, Err: fmt.Errorf("%w: the newest block is from %s, now %s",
			qbft.ErrExpired, vh.Time.Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	return vh, nil
}

// lowestAbove is the verified header nearest above height (nil if none). The caller holds mu.
func (c *Client) lowestAbove(height uint64) *VerifiedHeader {
	var best *VerifiedHeader
	for h, vh := range c.cache {
		if h > height && (best == nil || h < best.Height) {
			best = vh
		}
	}
	return best
}

// verifyForward verifies the header at height from the trusted header from, CometBFT-style: try the
// target; if too few trusted validators sealed it, verify a header halfway first and try again from
// there.
func (c *Client) verifyForward(ctx context.Context, from qbft.TrustedHeader, height uint64) (*VerifiedHeader, error) {
	now := c.cfg.Now()
	trusted := from
	pending := []uint64{height} // heights still to verify, the next on top
	seen := make(map[uint64]*fetched)
	for checked := 0; len(pending) > 0; checked++ {
		if checked == maxBisection {
			return nil, fmt.Errorf("%w: block %d from trusted block %d: more than %d headers to check", qbft.ErrTrustOverlap, height, from.Height, maxBisection)
		}
		next := pending[len(pending)-1]
		f, ok := seen[next]
		if !ok {
			var err error
			if f, err = c.fetchHeader(ctx, c.primary, next); err != nil {
				return nil, err
			}
			seen[next] = f
		}
		if t := time.Unix(int64(f.header.Time()), 0); t.Before(trusted.Time) {
			return nil, fmt.Errorf("%w: block %d at %s is older than trusted block %d at %s", qbft.ErrInvalidHeader, next,
				t.UTC().Format(time.RFC3339), trusted.Height, trusted.Time.UTC().Format(time.RFC3339))
		}
		_, err := qbft.Verify(trusted.Trusted(), f.header, c.opts, now)
		switch {
		case err == nil:
			trusted = trustedOf(f.verified())
			pending = pending[:len(pending)-1]
		case errors.Is(err, qbft.ErrTrustOverlap) && next-trusted.Height > 1:
			pending = append(pending, trusted.Height+(next-trusted.Height)/2)
		default:
			return nil, fmt.Errorf("block %d from trusted block %d: %w", next, trusted.Height, err)
		}
	}
	return seen[height].verified(), nil
}

// verifyByHash fetches the header at height and accepts it if its hash is the trusted hash.
func (c *Client) verifyByHash(ctx context.Context, height uint64, hash common.Hash) (*VerifiedHeader, error) {
	f, err := c.fetchHeader(ctx, c.primary, height)
	if err != nil {
		return nil, err
	}
	if f.hash != hash {
		return nil, fmt.Errorf("%w: %s serves block %d with hash %s, trusted %s", ErrHashMismatch, c.primary.url, height, f.hash, hash)
	}
	return f.verified(), nil
}

// verifyBackward walks parent hashes down from the verified header above to height.
func (c *Client) verifyBackward(ctx context.Context, height uint64, above *VerifiedHeader) (*VerifiedHeader, error) {
	if above == nil || above.Height-height > maxBackward {
		return nil, fmt.Errorf("%w: block %d is more than %d blocks below every verified header", ErrNotVerified, height, maxBackward)
	}
	want := above.ParentHash
	for h := above.Height - 1; ; h-- {
		f, err := c.fetchHeader(ctx, c.primary, h)
		if err != nil {
			return nil, err
		}
		if !f.linkedBy(want) { // the QBFT hash (Besu) or keccak of the full header (go-ethereum chains)
			return nil, fmt.Errorf("%w: %s serves block %d with hash %s, its verified child says %s", ErrHashMismatch, c.primary.url, h, f.hash, want)
		}
		if h == height {
			return f.verified(), nil
		}
		want = f.parent
	}
}

// crossCheck compares vh's hash with every witness's block at vh's height (a dropped witness is not
// asked). A witness serving another block is judged by that block alone (conflictVerifies): sealed by
// a quorum of its validators and by at least f+1 of the validators the client verified at that
// height, it is a fork (*ForkError: misbehaviour for the city-qbft client); otherwise the witness is
// faulty (it lies or serves another network): recorded (Witnesses), dropped at
// light.MaxWitnessFaults until a restart, and it confirms nothing. One that does not answer (within
// witnessLag) is skipped; when witnesses are configured at least one must confirm (ErrNoWitness, with
// the faulty ones named): only this verification fails.
func (c *Client) crossCheck(ctx context.Context, vh *VerifiedHeader) error {
	if len(c.witnesses) == 0 {
		return nil
	}
	var unanswered []error
	for i, w := range c.witnesses {
		if c.book.dropped(i) {
			unanswered = append(unanswered, fmt.Errorf("witness %s dropped after %d blocks that do not verify (restart to re-admit it)",
				light.RedactURL(w.url), light.MaxWitnessFaults))
			continue
		}
		f, err := c.witnessHeader(ctx, w, vh.Height)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.book.checked(i, vh.Height, c.cfg.Now(), light.WitnessNoAnswer, light.RedactText(err.Error()))
			unanswered = append(unanswered, err)
			continue
		}
		if f.hash == vh.Hash {
			c.book.checked(i, vh.Height, c.cfg.Now(), light.WitnessAgrees, "")
			continue
		}
		verr := conflictVerifies(vh, f)
		if verr == nil {
			c.book.checked(i, vh.Height, c.cfg.Now(), light.WitnessDiverged, "")
			return &ForkError{ChainID: c.cfg.ChainID, Height: vh.Height, Witness: w.url, Primary: vh.RLP, Conflicting: f.raw}
		}
		faulty := fmt.Errorf("%w: witness %s serves block %d with hash %s, the verified one is %s, and its block does not verify from the trusted state: %w",
			ErrWitnessFaulty, w.url, vh.Height, f.hash, vh.Hash, verr)
		c.book.faulty(i, vh.Height, c.cfg.Now(), light.RedactText(faulty.Error()))
		unanswered = append(unanswered, faulty)
	}
	if len(unanswered) == len(c.witnesses) {
		return fmt.Errorf("%w: block %d: %w", ErrNoWitness, vh.Height, errors.Join(unanswered...))
	}
	return nil
}

// conflictVerifies reports (nil) whether f, a witness's block conflicting with the verified vh at the
// same height, verifies from the trusted state: a quorum of the validators it names sealed it (anyone
// can make up a validator set) and at least f+1 of vh's validators (n = 3f+1; qbft.Verify's trust rule)
// are among its signers. Only such a block is evidence of a fork; the error says why f is not.
func conflictVerifies(vh *VerifiedHeader, f *fetched) error {
	signers, err := f.header.VerifySeals()
	if err != nil {
		return err
	}
	trusted := make(map[common.Address]bool, len(vh.Validators))
	for _, v := range vh.Validators {
		trusted[v] = true
	}
	overlap := 0
	for _, s := range signers {
		if trusted[s] {
			overlap++
		}
	}
	if need := (len(vh.Validators)-1)/3 + 1; overlap < need {
		return fmt.Errorf("%w: %d of the %d verified validators of block %d sealed it, need %d", qbft.ErrTrustOverlap, overlap, len(vh.Validators), vh.Height, need)
	}
	return nil
}

// Witnesses is each configured witness's last cross-check, in the configured order, as a Cosmos
// chain's light client reports them (light.Client.Witnesses): agrees, no answer, faulty (served a
// block that does not verify), dropped, diverged (a fork).
func (c *Client) Witnesses() []light.WitnessStatus { return c.book.list() }

// witnessHeader fetches a witness's header at height, retrying for witnessLag while it fails (a
// witness a block behind has not got it yet).
func (c *Client) witnessHeader(ctx context.Context, w node, height uint64) (*fetched, error) {
	deadline := time.Now().Add(c.witnessLag)
	for {
		f, err := c.fetchHeader(ctx, w, height)
		if err == nil || errors.Is(err, ErrInvalidResponse) || !time.Now().Add(witnessPoll).Before(deadline) {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(witnessPoll):
		}
	}
}

// commit records a verified header; one newer than the trusted header becomes the trusted one, stored
// first.
func (c *Client) commit(vh *VerifiedHeader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.cache[vh.Height]; ok {
		if old.Hash != vh.Hash {
			return fmt.Errorf("%w: two verified blocks at height %d: %s and %s", ErrHashMismatch, vh.Height, old.Hash, vh.Hash)
		}
		return nil
	}
	if vh.Height > c.trusted.Height {
		th := trustedOf(vh)
		if err := c.store.Save(c.storeName, th); err != nil {
			return err
		}
		c.trusted = th
	}
	c.cache[vh.Height] = vh
	if len(c.cache) > maxCached {
		heights := make([]uint64, 0, len(c.cache))
		for h := range c.cache {
			heights = append(heights, h)
		}
		sort.Slice(heights, func(i, j int) bool { return heights[i] < heights[j] })
		for _, h := range heights[:len(heights)-maxCached] {
			if h != c.trusted.Height {
				delete(c.cache, h)
			}
		}
	}
	return nil
}

// fetchHeader asks n for the header at height (debug_getRawHeader) and parses it; nothing is verified.
func (c *Client) fetchHeader(ctx context.Context, n node, height uint64) (*fetched, error) {
	var raw *hexutil.Bytes
	if err := n.rc.CallContext(ctx, &raw, "debug_getRawHeader", hexutil.EncodeUint64(height)); err != nil {
		return nil, fmt.Errorf("debug_getRawHeader %d from %s: %w", height, n.url, err)
	}
	return parseFetched(n, height, raw)
}

// fetchHeaders asks n for the headers from..to in one JSON-RPC batch and parses them (index i is
// block from+i); nothing is verified.
func (c *Client) fetchHeaders(ctx context.Context, n node, from, to uint64) ([]*fetched, error) {
	raws := make([]*hexutil.Bytes, to-from+1)
	batch := make([]rpc.BatchElem, len(raws))
	for i := range batch {
		batch[i] = rpc.BatchElem{Method: "debug_getRawHeader", Args: []any{hexutil.EncodeUint64(from + uint64(i))}, Result: &raws[i]}
	}
	if err := n.rc.BatchCallContext(ctx, batch); err != nil {
		return nil, fmt.Errorf("debug_getRawHeader %d..%d from %s: %w", from, to, n.url, err)
	}
	out := make([]*fetched, len(raws))
	for i, e := range batch {
		height := from + uint64(i)
		if e.Error != nil {
			return nil, fmt.Errorf("debug_getRawHeader %d from %s: %w", height, n.url, e.Error)
		}
		f, err := parseFetched(n, height, raws[i])
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// parseFetched parses the header n served for height.
func parseFetched(n node, height uint64, raw *hexutil.Bytes) (*fetched, error) {
	if raw == nil || len(*raw) == 0 {
		return nil, fmt.Errorf("debug_getRawHeader %d from %s: no such block", height, n.url)
	}
	h, err := qbft.ParseHeader(*raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d from %s: %w", ErrInvalidResponse, height, n.url, err)
	}
	if num := h.Number(); !num.IsUint64() || num.Uint64() != height {
		return nil, fmt.Errorf("%w: %s served block %s for height %d", ErrInvalidResponse, n.url, num, height)
	}
	hash, err := h.Hash()
	if err != nil {
		return nil, fmt.Errorf("%w: block %d from %s: %w", ErrInvalidResponse, height, n.url, err)
	}
	// The parent hash is the header's first field (ParseHeader has checked the list).
	var fields []rlp.RawValue
	var parent common.Hash
	if err := rlp.DecodeBytes(*raw, &fields); err != nil || rlp.DecodeBytes(fields[0], &parent) != nil {
		return nil, fmt.Errorf("%w: block %d from %s: parent hash", ErrInvalidResponse, height, n.url)
	}
	bloom, err := headerBloom(*raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d from %s: %w", ErrInvalidResponse, height, n.url, err)
	}
	return &fetched{header: h, raw: *raw, hash: hash, parent: parent, bloom: bloom}, nil
}

// headerBloom is the logsBloom of a header's RLP (its seventh field: parentHash, ommersHash, coinbase,
// stateRoot, transactionsRoot, receiptsRoot, logsBloom, ...). The block hash covers it.
func headerBloom(raw []byte) (types.Bloom, error) {
	var fields []rlp.RawValue
	if err := rlp.DecodeBytes(raw, &fields); err != nil {
		return types.Bloom{}, fmt.Errorf("header: %w", err)
	}
	if len(fields) < 7 {
		return types.Bloom{}, fmt.Errorf("header has %d fields, no logsBloom", len(fields))
	}
	var b []byte
	if err := rlp.DecodeBytes(fields[6], &b); err != nil || len(b) != types.BloomByteLength {
		return types.Bloom{}, fmt.Errorf("header's logsBloom is not %d bytes", types.BloomByteLength)
	}
	return types.BytesToBloom(b), nil
}

// RegistryProof is the registry's state at a verified header, proven (chains.RegistryProof).
type RegistryProof = chains.RegistryProof

// SlotProof is one proven storage slot (chains.SlotProof).
type SlotProof = chains.SlotProof

// RegistryProof asks the primary for the registry's proofs of slots at vh (eth_getProof) and checks
// them against vh's state root and the pinned code hash before returning: a node that lies about any
// of it is refused with an error wrapping qbft.ErrInvalidProof (qbft.ErrCodeHash for another
// contract, qbft.ErrValueMismatch for a stated value its proof does not show). vh must come from this
// client (else ErrNotVerified).
func (c *Client) RegistryProof(ctx context.Context, vh *VerifiedHeader, slots []common.Hash) (*RegistryProof, error) {
	if vh == nil {
		return nil, fmt.Errorf("evm chain %d: registry proof: %w: no header", c.cfg.ChainID, ErrNotVerified)
	}
	known, err := c.VerifiedHeader(ctx, vh.Height)
	if err != nil {
		return nil, err
	}
	if known.Hash != vh.Hash || known.StateRoot != vh.StateRoot {
		return nil, fmt.Errorf("evm chain %d: registry proof: %w: block %d with hash %s, verified %s", c.cfg.ChainID, ErrNotVerified, vh.Height, vh.Hash, known.Hash)
	}
	keys := make([]string, len(slots))
	for i, s := range slots {
		keys[i] = s.Hex()
	}
	var res qbft.AccountResult
	if err := c.primary.rc.CallContext(ctx, &res, "eth_getProof", c.cfg.Registry, keys, hexutil.EncodeUint64(vh.Height)); err != nil {
		return nil, fmt.Errorf("evm chain %d: eth_getProof at block %d from %s: %w", c.cfg.ChainID, vh.Height, c.primary.url, err)
	}
	refuse := func(err error) error {
		return fmt.Errorf("evm chain %d: registry proof at block %d from %s refused: %w", c.cfg.ChainID, vh.Height, c.primary.url, err)
	}
	if len(res.StorageProof) != len(slots) {
		return nil, refuse(fmt.Errorf("%w: %d storage results for %d slots", ErrInvalidResponse, len(res.StorageProof), len(slots)))
	}
	for i, s := range slots {
		if res.StorageProof[i].Key != s {
			return nil, refuse(fmt.Errorf("%w: storage result %d is for slot %s, asked %s", ErrInvalidResponse, i, res.StorageProof[i].Key, s))
		}
	}
	storageRoot, err := res.Verify(vh.StateRoot, c.cfg.Registry, c.cfg.RegistryCodeHash)
	if err != nil {
		return nil, refuse(err)
	}
	p := &RegistryProof{Height: vh.Height, StateRoot: vh.StateRoot, Address: c.cfg.Registry, AccountProof: toBytes(res.AccountProof),
		StorageRoot: storageRoot, Slots: make([]SlotProof, len(slots))}
	for i, sr := range res.StorageProof {
		p.Slots[i] = SlotProof{Slot: sr.Key, Value: sr.Value, Proof: toBytes(sr.Proof)}
	}
	return p, nil
}

func toBytes(nodes []hexutil.Bytes) [][]byte {
	out := make([][]byte, len(nodes))
	for i, n := range nodes {
		out[i] = n
	}
	return out
}

// Logs returns the registry's logs in blocks from..to matching topics (eth_getLogs; topics as in
// ethereum.FilterQuery: position i matches any of topics[i], an empty position anything). to must not
// be above the newest verified header (ErrNotVerified). Logs are unauthenticated hints of where to
// look: they are checked only for being the registry's, in range and matching the topics; everything
// relayed is re-proven from storage with RegistryProof.
func (c *Client) Logs(ctx context.Context, from, to uint64, topics [][]common.Hash) ([]types.Log, error) {
	if from > to {
		return nil, fmt.Errorf("evm chain %d: logs from block %d to %d: empty range", c.cfg.ChainID, from, to)
	}
	if verified := c.Trusted().Height; to > verified {
		return nil, fmt.Errorf("evm chain %d: logs up to block %d: %w: verified up to %d", c.cfg.ChainID, to, ErrNotVerified, verified)
	}
	arg := map[string]any{"address": c.cfg.Registry, "fromBlock": hexutil.EncodeUint64(from), "toBlock": hexutil.EncodeUint64(to)}
	if topics != nil {
		arg["topics"] = topics
	}
	var logs []types.Log
	if err := c.primary.rc.CallContext(ctx, &logs, "eth_getLogs", arg); err != nil {
		return nil, fmt.Errorf("evm chain %d: eth_getLogs %d..%d from %s: %w", c.cfg.ChainID, from, to, c.primary.url, err)
	}
	for i, l := range logs {
		if err := matchLog(&l, c.cfg.Registry, from, to, topics); err != nil {
			return nil, fmt.Errorf("evm chain %d: eth_getLogs %d..%d from %s: %w: log %d: %v", c.cfg.ChainID, from, to, c.primary.url, ErrInvalidResponse, i, err)
		}
	}
	return logs, nil
}

// WitnessLogs asks every witness for the registry's logs in blocks from..to matching topics (as Logs
// asks the primary) and returns the union of the answers, each log once, with the number of
// witnesses that answered. A witness is asked only once its newest block reaches to (waited for as a
// lagging witness's header is); one that does not answer in time, fails, or answers with a log the
// filter did not ask for (another contract, another block, another topic) is left out of the union.
// With no witness configured it returns no logs and 0; when witnesses are configured and none
// answered, ErrNoWitness. Like the primary's, the witnesses' logs are unauthenticated hints.
func (c *Client) WitnessLogs(ctx context.Context, from, to uint64, topics [][]common.Hash) ([]types.Log, int, error) {
	if len(c.witnesses) == 0 {
		return nil, 0, nil
	}
	if from > to {
		return nil, 0, fmt.Errorf("evm chain %d: logs from block %d to %d: empty range", c.cfg.ChainID, from, to)
	}
	if verified := c.Trusted().Height; to > verified {
		return nil, 0, fmt.Errorf("evm chain %d: logs up to block %d: %w: verified up to %d", c.cfg.ChainID, to, ErrNotVerified, verified)
	}
	var all [][]types.Log
	var unanswered []error
	for _, w := range c.witnesses {
		logs, err := c.nodeLogs(ctx, w, from, to, topics)
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			unanswered = append(unanswered, err)
			continue
		}
		all = append(all, logs)
	}
	if len(all) == 0 {
		return nil, 0, fmt.Errorf("evm chain %d: logs %d..%d: %w: %w", c.cfg.ChainID, from, to, ErrNoWitness, errors.Join(unanswered...))
	}
	return UnionLogs(all...), len(all), nil
}

// nodeLogs asks witness w for logs once its newest block reaches to.
func (c *Client) nodeLogs(ctx context.Context, w node, from, to uint64, topics [][]common.Hash) ([]types.Log, error) {
	deadline := time.Now().Add(c.witnessLag)
	for {
		var n hexutil.Uint64
		if err := w.rc.CallContext(ctx, &n, "eth_blockNumber"); err != nil {
			return nil, fmt.Errorf("eth_blockNumber from %s: %w", w.url, err)
		}
		if uint64(n) >= to {
			break
		}
		if !time.Now().Add(witnessPoll).Before(deadline) {
			return nil, fmt.Errorf("%s is at block %d, logs asked up to %d", w.url, n, to)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(witnessPoll):
		}
	}
	arg := map[string]any{"address": c.cfg.Registry, "fromBlock": hexutil.EncodeUint64(from), "toBlock": hexutil.EncodeUint64(to)}
	if topics != nil {
		arg["topics"] = topics
	}
	var logs []types.Log
	if err := w.rc.CallContext(ctx, &logs, "eth_getLogs", arg); err != nil {
		return nil, fmt.Errorf("eth_getLogs %d..%d from %s: %w", from, to, w.url, err)
	}
	for i, l := range logs {
		if err := matchLog(&l, c.cfg.Registry, from, to, topics); err != nil {
			return nil, fmt.Errorf("eth_getLogs %d..%d from %s: %w: log %d: %v", from, to, w.url, ErrInvalidResponse, i, err)
		}
	}
	return logs, nil
}

// UnionLogs merges answers to one log filter (chains.UnionLogs).
func UnionLogs(answers ...[]types.Log) []types.Log { return chains.UnionLogs(answers...) }

// headerBatch is how many headers one JSON-RPC batch of a parent-hash walk asks for.
const headerBatch = 128

// RegistryBlooms walks the headers from top (a header this client verified) down to block from by
// their parent hashes, and returns the logsBloom of every block in from..top.Height whose bloom holds
// the registry's address: the blocks that may have a log of the registry (a block not in the map has
// none). Each bloom is as authentic as top: the block hash covers the bloom, and each block's hash
// is its verified child's parent hash. One debug_getRawHeader per block, in batches, no signatures.
//
// Errors: ErrNotVerified (top is not this client's), ErrHashMismatch (the primary served another
// block than the chain's), ErrInvalidResponse, and the nodes' errors.
func (c *Client) RegistryBlooms(ctx context.Context, top *VerifiedHeader, from uint64) (map[uint64]types.Bloom, error) {
	if top == nil {
		return nil, fmt.Errorf("evm chain %d: blooms: %w: no header", c.cfg.ChainID, ErrNotVerified)
	}
	known, err := c.VerifiedHeader(ctx, top.Height)
	if err != nil {
		return nil, err
	}
	if known.Hash != top.Hash {
		return nil, fmt.Errorf("evm chain %d: blooms: %w: block %d with hash %s, verified %s", c.cfg.ChainID, ErrNotVerified, top.Height, top.Hash, known.Hash)
	}
	out := map[uint64]types.Bloom{}
	from = max(from, 1) // the genesis block has no logs
	if from > known.Height {
		return out, nil
	}
	bloom, err := headerBloom(known.RLP)
	if err != nil {
		return nil, fmt.Errorf("evm chain %d: block %d: %w", c.cfg.ChainID, known.Height, err)
	}
	add := func(h uint64, b types.Bloom) {
		if types.BloomLookup(b, c.cfg.Registry) {
			out[h] = b
		}
	}
	add(known.Height, bloom)
	want := known.ParentHash
	for hi := known.Height; hi > from; {
		hi--
		lo := from
		if hi-lo >= headerBatch {
			lo = hi - headerBatch + 1
		}
		headers, err := c.fetchHeaders(ctx, c.primary, lo, hi)
		if err != nil {
			return nil, fmt.Errorf("evm chain %d: blooms: %w", c.cfg.ChainID, err)
		}
		for h := hi; ; h-- {
			f := headers[h-lo]
			if !f.linkedBy(want) {
				return nil, fmt.Errorf("evm chain %d: blooms: %w: %s serves block %d with hash %s, its verified child says %s", c.cfg.ChainID, ErrHashMismatch,
					c.primary.url, h, f.hash, want)
			}
			add(h, f.bloom)
			want = f.parent
			if h == lo {
				break
			}
		}
		hi = lo
	}
	return out, nil
}

// matchLog checks that a log is one the filter asked for.
func matchLog(l *types.Log, addr common.Address, from, to uint64, topics [][]common.Hash) error {
	switch {
	case l.Address != addr:
		return fmt.Errorf("of contract %s", l.Address)
	case l.BlockNumber < from || l.BlockNumber > to:
		return fmt.Errorf("in block %d", l.BlockNumber)
	case l.Removed:
		return errors.New("removed by a reorg")
	}
	for i, alts := range topics {
		if len(alts) == 0 {
			continue
		}
		if i >= len(l.Topics) || !slices.Contains(alts, l.Topics[i]) {
			return fmt.Errorf("topic %d does not match", i)
		}
	}
	return nil
}

// TrustRoot is the trust root an operator pins with a height and a block hash checked out of band
// (the QBFT on-chain hash: seals excluded, round 0): the header at height is fetched from rpc, must
// have that hash, and must be sealed by a quorum of its own validators. The hash is what makes it
// trustworthy; the node only supplies the bytes.
func TrustRoot(ctx context.Context, rpcURL string, height uint64, hash common.Hash) (qbft.TrustedHeader, error) {
	n, err := dialNode(ctx, rpcURL)
	if err != nil {
		return qbft.TrustedHeader{}, err
	}
	defer n.rc.Close()
	c := &Client{}
	f, err := c.fetchHeader(ctx, n, height)
	if err != nil {
		return qbft.TrustedHeader{}, err
	}
	if f.hash != hash {
		return qbft.TrustedHeader{}, fmt.Errorf("%w: block %d from %s has hash %s, the trust root is %s", ErrHashMismatch, height, rpcURL, f.hash, hash)
	}
	if _, err := f.header.VerifySeals(); err != nil {
		return qbft.TrustedHeader{}, fmt.Errorf("trust root block %d: %w", height, err)
	}
	return qbft.NewTrustedHeader(f.header)
}
