package cosmos

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cityrelay/cityrelay/chains"
)

// Gas price queries (Config.GasPriceQuery).
const (
	// GasPriceAuto asks the chain's fee market (skip-mev feemarket, then Osmosis's base fee, then
	// Ethermint's), remembers which one answered, and uses the configured price where none does.
	GasPriceAuto = "auto"
	// GasPriceOff uses the configured price only (a node's raised minimum is still followed).
	GasPriceOff = "config"
)

// Gas pricing defaults.
const (
	// DefaultGasPriceMultiplier multiplies a queried price (Hermes's dynamic_gas_price.multiplier):
	// the price may rise by a block's step between the query and the tx's inclusion.
	DefaultGasPriceMultiplier = 1.1
	// DefaultMaxGasPriceFactor sets the cap when none is configured: this many times the configured
	// price. A fee market's answer, or a node's "required" fee, is whatever that node says: the cap
	// bounds what a lying node can make the relayer pay.
	DefaultMaxGasPriceFactor = 10
	// priceQueryEvery is how long a queried price is reused (one query per tx would double the
	// queries of a busy relayer; a fee market moves once per block).
	priceQueryEvery = time.Second
	// priceProbeEvery is how long "this chain has no fee market" is remembered before asking again
	// (a chain may gain one in an upgrade).
	priceProbeEvery = 10 * time.Minute
	// raisedFor is how long a node's raised minimum (named in an insufficient-fee refusal) is kept as
	// the least price: every tx would be refused once otherwise. Afterwards the configured or queried
	// price is tried again (the node may have lowered its minimum).
	raisedFor = 10 * time.Minute
)

// priceQuery is one gRPC query answering a chain's current gas price.
type priceQuery struct {
	source string
	method string
	// decode reads the price from the response's bytes.
	decode func(b []byte) (sdkmath.LegacyDec, error)
}

// priceQueries are the fee markets a chain may run, in the order GasPriceAuto asks them.
var priceQueries = []priceQuery{
	// skip-mev/feemarket: GasPriceResponse{price: DecCoin{denom, amount}} for GasPriceRequest{denom}.
	{source: chains.GasPriceFeemarket, method: "/feemarket.feemarket.v1.Query/GasPrice", decode: decodeFeemarketPrice},
	// Osmosis txfees: QueryEipBaseFeeResponse{base_fee: Dec}.
	{source: chains.GasPriceOsmosis, method: "/osmosis.txfees.v1beta1.Query/GetEipBaseFee", decode: func(b []byte) (sdkmath.LegacyDec, error) { return decodeDecField(b, 1) }},
	// Ethermint (Evmos and its kin) x/feemarket: QueryBaseFeeResponse{base_fee: Int}.
	{source: chains.GasPriceEthermint, method: "/ethermint.feemarket.v1.Query/BaseFee", decode: decodeIntField},
}

// pricing chooses each tx's gas price: the chain's fee market price (times the multiplier) where it
// has one, else the configured price; never below a minimum a node raised to lately; never above the
// cap (a price the chain asks above it is refused: ErrGasPriceAboveCap).
type pricing struct {
	chainID    string
	configured sdk.DecCoin
	cap        sdk.DecCoin
	multiplier sdkmath.LegacyDec
	mode       string // GasPriceAuto, GasPriceOff, or a source of priceQueries
	log        zerolog.Logger

	mu sync.Mutex
	// found is the query that answered in auto mode ("" not probed yet; "none": no fee market).
	found    string
	probedAt time.Time
	// queried is the last price a query answered, at queriedAt, from queriedBy.
	queried   sdkmath.LegacyDec
	queriedBy string
	queriedAt time.Time
	// floor is a node's raised minimum, kept until floorUntil.
	floor      sdkmath.LegacyDec
	floorUntil time.Time
	stats      chains.GasPriceStats
}

