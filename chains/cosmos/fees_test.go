package cosmos_test

import (
	"context"
	"errors"
	gonet "net"
	"sync"
	"testing"

	sdkmath "cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/cityrelay/cityrelay/chains"
	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/cosmos"
)

// rawFrame and rawCodec let the fake fee market server read and write message bytes as they are.
type rawFrame struct{ b []byte }

type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(*rawFrame).b, nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	v.(*rawFrame).b = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// feeMarket is a fake node's gRPC server answering the fee market queries in answers (method ->
// response bytes) and Unimplemented for any other method, as a node without the module does.
type feeMarket struct {
	mu       sync.Mutex
	answers  map[string][]byte
	calls    map[string]int
	requests map[string][]byte
}

func startFeeMarket(t *testing.T, answers map[string][]byte) (*feeMarket, string) {
	t.Helper()
	fm := &feeMarket{answers: answers, calls: map[string]int{}, requests: map[string][]byte{}}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		var in rawFrame
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		fm.mu.Lock()
		fm.calls[method]++
		fm.requests[method] = in.b
		answer, ok := fm.answers[method]
		fm.mu.Unlock()
		if !ok {
			return status.Errorf(codes.Unimplemented, "unknown service %s", method)
		}
		return stream.SendMsg(&rawFrame{b: answer})
	}))
	ln, err := gonet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return fm, ln.Addr().String()
}

func (fm *feeMarket) total() int {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	n := 0
	for _, c := range fm.calls {
		n += c
	}
	return n
}

const (
	feemarketMethod = "/feemarket.feemarket.v1.Query/GasPrice"
	osmosisMethod   = "/osmosis.txfees.v1beta1.Query/GetEipBaseFee"
	ethermintMethod = "/ethermint.feemarket.v1.Query/BaseFee"
)

// feemarketAnswer is a skip-mev feemarket GasPriceResponse{price: DecCoin} (the SDK's DecCoin encoding).
func feemarketAnswer(t *testing.T, price string) []byte {
	t.Helper()
	coin := sdk.DecCoin{Denom: citychain.BondDenom, Amount: sdkmath.LegacyMustNewDecFromStr(price)}
	bz, err := coin.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), bz)
}

// osmosisAnswer is a QueryEipBaseFeeResponse{base_fee: Dec}.
func osmosisAnswer(t *testing.T, price string) []byte {
	t.Helper()
	bz, err := sdkmath.LegacyMustNewDecFromStr(price).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), bz)
}

// ethermintAnswer is a QueryBaseFeeResponse{base_fee: Int}.
func ethermintAnswer(t *testing.T, fee int64) []byte {
	t.Helper()
	bz, err := sdkmath.NewInt(fee).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), bz)
}

