// Package cosmos implements what the relayer needs of a Cosmos SDK chain over CometBFT RPC: state
// queries (gRPC services through abci_query), blocks and events, and transactions built and signed
// from a keyring, with one owner of each key's account sequence.
package cosmos

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cosmos/cosmos-sdk/client"
	clienttx "github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"

	"github.com/cityrelay/cityrelay/chains"
)

// Defaults of Config.
const (
	DefaultGasAdjustment = 1.05
	// gasMargin is the least gas added to a simulation's estimate.
	gasMargin     = 50_000
	DefaultMaxGas = 50_000_000
	// DefaultCommitTimeout bounds the wait for a broadcast tx to be committed: many block intervals.
	DefaultCommitTimeout = 60 * time.Second
)

// Config describes one chain and the key that signs for it.
type Config struct {
	ChainID  string
	RPCAddrs []string
	// AccountPrefix is the chain's bech32 account prefix (e.g. "city").
	AccountPrefix string
	// GRPCAddr (host:port) is the node's gRPC endpoint. When set, state queries, proofs, tx results
	// and block events go over gRPC (protobuf); otherwise through abci_query on the RPC (JSON).
	GRPCAddr string
	// GasPrice is the price per gas unit, e.g. 0.0025ucity: the price where the chain has no fee
	// market (see GasPriceQuery).
	GasPrice sdk.DecCoin
	// GasPriceQuery says where each tx's price comes from: GasPriceAuto ("" too) asks the chain's fee
	// market (skip-mev feemarket, Osmosis, Ethermint) and falls back to GasPrice; a source name
	// ("feemarket", "osmosis", "ethermint") asks only that one; GasPriceOff uses GasPrice.
	GasPriceQuery string
	// GasPriceMultiplier multiplies a queried price (DefaultGasPriceMultiplier when 0).
	GasPriceMultiplier float64
	// MaxGasPrice caps the price; a chain asking more is refused (ErrGasPriceAboveCap). Zero: a cap of
	// DefaultMaxGasPriceFactor times GasPrice.
	MaxGasPrice sdk.DecCoin
	// FeeGranter, when set, is the bech32 account whose x/feegrant allowance pays the key's fees
	// (the tx's Fee.Granter).
	FeeGranter string
	// Memo is written in every tx (Hermes's memo_prefix).
	Memo string
	// Log receives the gas price changes (zerolog.Nop when unset).
	Log           zerolog.Logger
	GasAdjustment float64
	MaxGas        uint64
	CommitTimeout time.Duration
	Keyring       keyring.Keyring
	KeyName       string
	Codec         codec.Codec
	TxConfig      client.TxConfig
}

// Client talks to one chain.
type Client struct {
	cfg    Config
	rpc    *rpcPool
	grpc   *grpc.ClientConn // nil without Config.GRPCAddr
	signer *signer
	fees   *pricing
	// granter is Config.FeeGranter decoded (nil: the key pays).
	granter sdk.AccAddress
	// txIndexed is set while the node's tx index serves block events (BlockEvents' default path,
	// which reads txs' events only), cleared when it falls back to block_results.
	txIndexed atomic.Bool
}

