package chains

import (
	"context"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// Each role is a few methods; a caller depends on the roles it uses. Every role has ChainID, so a
// caller holding one can name the chain in its errors.

// Prover reads chain state with proofs.
type Prover interface {
	ChainID() string
	// QueryProven reads key from the store storeKey at height (≥ 1) with a proof of its value or of
	// its absence. The proof is not checked: the caller checks it against a verified app hash.
	QueryProven(ctx context.Context, storeKey string, key []byte, height int64) (*Proof, error)
}

// Submitter signs and submits messages with the chain's relayer key.
//
// Messages are Cosmos SDK messages (sdk.Msg): IBC's messages are defined as such, and they are what
// both the Cosmos chains and the IBC-on-EVM chains here speak.
type Submitter interface {
	ChainID() string
	// Address is the address of the signing key, as the chain's accounts know it.
	Address(ctx context.Context) (string, error)
	// Send submits one tx of msgs and waits for it to be committed. A tx too large for the chain is
	// ErrTxTooLarge (nothing was sent); a tx the chain refused is a *TxError; a tx not committed in
	// time is ErrTxTimeout.
	Send(ctx context.Context, msgs ...sdk.Msg) (*TxResult, error)
}

// ClientQuerier reads the chain's IBC light clients (unproven: for decisions a proof settles later,
// or for reports) and what a new client of the chain needs.
type ClientQuerier interface {
	ChainID() string
	// ClientState returns the client state of clientID as a protobuf Any (type URL and bytes).
	ClientState(ctx context.Context, clientID string) (typeURL string, value []byte, err error)
	// ConsensusState returns the consensus state of clientID at h as a protobuf Any.
	ConsensusState(ctx context.Context, clientID string, h clienttypes.Height) (typeURL string, value []byte, err error)
	// ConsensusHeights lists the heights at which clientID holds a consensus state (any order).
	ConsensusHeights(ctx context.Context, clientID string) ([]clienttypes.Height, error)
	// UnbondingPeriod is how long the chain's validators stay bonded after they leave: a client of
	// the chain must trust a header for less.
	UnbondingPeriod(ctx context.Context) (time.Duration, error)
}

// HandshakeQuerier reads the chain's IBC connections and channels (unproven: for reports; the
// handshake reads them with proofs).
type HandshakeQuerier interface {
	ChainID() string
	// Connection returns the connection id; a missing one is ErrNotFound.
	Connection(ctx context.Context, id string) (*connectiontypes.ConnectionEnd, error)
	// Channel returns the channel (port, id); a missing one is ErrNotFound.
	Channel(ctx context.Context, port, id string) (*channeltypes.Channel, error)
}

// PacketQuerier answers the relayer's questions about packets on a channel end (unproven hints: what
// a node says is done is proven before it is believed).
type PacketQuerier interface {
	ChainID() string
	// PacketCommitments lists the sequences of the packets the channel end sent whose commitments are
	// still stored (not yet acknowledged or timed out), every page of them.
	PacketCommitments(ctx context.Context, port, channel string) ([]uint64, error)
	// UnreceivedPackets returns those of seqs (sent to the channel end) it has not received.
	UnreceivedPackets(ctx context.Context, port, channel string, seqs []uint64) ([]uint64, error)
	// UnreceivedAcks returns those of seqs (sent from the channel end) whose acknowledgements it has
	// not processed.
	UnreceivedAcks(ctx context.Context, port, channel string, seqs []uint64) ([]uint64, error)
}

// HeaderSource is a chain's light client: every header the relayer uses comes from it, verified.
// Headers are CometBFT light blocks: the clients the relayer keeps on the counterparties are
// 07-tendermint clients.
type HeaderSource interface {
	// VerifyLatest verifies and returns the newest header the primary serves.
	VerifyLatest(ctx context.Context) (*cmttypes.LightBlock, error)
	// VerifyHeight verifies and returns the header at h.
	VerifyHeight(ctx context.Context, h int64) (*cmttypes.LightBlock, error)
	// ValidatorsAt returns the validator set at h whose hash is hash (taken from trusted state).
	ValidatorsAt(ctx context.Context, h int64, hash []byte) (*cmttypes.ValidatorSet, error)
}

// EventSource is a chain whose block events can be read (pull mode): an optional capability.
type EventSource interface {
	// BlockEvents returns the events of block h's successful txs and of the block itself, only those
	// of the given types when any are given.
	BlockEvents(ctx context.Context, h int64, types ...string) ([]Event, error)
}

// TxSearcher is a chain whose tx index can be searched (for clearing): an optional capability.
type TxSearcher interface {
	// SearchTxEvents returns, for each committed tx matching query (oldest first), its height and events.
	SearchTxEvents(ctx context.Context, query string, perPage int) ([]TxEvents, error)
}

// Balancer reports an account's balances (unproven: for gauges and reports).
type Balancer interface {
	ChainID() string
	// Balances returns every balance of addr, as the chain's node reports them.
	Balances(ctx context.Context, addr string) (sdk.Coins, error)
}

// StatusReader reports the status of the chain's node (unproven: for lag gauges and reports).
type StatusReader interface {
	ChainID() string
	// Status is the node's status: its newest block's height and time among the rest.
	Status(ctx context.Context) (*coretypes.ResultStatus, error)
}

// StoreQuerier reads a chain's stores without checking anything (an ABCI store query: a key, or a
// subspace of keys): hints for listing what a proof settles later.
type StoreQuerier interface {
	ChainID() string
	// ABCIQuery asks the node's application at path ("/store/<store>/key" or ".../subspace") for
	// data at height (0: the latest), with the node's proof when prove is set.
	ABCIQuery(ctx context.Context, path string, data []byte, height int64, prove bool) (*abci.ResponseQuery, error)
}

// Proof is a store value (or its absence) with the proof the chain returned for it. Nothing here is
// trusted: the caller checks Ops against an app hash its light client verified before it uses Value.
type Proof struct {
	StoreKey string
	Key      []byte
	Value    []byte // nil when absent
	// Height is the height the store was read at; the proof verifies against the app hash in the
	// header at Height+1, which is therefore the IBC proof height.
	Height int64
	// Ops are the ICS-23 proof ops, what a light client checks against an app hash.
	Ops *cmtcrypto.ProofOps
	// Bytes is the proof as a Msg's proof field takes it (an ibc-go MerkleProof, marshalled).
	Bytes []byte
}

// ProofHeight is the IBC proof height (revision height) of the value: Height + 1.
func (p *Proof) ProofHeight() int64 { return p.Height + 1 }

// Event is an event a chain emitted: its type and its attributes, in order.
type Event struct {
	Type       string
	Attributes []Attribute
}

// Attribute is one key and value of an Event.
type Attribute struct {
	Key, Value string
}

// TxResult is a committed transaction.
type TxResult struct {
	Hash    string
	Height  int64
	GasUsed int64
	Events  []Event
	Data    []byte
	// Timing is where Send spent its time (zero for results read back alone).
	Timing TxTiming
	// GasWanted and Fee are the gas limit the tx asked for and the fee it paid (set by Send; zero for
	// results read back alone).
	GasWanted uint64
	Fee       Coin
}

// Coin is an amount of a denomination (a fee).
type Coin struct {
	Denom  string
	Amount uint64
}

// TxTiming breaks a Send down: waiting for the key's signer (other txs of the key ahead), gas
// simulation, signing, broadcast, and waiting for the commit.
type TxTiming struct {
	Queue, Simulate, Sign, Broadcast, Commit time.Duration
	// SimulatedGas is what the simulation used (the tx asked for it times the adjustment).
	SimulatedGas uint64
}

// TxEvents are a committed tx's height and events.
type TxEvents struct {
	Height int64
	Events []Event
}
