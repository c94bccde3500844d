package cosmos_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/cityrelay/cityrelay/chains"
	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

var net *devnet.Devnet

func TestMain(m *testing.M) {
	testnet.Main(m, testnet.Shared{Net: &net, Options: devnet.Options{ChainIDs: []string{"seoul-1"}}})
}

func newClient(t *testing.T, rpcs ...string) *cosmos.Client {
	t.Helper()
	c := net.Chain("seoul-1")
	enc, err := cosmos.NewEncoding(citychain.AccountAddressPrefix)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New("citychain", keyring.BackendTest, c.KeyringDir(), nil, enc.Codec)
	if err != nil {
		t.Fatal(err)
	}
	price, _ := sdk.ParseDecCoin(devnet.MinGasPrice)
	// Several RPC endpoints (some dead) is what these tests are about: built by hand, not by devnet.
	cl, err := cosmos.New(cosmos.Config{ChainID: c.ChainID, RPCAddrs: rpcs, AccountPrefix: "city", GasPrice: price,
		Keyring: kr, KeyName: devnet.RelayerKey, Codec: enc.Codec, TxConfig: enc.TxConfig})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func transfer(c *devnet.Chain) sdk.Msg {
	return banktypes.NewMsgSend(sdk.MustAccAddressFromBech32(c.Relayer.Address), sdk.MustAccAddressFromBech32(c.Admin.Address),
		sdk.NewCoins(sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(1))))
}

// TestFailsOverToTheNextEndpoint: the first endpoint is dead, the client uses the second.
func TestFailsOverToTheNextEndpoint(t *testing.T) {
	c := net.Chain("seoul-1")
	cl := newClient(t, "http://127.0.0.1:1", c.RPCAddr)
	if _, err := cl.Status(context.Background()); err != nil {
		t.Fatalf("status with a dead first endpoint: %v", err)
	}
	if _, err := cl.Send(context.Background(), transfer(c)); err != nil {
		t.Fatalf("send with a dead first endpoint: %v", err)
	}
}

// TestUnreachableGivesUp: with no live endpoint the client fails with ErrNoEndpoint after bounded retries.
func TestUnreachableGivesUp(t *testing.T) {
	cl := newClient(t, "http://127.0.0.1:1", "http://127.0.0.1:2")
	start := time.Now()
	_, err := cl.Status(context.Background())
	if !errors.Is(err, cosmos.ErrNoEndpoint) {
		t.Fatalf("want ErrNoEndpoint, got %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("retries not bounded: %s", time.Since(start))
	}
}

// TestResyncsSequence: another signer uses the same key behind the client's back; the client's next
// tx meets a sequence mismatch, re-reads the sequence from the chain and succeeds.
func TestResyncsSequence(t *testing.T) {
	c := net.Chain("seoul-1")
	a, b := newClient(t, c.RPCAddr), newClient(t, c.RPCAddr)
	ctx := context.Background()
	if _, err := a.Send(ctx, transfer(c)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Send(ctx, transfer(c)); err != nil { // a's cached sequence is now stale
		t.Fatal(err)
	}
	if _, err := a.Send(ctx, transfer(c)); err != nil {
		t.Fatalf("send after a foreign tx with the same key: %v", err)
	}
	// A refused tx does not advance the sequence: the next one still goes through.
	bad := banktypes.NewMsgSend(sdk.MustAccAddressFromBech32(c.Relayer.Address), sdk.MustAccAddressFromBech32(c.Admin.Address),
		sdk.NewCoins(sdk.NewCoin(citychain.BondDenom, sdkmath.NewInt(1_000_000_000_000_000_000))))
	var txErr *cosmos.TxError
	if _, err := a.Send(ctx, bad); !errors.As(err, &txErr) || !txErr.Checked {
		t.Fatalf("overspend: want a refused tx, got %v", err)
	}
	if _, err := a.Send(ctx, transfer(c)); err != nil {
		t.Fatalf("send after a refused tx: %v", err)
	}
}

// TestTooLargeIsRefusedBeforeBroadcast: a tx needing more gas than MaxGas is ErrTxTooLarge, nothing is
// broadcast (the key's sequence does not move), and a tx that fits still goes through.
func TestTooLargeIsRefusedBeforeBroadcast(t *testing.T) {
	c := net.Chain("seoul-1")
	cl := testnet.ClientWith(t, c, devnet.RelayerKey, devnet.ClientOptions{MaxGas: 300_000})
	ctx := context.Background()
	addr, _ := cl.Address(ctx)
	_, before, err := cl.Account(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]sdk.Msg, 30)
	for i := range msgs {
		msgs[i] = transfer(c)
	}
	if _, err := cl.Send(ctx, msgs...); !errors.Is(err, cosmos.ErrTxTooLarge) {
		t.Fatalf("30 transfers under 300,000 gas: want ErrTxTooLarge, got %v", err)
	}
	if _, after, _ := cl.Account(ctx, addr); after != before {
		t.Fatalf("sequence moved from %d to %d: something was broadcast", before, after)
	}
	if _, err := cl.Send(ctx, msgs[:2]...); err != nil {
		t.Fatalf("2 transfers under 300,000 gas: %v", err)
	}
}

// TestBlockEventsOfACommittedTx: the events of a block read through the tx index hold those of a tx
// committed in it, whatever the index's lag (the search waits until it has the block's every tx).
func TestBlockEventsOfACommittedTx(t *testing.T) {
	c := net.Chain("seoul-1")
	cl := newClient(t, c.RPCAddr)
	ctx := context.Background()
	res, err := cl.Send(ctx, transfer(c), transfer(c))
	if err != nil {
		t.Fatal(err)
	}
	events, err := cl.BlockEvents(ctx, res.Height)
	if err != nil {
		t.Fatalf("events of block %d: %v", res.Height, err)
	}
	ones := func(events []chains.Event) (n int) { // the tx's own transfers of 1ucity (not its fee's)
		for _, ev := range events {
			for _, a := range ev.Attributes {
				if ev.Type == banktypes.EventTypeTransfer && a.Key == sdk.AttributeKeyAmount && a.Value == "1"+citychain.BondDenom {
					n++
				}
			}
		}
		return n
	}
	if n := ones(events); n < 2 {
		t.Fatalf("block %d: %d transfers of 1%s, want the tx's 2 (events: %d)", res.Height, n, citychain.BondDenom, len(events))
	}
	// Asked for one type, only that type comes back.
	only, err := cl.BlockEvents(ctx, res.Height, banktypes.EventTypeTransfer)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range only {
		if ev.Type != banktypes.EventTypeTransfer {
			t.Fatalf("asked for transfer events, got a %s event", ev.Type)
		}
	}
	if n := ones(only); n < 2 {
		t.Fatalf("filtered: %d transfers of 1%s, want the tx's 2", n, citychain.BondDenom)
	}
}