// New returns a client; it contacts the chain only when used.
func New(cfg Config) (*Client, error) {
	if cfg.ChainID == "" {
		return nil, errors.New("cosmos client: chain id is empty")
	}
	if cfg.Codec == nil || cfg.TxConfig == nil {
		return nil, fmt.Errorf("cosmos client %s: codec and tx config are required", cfg.ChainID)
	}
	if cfg.GasAdjustment == 0 {
		cfg.GasAdjustment = DefaultGasAdjustment
	}
	if cfg.MaxGas == 0 {
		cfg.MaxGas = DefaultMaxGas
	}
	if cfg.CommitTimeout == 0 {
		cfg.CommitTimeout = DefaultCommitTimeout
	}
	pool, err := newRPCPool(cfg.ChainID, cfg.RPCAddrs)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, rpc: pool}
	if c.fees, err = newPricing(cfg); err != nil {
		return nil, err
	}
	if cfg.FeeGranter != "" {
		prefix := cfg.AccountPrefix
		if prefix == "" {
			prefix = sdk.GetConfig().GetBech32AccountAddrPrefix()
		}
		if c.granter, err = sdk.GetFromBech32(cfg.FeeGranter, prefix); err != nil {
			return nil, fmt.Errorf("cosmos client %s: fee granter %q: %w", cfg.ChainID, cfg.FeeGranter, err)
		}
	}
	if cfg.GRPCAddr != "" {
		if c.grpc, err = dialGRPC(cfg.GRPCAddr, cfg.Codec); err != nil {
			return nil, fmt.Errorf("cosmos client %s: grpc %s: %w", cfg.ChainID, cfg.GRPCAddr, err)
		}
	}
	c.signer = &signer{c: c}
	return c, nil
}

// ChainID is the chain's id.
func (c *Client) ChainID() string { return c.cfg.ChainID }

// Codec is the client's protobuf codec.
func (c *Client) Codec() codec.Codec { return c.cfg.Codec }

// RPC runs fn against one of the chain's RPC endpoints, with the client's retry policy.
func (c *Client) RPC(ctx context.Context, what string, fn func(*rpchttp.HTTP) error) error {
	return c.rpc.do(ctx, what, fn)
}

// Status returns the node's status.
func (c *Client) Status(ctx context.Context) (*coretypes.ResultStatus, error) {
	var st *coretypes.ResultStatus
	err := c.rpc.do(ctx, "status", func(cl *rpchttp.HTTP) (err error) {
		st, err = cl.Status(ctx)
		return err
	})
	return st, err
}

// QueryGRPC calls a gRPC query method (e.g. "/cosmos.auth.v1beta1.Query/Account") through abci_query
// at height (0 = latest) and decodes the response into resp. A NotFound answer is ErrNotFound.
func (c *Client) QueryGRPC(ctx context.Context, method string, req, resp proto.Message, height int64) error {
	if c.grpc != nil {
		return c.invokeGRPC(ctx, method, req, resp, height)
	}
	bz, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s query %s: encode: %w", c.cfg.ChainID, method, err)
	}
	res, err := c.ABCIQuery(ctx, method, bz, height, false)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(res.Value, resp); err != nil {
		return fmt.Errorf("%s query %s: decode: %w", c.cfg.ChainID, method, err)
	}
	return nil
}

// ABCIQuery runs an abci_query. With prove it returns the ICS-23 proof ops of a store query
// (path "store/<store>/key"). A NotFound answer is ErrNotFound.
func (c *Client) ABCIQuery(ctx context.Context, path string, data []byte, height int64, prove bool) (*abci.ResponseQuery, error) {
	var res *coretypes.ResultABCIQuery
	err := c.rpc.do(ctx, "abci_query "+path, func(cl *rpchttp.HTTP) (err error) {
		res, err = cl.ABCIQueryWithOptions(ctx, path, data, rpcQueryOptions(height, prove))
		return err
	})
	if err != nil {
		return nil, err
	}
	r := res.Response
	if r.Code != 0 {
		// baseapp maps a gRPC NotFound status to sdk's ErrKeyNotFound.
		if r.Codespace == sdkerrors.ErrKeyNotFound.Codespace() && r.Code == sdkerrors.ErrKeyNotFound.ABCICode() {
			return nil, fmt.Errorf("%s query %s: %w: %s", c.cfg.ChainID, path, ErrNotFound, r.Log)
		}
		return nil, &QueryError{ChainID: c.cfg.ChainID, Path: path, Codespace: r.Codespace, Code: r.Code, Log: r.Log}
	}
	return &r, nil
}