func newPricing(cfg Config) (*pricing, error) {
	p := &pricing{chainID: cfg.ChainID, configured: cfg.GasPrice, cap: cfg.MaxGasPrice, mode: cfg.GasPriceQuery, log: cfg.Log}
	if p.mode == "" {
		p.mode = GasPriceAuto
	}
	switch p.mode {
	case GasPriceAuto, GasPriceOff, chains.GasPriceFeemarket, chains.GasPriceOsmosis, chains.GasPriceEthermint:
	default:
		return nil, fmt.Errorf("cosmos client %s: gas price query %q: use auto, config, feemarket, osmosis or ethermint", cfg.ChainID, p.mode)
	}
	if cfg.GasPrice.Denom == "" || cfg.GasPrice.Amount.IsNil() {
		return nil, fmt.Errorf("cosmos client %s: gas price is required", cfg.ChainID)
	}
	if cfg.GasPrice.Amount.IsNegative() {
		return nil, fmt.Errorf("cosmos client %s: gas price %s is negative", cfg.ChainID, cfg.GasPrice)
	}
	m := cfg.GasPriceMultiplier
	if m == 0 {
		m = DefaultGasPriceMultiplier
	}
	if m < 1 || m > 10 {
		return nil, fmt.Errorf("cosmos client %s: gas price multiplier %v: must be between 1 and 10", cfg.ChainID, m)
	}
	mult, err := sdkmath.LegacyNewDecFromStr(fmt.Sprintf("%.6f", m))
	if err != nil {
		return nil, fmt.Errorf("cosmos client %s: gas price multiplier %v: %w", cfg.ChainID, m, err)
	}
	p.multiplier = mult
	if p.cap.Denom == "" || p.cap.Amount.IsNil() {
		p.cap = sdk.NewDecCoinFromDec(cfg.GasPrice.Denom, cfg.GasPrice.Amount.MulInt64(DefaultMaxGasPriceFactor))
	}
	if p.cap.Denom != cfg.GasPrice.Denom {
		return nil, fmt.Errorf("cosmos client %s: max gas price %s: denomination differs from the gas price's (%s)", cfg.ChainID, p.cap, cfg.GasPrice.Denom)
	}
	if p.cap.Amount.LT(cfg.GasPrice.Amount) {
		return nil, fmt.Errorf("cosmos client %s: max gas price %s is below the gas price %s", cfg.ChainID, p.cap, cfg.GasPrice)
	}
	p.stats = chains.GasPriceStats{Denom: cfg.GasPrice.Denom, Source: chains.GasPriceConfigured}
	p.stats.Price, _ = cfg.GasPrice.Amount.Float64()
	return p, nil
}

// ErrBadGasPrice is a gas price that is not positive (a node's fee market answer, or a price we were
// about to pay): a failed query, never a coin.
var ErrBadGasPrice = errors.New("gas price is not positive")

