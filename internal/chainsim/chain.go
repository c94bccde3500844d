// Package chainsim serves synthetic CometBFT chains over loopback HTTP for the relayer's scale
// simulation (issue 22, item 4: "recorded or synthetic headers are fine for this part only"): each
// chain has its own validator set (ed25519 keys), makes a block every interval with a header and a
// commit really signed by its validators, and answers the CometBFT RPC routes the relayer's light
// clients and scanners call (status, commit, validators, blockchain, block_results, and abci_query for
// the tx service's GetTxsEvent), through CometBFT's own JSON-RPC server code.
//
// It is a stand-in for many nodes where one machine cannot run real ones: it has no application, no
// state, no mempool and no consensus. It is for the simulation (internal/chainsim/relaysim and
// cmd/chainsim) only: end-to-end tests run real chains (internal/testnet).
package chainsim

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"
)

// ChainOptions describe one synthetic chain.
type ChainOptions struct {
	ChainID string
	// Validators is the size of the validator set (default 4), each with power 10.
	Validators int
	// Interval is the block interval (default 1 s).
	Interval time.Duration
	// Genesis is the time of block 1; block h's header time is Genesis + (h-1)·Interval, and the block
	// is made (served) at that time. Default: now.
	Genesis time.Time
	// TxEvery, when > 0, puts one tx in every TxEvery-th block, with a send_packet event on a channel
	// no path of the relayer serves (ForeignPort/ForeignChannel): the scanner must fetch and parse the
	// block's events, and publishes nothing. 0: every block is empty.
	TxEvery int
	// ForgeFrom, when > 0, signs every commit from that height on with keys that are not the
	// validators' (the header still names the real validator set): an impostor's headers, which a
	// light client must refuse.
	ForgeFrom int64
	// Keep is how many recent blocks are served (default 1,000); older heights answer as a pruned node.
	Keep int
}

// The channel of the optional packet events: no path of the simulation serves it.
const (
	ForeignPort    = "transfer"
	ForeignChannel = "channel-9999"
)

// Chain is one synthetic chain: its validators, and the blocks made so far (the last Keep).
type Chain struct {
	o      ChainOptions
	vals   *types.ValidatorSet
	keys   map[string]ed25519.PrivKey // by validator address
	forged []ed25519.PrivKey          // the impostor's keys (ForgeFrom)

	mu     sync.RWMutex
	blocks map[int64]*block
	head   int64
	lowest int64

	// late is the largest delay, in ns, between a block's time and the moment it was made (the
	// producer running behind on a loaded machine).
	late atomic.Int64
	// Requests counts the RPC calls served, by route.
	reqs reqCounts
	// failed is why the producer stopped, if it did.
	failed atomic.Pointer[error]
}

// block is a made block: its light block, its meta and (TxEvery) its tx results.
type block struct {
	lb   *types.LightBlock
	meta *types.BlockMeta
	txs  []*abci.ExecTxResult
}

// NewChain makes a chain's validators (deterministic keys from the chain id) and its first block.
func NewChain(o ChainOptions) (*Chain, error) {
	if o.ChainID == "" {
		return nil, errors.New("chainsim: chain id is empty")
	}
	if o.Validators <= 0 {
		o.Validators = 4
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Genesis.IsZero() {
		o.Genesis = time.Now()
	}
	if o.Keep <= 0 {
		o.Keep = 1000
	}
	o.Genesis = o.Genesis.UTC().Round(0)
	c := &Chain{o: o, keys: map[string]ed25519.PrivKey{}, blocks: map[int64]*block{}}
	var vals []*types.Validator
	for i := range o.Validators {
		k := ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("chainsim %s validator %d", o.ChainID, i)))
		c.keys[string(k.PubKey().Address())] = k
		vals = append(vals, types.NewValidator(k.PubKey(), 10))
		c.forged = append(c.forged, ed25519.GenPrivKeyFromSecret([]byte(fmt.Sprintf("chainsim %s impostor %d", o.ChainID, i))))
	}
	c.vals = types.NewValidatorSet(vals)
	if err := c.vals.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("chainsim %s: validator set: %w", o.ChainID, err)
	}
	if err := c.make(1); err != nil {
		return nil, err
	}
	return c, nil
}

// ID is the chain id.
func (c *Chain) ID() string { return c.o.ChainID }

// Interval is the block interval.
func (c *Chain) Interval() time.Duration { return c.o.Interval }

// Genesis is block 1's time.
func (c *Chain) Genesis() time.Time { return c.o.Genesis }

// TimeOf is the header time of block h.
func (c *Chain) TimeOf(h int64) time.Time { return c.o.Genesis.Add(time.Duration(h-1) * c.o.Interval) }

// Head is the newest block made, and its header hash.
func (c *Chain) Head() (int64, []byte) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.head, c.blocks[c.head].lb.Hash()
}

// Late is the largest delay seen between a block's header time and its making.
func (c *Chain) Late() time.Duration { return time.Duration(c.late.Load()) }

// Err is why the chain stopped making blocks (nil while it makes them).
func (c *Chain) Err() error {
	if p := c.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// Requests are the RPC calls served so far, by route ("total" for all).
func (c *Chain) Requests() map[string]int64 { return c.reqs.snapshot() }

// produce makes the blocks whose time has come until stop closes.
func (c *Chain) produce(stop <-chan struct{}) {
	for {
		c.mu.RLock()
		next := c.head + 1
		c.mu.RUnlock()
		wait := time.Until(c.TimeOf(next))
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-stop:
				t.Stop()
				return
			case <-t.C:
			}
		}
		select {
		case <-stop:
			return
		default:
		}
		if late := time.Since(c.TimeOf(next)); late > time.Duration(c.late.Load()) {
			c.late.Store(int64(late))
		}
		if err := c.make(next); err != nil {
			// Only a bug in this package can fail here: the chain stops growing (a stalled chain to
			// the relayer), and Stats says why.
			c.failed.Store(&err)
			return
		}
	}
}