// Account returns the account number and sequence of addr.
func (c *Client) Account(ctx context.Context, addr string) (number, sequence uint64, err error) {
	var resp authtypes.QueryAccountInfoResponse
	if err := c.QueryGRPC(ctx, "/cosmos.auth.v1beta1.Query/AccountInfo", &authtypes.QueryAccountInfoRequest{Address: addr}, &resp, 0); err != nil {
		return 0, 0, fmt.Errorf("account %s: %w", addr, err)
	}
	return resp.Info.AccountNumber, resp.Info.Sequence, nil
}

// TxResult is a committed transaction (chains.TxResult).
type TxResult = chains.TxResult

// TxTiming breaks a Send down (chains.TxTiming).
type TxTiming = chains.TxTiming

// Send builds, signs and broadcasts one tx of msgs with the configured key and waits for it to be
// committed. Gas is simulated and multiplied by the gas adjustment, capped by MaxGas; a tx that does
// not fit MaxGas or the node's tx size limit is ErrTxTooLarge. A tx refused by the chain is a *TxError.
func (c *Client) Send(ctx context.Context, msgs ...sdk.Msg) (*TxResult, error) {
	return c.signer.send(ctx, msgs)
}

// Broadcast signs and broadcasts one tx of msgs without waiting for its commit and returns its hash
// (CheckTx accepted it). Several broadcasts in a row fill a block; WaitTx collects the results.
func (c *Client) Broadcast(ctx context.Context, msgs ...sdk.Msg) (string, error) {
	return c.signer.broadcast(ctx, msgs)
}

// signer owns the account sequence of the client's key: one tx is signed and broadcast at a time,
// the sequence advances only when CheckTx accepted a tx, and is re-read from the chain on a mismatch.
type signer struct {
	c        *Client
	mu       sync.Mutex
	loaded   bool
	keys     keyring.Keyring // the keyring, with the signing key held in memory once loaded
	address  string
	number   uint64
	sequence uint64
}

func (s *signer) send(ctx context.Context, msgs []sdk.Msg) (*TxResult, error) {
	var t TxTiming
	var paid txCost
	hash, err := s.broadcastTimed(ctx, msgs, &t, &paid)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	res, err := s.c.WaitTx(ctx, hash)
	if err != nil {
		return nil, err
	}
	t.Commit = time.Since(start)
	res.Timing, res.GasWanted = t, paid.gas
	res.Fee = chains.Coin{Denom: paid.fee.Denom}
	if paid.fee.Amount.IsUint64() {
		res.Fee.Amount = paid.fee.Amount.Uint64()
	}
	return res, nil
}

func (s *signer) broadcast(ctx context.Context, msgs []sdk.Msg) (string, error) {
	return s.broadcastTimed(ctx, msgs, &TxTiming{}, &txCost{})
}

// txCost is the gas limit a signed tx asked for, the fee it pays and the gas price of that fee.
type txCost struct {
	gas   uint64
	fee   sdk.Coin
	price sdk.DecCoin
}

func (s *signer) broadcastTimed(ctx context.Context, msgs []sdk.Msg, t *TxTiming, paid *txCost) (string, error) {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Queue = time.Since(start)
	raised := false
	for attempt := 0; ; attempt++ {
		if err := s.load(ctx); err != nil {
			return "", err
		}
		hash, err := s.signAndBroadcast(ctx, msgs, t, paid)
		var txErr *TxError
		if errors.As(err, &txErr) && isSequenceMismatch(txErr) && attempt < sequenceAttempts {
			if err := s.resequence(ctx, txErr, attempt); err != nil {
				return "", err
			}
			continue
		}
		if errors.As(err, &txErr) && txErr.Checked && isInsufficientFee(txErr) && !raised {
			// A node raised its minimum gas price: follow it once, within the cap.
			raised = true
			retry, rerr := s.c.fees.raise(txErr, paid.gas, paid.price)
			if rerr != nil {
				return "", rerr
			}
			if retry {
				continue
			}
		}
		if err != nil {
			return "", err
		}
		s.sequence++
		return hash, nil
	}
}