func pricedClient(t *testing.T, grpcAddr, price, maxPrice, source string) *cosmos.Client {
	t.Helper()
	enc, err := cosmos.NewEncoding(citychain.AccountAddressPrefix)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cosmos.Config{ChainID: "feemarket-1", RPCAddrs: []string{"http://127.0.0.1:1"}, GRPCAddr: grpcAddr, AccountPrefix: "city",
		GasPrice: mustDecCoin(t, price), GasPriceQuery: source, Codec: enc.Codec, TxConfig: enc.TxConfig}
	if maxPrice != "" {
		cfg.MaxGasPrice = mustDecCoin(t, maxPrice)
	}
	c, err := cosmos.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGasPriceFromFeeMarket checks the fee market query path against a fake node's gRPC server (our
// chains have no fee market): the queried price times 1.1, capped; a price above the cap refused and
// counted; Osmosis's and Ethermint's queries where the skip-mev one is not served; the configured
// price where none is, without asking again at every tx.
func TestGasPriceFromFeeMarket(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		answers   map[string][]byte
		price     string // configured
		max       string
		source    string
		want      string // price used ("" when refused)
		from      string
		aboveCap  uint64
		queryErrs uint64
	}{
		{name: "feemarket", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "0.004")}, price: "0.0025ucity",
			want: "0.0044ucity", from: chains.GasPriceFeemarket},
		{name: "feemarket below the configured price", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "0.001")}, price: "0.0025ucity",
			want: "0.0011ucity", from: chains.GasPriceFeemarket},
		{name: "multiplied past the cap: capped", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "0.019")}, price: "0.0025ucity", max: "0.02ucity",
			want: "0.02ucity", from: chains.GasPriceFeemarket},
		{name: "above the cap: refused", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "0.03")}, price: "0.0025ucity", max: "0.02ucity",
			from: chains.GasPriceConfigured, aboveCap: 1},
		{name: "above the default cap (10x)", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "0.026")}, price: "0.0025ucity",
			from: chains.GasPriceConfigured, aboveCap: 1},
		{name: "osmosis", answers: map[string][]byte{osmosisMethod: osmosisAnswer(t, "0.005")}, price: "0.0025ucity",
			want: "0.0055ucity", from: chains.GasPriceOsmosis},
		{name: "ethermint", answers: map[string][]byte{ethermintMethod: ethermintAnswer(t, 7)}, price: "1ucity", max: "20ucity",
			want: "7.7ucity", from: chains.GasPriceEthermint},
		{name: "no fee market", answers: map[string][]byte{}, price: "0.0025ucity", want: "0.0025ucity", from: chains.GasPriceConfigured},
		{name: "configured only", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "0.004")}, price: "0.0025ucity", source: "config",
			want: "0.0025ucity", from: chains.GasPriceConfigured},
		{name: "named fee market missing", answers: map[string][]byte{}, price: "0.0025ucity", source: "feemarket",
			want: "0.0025ucity", from: chains.GasPriceConfigured, queryErrs: 1},
		{name: "negative feemarket price answered", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "-0.004")}, price: "0.0025ucity",
			want: "0.0025ucity", from: chains.GasPriceConfigured, queryErrs: 1},
		{name: "negative osmosis price answered", answers: map[string][]byte{osmosisMethod: osmosisAnswer(t, "-5")}, price: "0.0025ucity", source: "osmosis",
			want: "0.0025ucity", from: chains.GasPriceConfigured, queryErrs: 1},
		{name: "negative ethermint base fee answered", answers: map[string][]byte{ethermintMethod: ethermintAnswer(t, -7)}, price: "1ucity", source: "ethermint",
			want: "1ucity", from: chains.GasPriceConfigured, queryErrs: 1},
		{name: "zero ethermint base fee answered", answers: map[string][]byte{ethermintMethod: ethermintAnswer(t, 0)}, price: "1ucity", source: "ethermint",
			want: "1ucity", from: chains.GasPriceConfigured, queryErrs: 1},
		{name: "zero price answered", answers: map[string][]byte{feemarketMethod: feemarketAnswer(t, "0")}, price: "0.0025ucity",
			want: "0.0025ucity", from: chains.GasPriceConfigured, queryErrs: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fm, addr := startFeeMarket(t, tc.answers)
			c := pricedClient(t, addr, tc.price, tc.max, tc.source)
			got, err := c.GasPrice(ctx)
			if tc.want == "" {
				if !errors.Is(err, chains.ErrGasPriceAboveCap) {
					t.Fatalf("price %s, err %v: want ErrGasPriceAboveCap", got, err)
				}
				t.Logf("refused: %v", err)
			} else if err != nil || !got.IsEqual(mustDecCoin(t, tc.want)) {
				t.Fatalf("price %s, err %v: want %s", got, err, tc.want)
			}
			s := c.GasPriceStats()
			if s.Source != tc.from || s.AboveCap != tc.aboveCap || s.QueryErrors != tc.queryErrs || s.Denom != citychain.BondDenom {
				t.Fatalf("stats %+v: want source %s, %d above the cap, %d query errors", s, tc.from, tc.aboveCap, tc.queryErrs)
			}
			if req, ok := fm.requests[feemarketMethod]; ok && tc.source != "config" {
				// GasPriceRequest{denom: "ucity"}
				if want := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), citychain.BondDenom); string(req) != string(want) {
					t.Fatalf("feemarket request %x, want %x", req, want)
				}
			}
			if tc.source == "config" && fm.total() != 0 {
				t.Fatalf("gas_price_source config queried the chain %d times", fm.total())
			}
			// A second tx: a found fee market's answer is reused for a second, a missing one is not asked
			// again for minutes (a failed query is asked again at the next tx).
			calls := fm.total()
			if _, err := c.GasPrice(ctx); (err != nil) != (tc.want == "") {
				t.Fatalf("second price: %v", err)
			}
			if tc.source == "" && tc.queryErrs == 0 && fm.total() != calls {
				t.Fatalf("second tx asked the chain again (%d queries, then %d)", calls, fm.total())
			}
		})
	}
}

// TestRequiredPrice reads the price a node requires from its insufficient-fee refusals.
func TestRequiredPrice(t *testing.T) {
	for _, tc := range []struct {
		log, denom string
		gas        uint64
		want       string // "" when nothing can be read
	}{
		{"insufficient fees; got: 2057ucity required: 10280ucity: insufficient fee", "ucity", 205600, "0.05"},
		{"insufficient fees; got: 1ucity required: 7uatom,10000ucity: insufficient fee", "ucity", 1000, "10"},
		{"error checking fee: got: 100stake required: 200stake, minGasPrice: 0.002stake: insufficient fee", "stake", 100000, "0.002"},
		{"insufficient fees; got: 1ibc/ABCD required: 50ibc/ABCD: insufficient fee", "ibc/ABCD", 10, "5"},
		{"insufficient fees; got: 1uatom required: 7uatom: insufficient fee", "ucity", 1000, ""},
		{"insufficient fee", "ucity", 1000, ""},
		{"insufficient fees; got: 1ucity required: 10ucity: insufficient fee", "ucity", 0, ""},
	} {
		got, ok := cosmos.RequiredPrice(tc.log, tc.denom, tc.gas)
		if tc.want == "" {
			if ok {
				t.Errorf("%q: read %s, want nothing", tc.log, got)
			}
			continue
		}
		if !ok || !got.Equal(sdkmath.LegacyMustNewDecFromStr(tc.want)) {
			t.Errorf("%q over %d gas: %s %v, want %s", tc.log, tc.gas, got, ok, tc.want)
		}
	}
}

func mustDecCoin(t *testing.T, s string) sdk.DecCoin {
	t.Helper()
	c, err := sdk.ParseDecCoin(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