var (
	consensusHash = sha256.Sum256([]byte("chainsim consensus params"))
	emptyHash     = sha256.Sum256(nil)
)

// make signs and stores block h (h-1 must be the head, or h = 1).
func (c *Chain) make(h int64) error {
	c.mu.RLock()
	prev := c.blocks[h-1]
	c.mu.RUnlock()
	t := c.TimeOf(h)
	var txs types.Txs
	var results []*abci.ExecTxResult
	if c.o.TxEvery > 0 && h%int64(c.o.TxEvery) == 0 {
		tx := types.Tx(fmt.Sprintf("chainsim %s tx at %d", c.o.ChainID, h))
		txs = types.Txs{tx}
		results = []*abci.ExecTxResult{{Code: 0, Events: []abci.Event{foreignSendPacket(uint64(h))}}}
	}
	app := sha256.Sum256(binary.BigEndian.AppendUint64([]byte(c.o.ChainID), uint64(h)))
	hdr := types.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol, App: 1},
		ChainID:            c.o.ChainID,
		Height:             h,
		Time:               t,
		DataHash:           txs.Hash(),
		ValidatorsHash:     c.vals.Hash(),
		NextValidatorsHash: c.vals.Hash(),
		ConsensusHash:      consensusHash[:],
		AppHash:            app[:],
		LastResultsHash:    emptyHash[:],
		EvidenceHash:       types.EvidenceList(nil).Hash(),
		ProposerAddress:    c.vals.Validators[int(h)%c.vals.Size()].Address,
	}
	if prev != nil {
		hdr.LastBlockID = prev.lb.Commit.BlockID
		hdr.LastCommitHash = prev.lb.Commit.Hash()
	}
	partsHash := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("parts"), uint64(h)))
	bid := types.BlockID{Hash: hdr.Hash(), PartSetHeader: types.PartSetHeader{Total: 1, Hash: partsHash[:]}}
	commit := &types.Commit{Height: h, Round: 0, BlockID: bid, Signatures: make([]types.CommitSig, c.vals.Size())}
	for i, v := range c.vals.Validators {
		commit.Signatures[i] = types.CommitSig{BlockIDFlag: types.BlockIDFlagCommit, ValidatorAddress: v.Address, Timestamp: t}
	}
	for i, v := range c.vals.Validators {
		key := c.keys[string(v.Address)]
		if c.o.ForgeFrom > 0 && h >= c.o.ForgeFrom {
			key = c.forged[i]
		}
		sig, err := key.Sign(commit.VoteSignBytes(c.o.ChainID, int32(i)))
		if err != nil {
			return fmt.Errorf("chainsim %s: sign %d: %w", c.o.ChainID, h, err)
		}
		commit.Signatures[i].Signature = sig
	}
	lb := &types.LightBlock{SignedHeader: &types.SignedHeader{Header: &hdr, Commit: commit}, ValidatorSet: c.vals}
	if c.o.ForgeFrom == 0 || h < c.o.ForgeFrom {
		if err := lb.ValidateBasic(c.o.ChainID); err != nil {
			return fmt.Errorf("chainsim %s: block %d: %w", c.o.ChainID, h, err)
		}
	}
	size := 1024 + len(txs)*64
	meta := &types.BlockMeta{BlockID: bid, BlockSize: size, Header: hdr, NumTxs: len(txs)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.blocks[h] = &block{lb: lb, meta: meta, txs: results}
	c.head = h
	if c.lowest == 0 {
		c.lowest = h
	}
	for c.head-c.lowest >= int64(c.o.Keep) {
		delete(c.blocks, c.lowest)
		c.lowest++
	}
	return nil
}

// at returns block h (0: the head), or the error a CometBFT node gives for a height it does not have.
func (c *Chain) at(h int64) (*block, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if h == 0 {
		h = c.head
	}
	if h > c.head {
		return nil, fmt.Errorf("height %d must be less than or equal to the current blockchain height %d", h, c.head)
	}
	if h < c.lowest {
		return nil, fmt.Errorf("height %d is not available, lowest height is %d", h, c.lowest)
	}
	return c.blocks[h], nil
}

// foreignSendPacket is a send_packet event on ForeignChannel (ibc-go's attribute keys).
func foreignSendPacket(seq uint64) abci.Event {
	attr := func(k, v string) abci.EventAttribute { return abci.EventAttribute{Key: k, Value: v, Index: true} }
	return abci.Event{Type: "send_packet", Attributes: []abci.EventAttribute{
		attr("packet_data_hex", "7b7d"),
		attr("packet_timeout_height", "0-0"),
		attr("packet_timeout_timestamp", "18446744073709551615"),
		attr("packet_sequence", fmt.Sprint(seq)),
		attr("packet_src_port", ForeignPort),
		attr("packet_src_channel", ForeignChannel),
		attr("packet_dst_port", ForeignPort),
		attr("packet_dst_channel", "channel-0"),
		attr("packet_channel_ordering", "ORDER_UNORDERED"),
		attr("packet_connection", "connection-9999"),
	}}
}

// reqCounts counts RPC calls by route.
type reqCounts struct {
	mu sync.Mutex
	n  map[string]int64
}

func (r *reqCounts) add(route string) {
	r.mu.Lock()
	if r.n == nil {
		r.n = map[string]int64{}
	}
	r.n[route]++
	r.n["total"]++
	r.mu.Unlock()
}

func (r *reqCounts) snapshot() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int64, len(r.n))
	for k, v := range r.n {
		out[k] = v
	}
	return out
}