// sequenceAttempts bounds the retries of a tx refused for its account sequence.
const sequenceAttempts = 5

// resequence picks the sequence to retry with after a mismatch. The node says which it expected:
//   - more than ours: another signer used the key (or ours was lost): take it;
//   - less than ours, on a first retry: the node's check state is behind our own txs still in its
//     mempool (it re-checks them after every block): wait a moment and retry the same sequence;
//   - less than ours again: our txs left the mempool: take it.
//
// Re-reading the account instead would give the committed sequence, behind every tx in the mempool.
func (s *signer) resequence(ctx context.Context, txErr *TxError, attempt int) error {
	want, ok := expectedSequence(txErr.Log)
	switch {
	case !ok:
		s.loaded = false // no hint: re-read the account
	case want < s.sequence && attempt < 2:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	default:
		s.sequence = want
	}
	return nil
}

var expectedSeq = regexp.MustCompile(`expected (\d+), got \d+`)

// expectedSequence reads the sequence the chain expected from a mismatch's log.
func expectedSequence(log string) (uint64, bool) {
	m := expectedSeq.FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	return n, err == nil
}

func (s *signer) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	rec, err := s.c.cfg.Keyring.Key(s.c.cfg.KeyName)
	if err != nil {
		return fmt.Errorf("%s: key %q: %w", s.c.cfg.ChainID, s.c.cfg.KeyName, err)
	}
	s.keys = inMemory(s.c.cfg.Keyring, s.c.cfg.KeyName, rec)
	addr, err := rec.GetAddress()
	if err != nil {
		return fmt.Errorf("%s: key %q: %w", s.c.cfg.ChainID, s.c.cfg.KeyName, err)
	}
	prefix := s.c.cfg.AccountPrefix
	if prefix == "" {
		prefix = sdk.GetConfig().GetBech32AccountAddrPrefix()
	}
	if s.address, err = sdk.Bech32ifyAddressBytes(prefix, addr); err != nil {
		return fmt.Errorf("%s: key %q: %w", s.c.cfg.ChainID, s.c.cfg.KeyName, err)
	}
	if s.number, s.sequence, err = s.c.Account(ctx, s.address); err != nil {
		return err
	}
	s.loaded = true
	return nil
}

func (s *signer) factory() clienttx.Factory {
	return clienttx.Factory{}.
		WithChainID(s.c.cfg.ChainID).
		WithKeybase(s.keys).
		WithTxConfig(s.c.cfg.TxConfig).
		WithAccountNumber(s.number).
		WithSequence(s.sequence).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT).
		WithFromName(s.c.cfg.KeyName).
		WithMemo(s.c.cfg.Memo).
		WithFeeGranter(s.c.granter)
}

func (s *signer) signAndBroadcast(ctx context.Context, msgs []sdk.Msg, t *TxTiming, paid *txCost) (string, error) {
	chainID := s.c.cfg.ChainID
	start := time.Now()
	gas, simulated, err := s.simulate(ctx, msgs)
	if err != nil {
		if errors.Is(err, ErrTxTooLarge) {
			return "", err // the gas cap, not a failed simulation
		}
		return "", &chains.SimulationError{Err: err}
	}
	t.Simulate, t.SimulatedGas = time.Since(start), simulated
	price, err := s.c.fees.price(ctx, s.c)
	if err != nil {
		return "", err
	}
	start = time.Now()
	bz, fee, err := s.signTx(ctx, msgs, gas, price)
	if err != nil {
		return "", err
	}
	paid.gas, paid.fee, paid.price = gas, fee, price
	t.Sign = time.Since(start)
	start = time.Now()
	defer func() { t.Broadcast = time.Since(start) }()
	if s.c.grpc != nil {
		return s.broadcastGRPC(ctx, bz, len(msgs))
	}
	var res *coretypes.ResultBroadcastTx
	err = s.c.rpc.do(ctx, "broadcast_tx_sync", func(cl *rpchttp.HTTP) (err error) {
		res, err = cl.BroadcastTxSync(ctx, bz)
		return err
	})
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "tx too large") {
			return "", fmt.Errorf("%s: %d messages, %d bytes: %w", chainID, len(msgs), len(bz), ErrTxTooLarge)
		}
		return "", err
	}
	hash := strings.ToUpper(hex.EncodeToString(res.Hash))
	if res.Code != 0 {
		return "", txError(chainID, hash, res.Codespace, res.Code, res.Log, true)
	}
	return hash, nil
}