// price is the gas price of the next tx: see pricing. A price the chain asks above the cap is
// ErrGasPriceAboveCap (counted).
func (p *pricing) price(ctx context.Context, c *Client) (sdk.DecCoin, error) {
	asked, source := p.configured.Amount, chains.GasPriceConfigured
	if q, by, ok := p.query(ctx, c); ok {
		asked, source = q, by
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Now().Before(p.floorUntil) && p.floor.GT(asked) {
		asked, source = p.floor, chains.GasPriceRaised
	}
	// A price that is not positive never reaches a coin (sdk.NewDecCoinFromDec panics on a negative
	// one): only the configured price may be zero (a chain without fees).
	if asked.IsNil() || asked.IsNegative() || (source != chains.GasPriceConfigured && !asked.IsPositive()) {
		p.stats.QueryErrors++
		return sdk.DecCoin{}, fmt.Errorf("%s: the %s gas price %v%s is not positive: %w",
			p.chainID, source, asked, p.cap.Denom, ErrBadGasPrice)
	}
	if asked.GT(p.cap.Amount) {
		p.stats.AboveCap++
		return sdk.DecCoin{}, fmt.Errorf("%s: the %s gas price %s%s is above max_gas_price %s: %w",
			p.chainID, source, asked, p.cap.Denom, p.cap, chains.ErrGasPriceAboveCap)
	}
	price := asked
	if source != chains.GasPriceConfigured && source != chains.GasPriceRaised {
		price = asked.Mul(p.multiplier) // a queried price: leave room for a block's rise
	}
	price = sdkmath.LegacyMinDec(price, p.cap.Amount)
	f, _ := price.Float64()
	if f != p.stats.Price || source != p.stats.Source {
		p.log.Info().Str("chain", p.chainID).Str("source", source).Str("gas_price", price.String()+p.cap.Denom).
			Str("max_gas_price", p.cap.String()).Msg("gas price changed")
	}
	p.stats.Price, p.stats.Source = f, source
	return sdk.NewDecCoinFromDec(p.cap.Denom, price), nil
}

// query asks the chain's fee market for its current price (in the configured denomination), reusing
// an answer younger than priceQueryEvery. ok is false where the chain has none, or the query failed
// (counted; the configured price is used for this tx).
func (p *pricing) query(ctx context.Context, c *Client) (sdkmath.LegacyDec, string, bool) {
	if p.mode == GasPriceOff {
		return sdkmath.LegacyDec{}, "", false
	}
	p.mu.Lock()
	if !p.queriedAt.IsZero() && time.Since(p.queriedAt) < priceQueryEvery {
		q, by := p.queried, p.queriedBy
		p.mu.Unlock()
		return q, by, true
	}
	var ask []priceQuery
	switch {
	case p.mode != GasPriceAuto:
		ask = queriesOf(p.mode)
	case p.found == "none" && time.Since(p.probedAt) < priceProbeEvery:
	case p.found != "" && p.found != "none":
		ask = queriesOf(p.found)
	default:
		ask = priceQueries
	}
	p.mu.Unlock()
	if len(ask) == 0 {
		return sdkmath.LegacyDec{}, "", false
	}
	for _, q := range ask {
		price, err := c.queryGasPrice(ctx, q, p.configured.Denom)
		var qErr *QueryError
		switch {
		case err == nil:
			p.mu.Lock()
			if p.found != q.source && p.mode == GasPriceAuto {
				p.log.Info().Str("chain", p.chainID).Str("source", q.source).Str("query", q.method).Msg("the chain has a fee market: its gas price is used")
			}
			p.found, p.queried, p.queriedBy, p.queriedAt = q.source, price, q.source, time.Now()
			p.mu.Unlock()
			return price, q.source, true
		case (errors.As(err, &qErr) || errors.Is(err, ErrNotFound)) && p.mode == GasPriceAuto:
			continue // the chain does not serve this query: try the next
		default:
			p.mu.Lock()
			p.stats.QueryErrors++
			p.mu.Unlock()
			p.log.Warn().Err(err).Str("chain", p.chainID).Str("query", q.method).Msg("gas price query failed; using the configured gas price")
			return sdkmath.LegacyDec{}, "", false
		}
	}
	p.mu.Lock()
	if p.found != "none" {
		p.log.Info().Str("chain", p.chainID).Str("gas_price", p.configured.String()).Msg("no fee market query answered: the configured gas price is used")
	}
	p.found, p.probedAt = "none", time.Now()
	p.mu.Unlock()
	return sdkmath.LegacyDec{}, "", false
}

func queriesOf(source string) []priceQuery {
	for _, q := range priceQueries {
		if q.source == source {
			return []priceQuery{q}
		}
	}
	return nil
}

// raise follows a node's refusal of a tx of gas for an insufficient fee: the price it requires in
// the configured denomination becomes the least price for raisedFor. ok says the tx is worth signing
// again (the node named a higher price, within the cap); a required price above the cap is
// ErrGasPriceAboveCap (counted).
func (p *pricing) raise(txErr *TxError, gas uint64, paid sdk.DecCoin) (bool, error) {
	need, ok := requiredPrice(txErr.Log, p.cap.Denom, gas)
	if !ok || !need.GT(paid.Amount) {
		return false, nil // nothing to learn: the refusal stands
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if need.GT(p.cap.Amount) {
		p.stats.AboveCap++
		return false, fmt.Errorf("%s: the node requires a gas price of %s%s, above max_gas_price %s (%v): %w",
			p.chainID, need, p.cap.Denom, p.cap, txErr, chains.ErrGasPriceAboveCap)
	}
	p.stats.Raised++
	p.floor, p.floorUntil = need, time.Now().Add(raisedFor)
	p.log.Warn().Str("chain", p.chainID).Str("paid", paid.String()).Str("gas_price", need.String()+p.cap.Denom).
		Str("max_gas_price", p.cap.String()).Msg("the node refused the tx for an insufficient fee: signing it again at the node's minimum gas price")
	return true, nil
}

func (p *pricing) snapshot() chains.GasPriceStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// GasPriceStats reports the client's gas pricing (chains.GasPricer).
func (c *Client) GasPriceStats() chains.GasPriceStats { return c.fees.snapshot() }

// isInsufficientFee reports whether the chain refused a tx for a fee below its minimum.
func isInsufficientFee(e *TxError) bool {
	return e.Codespace == sdkerrors.ErrInsufficientFee.Codespace() && e.Code == sdkerrors.ErrInsufficientFee.ABCICode()
}

// requiredFee finds the fee a refusal names: the SDK's "insufficient fees; got: 2500ucity required:
// 5000ucity", skip-mev feemarket's "got: 100stake required: 200stake, minGasPrice: ...".
var requiredFee = regexp.MustCompile(`required: ([0-9A-Za-z./:_,-]+)`)

// requiredPrice is the gas price a refusal of a tx of gas requires in denom: the fee it names over
// the gas.
func requiredPrice(log, denom string, gas uint64) (sdkmath.LegacyDec, bool) {
	m := requiredFee.FindStringSubmatch(log)
	if m == nil || gas == 0 {
		return sdkmath.LegacyDec{}, false
	}
	s := strings.TrimRight(m[1], ":,.")
	coins, err := sdk.ParseDecCoins(s)
	if err != nil {
		// "200stake, minGasPrice": the list ends at a comma followed by a space, cut above.
		return sdkmath.LegacyDec{}, false
	}
	amt := coins.AmountOf(denom)
	if !amt.IsPositive() {
		return sdkmath.LegacyDec{}, false
	}
	return amt.QuoInt64(int64(min(gas, uint64(1)<<62))), true
}

// queryGasPrice runs one fee market query for denom.
func (c *Client) queryGasPrice(ctx context.Context, q priceQuery, denom string) (sdkmath.LegacyDec, error) {
	req := &priceRequest{}
	if q.source == chains.GasPriceFeemarket {
		req.denom = denom
	}
	resp := &priceResponse{}
	if err := c.QueryGRPC(ctx, q.method, req, resp, 0); err != nil {
		return sdkmath.LegacyDec{}, err
	}
	price, err := q.decode(resp.raw)
	if err != nil {
		return sdkmath.LegacyDec{}, fmt.Errorf("%s query %s: decode: %w", c.cfg.ChainID, q.method, err)
	}
	if price.IsNil() || !price.IsPositive() {
		return sdkmath.LegacyDec{}, fmt.Errorf("%s query %s: price %s: %w", c.cfg.ChainID, q.method, price, ErrBadGasPrice)
	}
	return price, nil
}

// priceRequest is a fee market query's request: feemarket's GasPriceRequest{denom = 1}, or the empty
// request of the others.
type priceRequest struct{ denom string }

func (m *priceRequest) Reset()         { *m = priceRequest{} }
func (m *priceRequest) String() string { return "GasPriceRequest{" + m.denom + "}" }
func (*priceRequest) ProtoMessage()    {}

// Marshal writes denom (1).
func (m *priceRequest) Marshal() ([]byte, error) {
	if m.denom == "" {
		return nil, nil
	}
	return protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), m.denom), nil
}