// broadcastGRPC hands a signed tx to the node's tx service (protobuf: a relay tx is a megabyte,
// which the JSON-RPC would carry as base64 inside JSON, encoded and parsed at both ends).
func (s *signer) broadcastGRPC(ctx context.Context, bz []byte, msgs int) (string, error) {
	chainID := s.c.cfg.ChainID
	var resp txtypes.BroadcastTxResponse
	err := s.c.invokeGRPC(ctx, "/cosmos.tx.v1beta1.Service/BroadcastTx",
		&txtypes.BroadcastTxRequest{TxBytes: bz, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC}, &resp, 0)
	if err != nil {
		return "", err
	}
	r := resp.TxResponse
	if r == nil {
		return "", fmt.Errorf("%s: broadcast: empty response", chainID)
	}
	hash := strings.ToUpper(r.TxHash)
	if r.Code != 0 {
		// The SDK reports the mempool's own refusals as codes: too large, full, already there.
		if r.Codespace == sdkerrors.ErrTxTooLarge.Codespace() && r.Code == sdkerrors.ErrTxTooLarge.ABCICode() {
			return "", fmt.Errorf("%s: %d messages, %d bytes: %w", chainID, msgs, len(bz), ErrTxTooLarge)
		}
		return "", txError(chainID, hash, r.Codespace, r.Code, r.RawLog, true)
	}
	return hash, nil
}

// signTx builds and signs a tx of msgs with the given gas limit and the fee it costs at price.
func (s *signer) signTx(ctx context.Context, msgs []sdk.Msg, gas uint64, price sdk.DecCoin) ([]byte, sdk.Coin, error) {
	chainID := s.c.cfg.ChainID
	f := s.factory().WithGas(gas)
	fee := sdk.NewCoin(price.Denom, price.Amount.MulInt64(int64(gas)).Ceil().TruncateInt())
	txb, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, fee, fmt.Errorf("%s: build tx: %w", chainID, err)
	}
	txb.SetFeeAmount(sdk.NewCoins(fee))
	if err := clienttx.Sign(ctx, f, s.c.cfg.KeyName, txb, true); err != nil {
		return nil, fee, fmt.Errorf("%s: sign tx: %w", chainID, err)
	}
	bz, err := s.c.cfg.TxConfig.TxEncoder()(txb.GetTx())
	if err != nil {
		return nil, fee, fmt.Errorf("%s: encode tx: %w", chainID, err)
	}
	return bz, fee, nil
}