// Unmarshal reads denom (1) (a fake server in tests decodes requests).
func (m *priceRequest) Unmarshal(b []byte) error {
	*m = priceRequest{}
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 1 && typ == protowire.BytesType {
			m.denom = string(v)
		}
		return nil
	})
}

// priceResponse keeps a fee market answer's bytes for its query's decoder.
type priceResponse struct{ raw []byte }

func (m *priceResponse) Reset()         { *m = priceResponse{} }
func (m *priceResponse) String() string { return fmt.Sprintf("GasPriceResponse{%d bytes}", len(m.raw)) }
func (*priceResponse) ProtoMessage()    {}

// Unmarshal keeps b.
func (m *priceResponse) Unmarshal(b []byte) error {
	m.raw = append([]byte(nil), b...)
	return nil
}

// Marshal returns the kept bytes (a fake server in tests encodes answers).
func (m *priceResponse) Marshal() ([]byte, error) { return m.raw, nil }

// decodeFeemarketPrice reads GasPriceResponse.price (1): a DecCoin {denom = 1, amount = 2}, amount a
// LegacyDec in its wire form (the integer of the value times 10^18).
func decodeFeemarketPrice(b []byte) (sdkmath.LegacyDec, error) {
	var coin []byte
	if err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 1 && typ == protowire.BytesType {
			coin = v
		}
		return nil
	}); err != nil {
		return sdkmath.LegacyDec{}, err
	}
	if coin == nil {
		return sdkmath.LegacyDec{}, errors.New("no price in the answer")
	}
	return decodeDecField(coin, 2)
}

// decodeDecField reads the LegacyDec string field want.
func decodeDecField(b []byte, want protowire.Number) (sdkmath.LegacyDec, error) {
	var raw []byte
	if err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == want && typ == protowire.BytesType {
			raw = v
		}
		return nil
	}); err != nil {
		return sdkmath.LegacyDec{}, err
	}
	if raw == nil {
		return sdkmath.LegacyDec{}, errors.New("no price in the answer")
	}
	var d sdkmath.LegacyDec
	if err := d.Unmarshal(raw); err != nil {
		return sdkmath.LegacyDec{}, fmt.Errorf("price %q: %w", raw, err)
	}
	if d.IsNil() || !d.IsPositive() {
		return sdkmath.LegacyDec{}, fmt.Errorf("price %s: %w", d, ErrBadGasPrice)
	}
	return d, nil
}

// decodeIntField reads an Int string field 1 (Ethermint's base fee, in the fee denomination's base
// unit per gas).
func decodeIntField(b []byte) (sdkmath.LegacyDec, error) {
	var raw []byte
	if err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 1 && typ == protowire.BytesType {
			raw = v
		}
		return nil
	}); err != nil {
		return sdkmath.LegacyDec{}, err
	}
	if raw == nil {
		return sdkmath.LegacyDec{}, errors.New("no base fee in the answer")
	}
	var i sdkmath.Int
	if err := i.Unmarshal(raw); err != nil {
		return sdkmath.LegacyDec{}, fmt.Errorf("base fee %q: %w", raw, err)
	}
	if i.IsNil() || !i.IsPositive() {
		return sdkmath.LegacyDec{}, fmt.Errorf("base fee %s: %w", i, ErrBadGasPrice)
	}
	return sdkmath.LegacyNewDecFromInt(i), nil
}