// simulate returns the gas msgs need, times the adjustment, capped by MaxGas (ErrTxTooLarge if the
// simulation itself is within 2% of MaxGas), and the gas the simulation used.
func (s *signer) simulate(ctx context.Context, msgs []sdk.Msg) (gas, used uint64, err error) {
	txBytes, err := s.factory().BuildSimTx(msgs...)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: build simulation tx: %w", s.c.cfg.ChainID, err)
	}
	// The gRPC Simulate service answers in protobuf (cheap to decode: a JSON answer listing every
	// message's events costs milliseconds per batch); it folds a refusal into one generic code, so
	// on failure "/app/simulate" is asked again for the refusal's codespace and code.
	var resp txtypes.SimulateResponse
	err = s.c.QueryGRPC(ctx, "/cosmos.tx.v1beta1.Service/Simulate", &txtypes.SimulateRequest{TxBytes: txBytes}, &resp, 0)
	if err != nil {
		// Ask "/app/simulate": it names a refusal's codespace and code, and it simulates against the
		// mempool's state, so it also succeeds for a tx queued behind others of the same key.
		res, appErr := s.c.ABCIQuery(ctx, "/app/simulate", txBytes, 0, false)
		var qErr *QueryError
		if errors.As(appErr, &qErr) {
			// The chain refused the tx in simulation: nothing was broadcast.
			return 0, 0, txError(s.c.cfg.ChainID, "", qErr.Codespace, qErr.Code, qErr.Log, true)
		}
		if appErr != nil {
			return 0, 0, fmt.Errorf("simulate: %w", err)
		}
		var sim struct {
			GasInfo struct {
				GasUsed uint64 `json:"gas_used,string"`
			} `json:"gas_info"`
		}
		if err := json.Unmarshal(res.Value, &sim); err != nil {
			return 0, 0, fmt.Errorf("%s: decode simulation result: %w", s.c.cfg.ChainID, err)
		}
		resp.GasInfo = &sdk.GasInfo{GasUsed: sim.GasInfo.GasUsed}
	}
	// The multiplier covers an error that grows with a tx (measured: a relay tx of 480 recv messages
	// simulated 16,600 gas short of its 30M, 0.06%); a small tx's error is a fixed few thousand gas
	// (a client creation simulated 10% short), so the margin is never less than gasMargin.
	used = resp.GasInfo.GasUsed
	gas = max(uint64(math.Ceil(float64(used)*s.c.cfg.GasAdjustment)), used+gasMargin)
	if gas > s.c.cfg.MaxGas {
		if used+used/50 > s.c.cfg.MaxGas {
			return 0, 0, fmt.Errorf("%s: %d messages need %d gas, max_gas is %d: %w", s.c.cfg.ChainID, len(msgs), used, s.c.cfg.MaxGas, ErrTxTooLarge)
		}
		gas = s.c.cfg.MaxGas // within 2% of the simulation: close enough to try
	}
	return gas, used, nil
}

// WaitTx waits until the tx with the given hash is committed and returns its result; a tx that
// failed in DeliverTx is a *TxError. The result is read through the tx gRPC service (protobuf inside
// abci_query), much cheaper to decode than the JSON of the RPC's /tx for a tx of hundreds of messages.
func (c *Client) WaitTx(ctx context.Context, hash string) (*TxResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CommitTimeout)
	defer cancel()
	for {
		var resp leanGetTxResponse // the result without the tx's body
		err := c.QueryGRPC(ctx, "/cosmos.tx.v1beta1.Service/GetTx", &txtypes.GetTxRequest{Hash: hash}, &resp, 0)
		if err == nil && resp.Result != nil {
			r := resp.Result
			if r.Code != 0 {
				return nil, txError(c.cfg.ChainID, hash, r.Codespace, r.Code, r.RawLog, false)
			}
			data, _ := hex.DecodeString(r.Data)
			return &TxResult{Hash: hash, Height: r.Height, GasUsed: r.GasUsed, Events: neutralEvents(r.Events), Data: data}, nil
		}
		// Not found yet: keep waiting; transport trouble: keep waiting (the pool already retried);
		// a query the node refuses: give up.
		var qErr *QueryError
		if err != nil && !errors.Is(err, ErrNotFound) && errors.As(err, &qErr) {
			return nil, fmt.Errorf("%s: wait for tx %s: %w", c.cfg.ChainID, hash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: wait for tx %s: %w", c.cfg.ChainID, hash, ErrTxTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Address is the bech32 address of the client's signing key (as the chain's accounts know it).
func (c *Client) Address(ctx context.Context) (string, error) {
	c.signer.mu.Lock()
	defer c.signer.mu.Unlock()
	if err := c.signer.load(ctx); err != nil {
		return "", err
	}
	return c.signer.address, nil
}
