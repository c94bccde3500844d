package relayer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"cosmossdk.io/x/feegrant"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains"
	citychain "github.com/cityrelay/cityrelay/chains/citychain/app"
	"github.com/cityrelay/cityrelay/chains/cosmos"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// balanceOf is addr's balance of the bond denomination on cl's chain.
func balanceOf(t *testing.T, cl *cosmos.Client, addr string) sdkmath.Int {
	t.Helper()
	var bal banktypes.QueryBalanceResponse
	if err := cl.QueryGRPC(context.Background(), "/cosmos.bank.v1beta1.Query/Balance",
		&banktypes.QueryBalanceRequest{Address: addr, Denom: citychain.BondDenom}, &bal, 0); err != nil {
		t.Fatal(err)
	}
	return bal.Balance.Amount
}

// committedTx is the tx with hash as the chain stored it.
func committedTx(t *testing.T, cl *cosmos.Client, hash string) *txtypes.Tx {
	t.Helper()
	var resp txtypes.GetTxResponse
	if err := cl.QueryGRPC(context.Background(), "/cosmos.tx.v1beta1.Service/GetTx", &txtypes.GetTxRequest{Hash: hash}, &resp, 0); err != nil {
		t.Fatalf("tx %s: %v", hash, err)
	}
	return resp.Tx
}

// transferFromSeoul sends amount ucity from Seoul's admin to to over channel and returns the packet
// and the send's height.
func transferFromSeoul(t *testing.T, channel, to string, amount int64) ([]channeltypes.Packet, int64) {
	t.Helper()
	seoul := net.Chain("seoul-1")
	msg := transfertypes.NewMsgTransfer(transfertypes.PortID, channel, sdk.NewInt64Coin(citychain.BondDenom, amount), seoul.Admin.Address, to,
		transfertypesHeight(), uint64(time.Now().Add(10*time.Minute).UnixNano()), "")
	sent := mustSend(t, testnet.Client(t, seoul, devnet.AdminKey), msg)
	pks, err := relayer.SendPackets(sent.Events)
	if err != nil || len(pks) != 1 {
		t.Fatalf("send_packet events: %v %v", pks, err)
	}
	return pks, sent.Height
}

// TestRelayFollowsRaisedMinimumGasPrice relays ICS-20 packets to a chain (a citychaind child process,
// no fee market) whose node is restarted with a higher minimum gas price while the relayer runs: the
// relayer's tx is refused for an insufficient fee, signed again once at the minimum the node names,
// and delivered; a minimum above max_gas_price is refused before anything more is sent (the packet
// stays unreceived, ErrGasPriceAboveCap, counted) and delivered once the node's minimum falls again.
// Every relayer tx carries the configured memo.
func TestRelayFollowsRaisedMinimumGasPrice(t *testing.T) {
	gw := testnet.StartProcessChain(t, "gwangju-1", devnet.InitOptions{})
	const memo = "cityrelay e2e: gas"
	maxPrice := sdk.NewDecCoinFromDec(citychain.BondDenom, sdkmath.LegacyMustNewDecFromStr("0.02"))
	dstClient := testnet.ClientWith(t, gw.Chain, devnet.RelayerKey, devnet.ClientOptions{Tune: func(c *cosmos.Config) {
		c.MaxGasPrice, c.Memo = maxPrice, memo
	}})
	p := &relayer.Path{Name: "seoul-gwangju-transfer", A: end(t, net.Chain("seoul-1"), transfertypes.PortID),
		B:       &relayer.End{Chain: dstClient, Light: testnet.LightOf(t, gw.Chain), PortID: transfertypes.PortID},
		Version: transfertypes.Version, Order: channeltypes.UNORDERED}
	testnet.LinkPath(t, &devnet.Devnet{Chains: []*devnet.Chain{net.Chain("seoul-1"), gw.Chain}}, p)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	recv := func(pks []channeltypes.Packet, h int64) (*relayer.TxInfo, error) {
		tx, seqs, err := r.RecvPackets(ctx, p.A, p.B, pks, h)
		if err == nil && len(seqs) != len(pks) {
			t.Fatalf("delivered %v of %d packets", seqs, len(pks))
		}
		return tx, err
	}
	checkMemo := func(tx *relayer.TxInfo) {
		t.Helper()
		if got := committedTx(t, dstClient, tx.Hash).Body.Memo; got != memo {
			t.Fatalf("tx %s memo %q, want %q", tx.Hash, got, memo)
		}
	}

	// No fee market on the chain: the configured price.
	pks, h := transferFromSeoul(t, p.A.ChannelID, gw.Admin.Address, 100)
	tx, err := recv(pks, h)
	if err != nil {
		t.Fatalf("recv at the configured price: %v", err)
	}
	checkMemo(tx)
	if s := dstClient.GasPriceStats(); s.Source != chains.GasPriceConfigured || s.Price != 0.0025 || s.Raised != 0 {
		t.Fatalf("gas pricing before the raise: %+v", s)
	}

	// The node's minimum rises to 0.01: the first tx is refused, the second (at 0.01) delivered.
	gw.RestartWithMinGasPrice("0.01" + citychain.BondDenom)
	pks, h = transferFromSeoul(t, p.A.ChannelID, gw.Admin.Address, 200)
	if tx, err = recv(pks, h); err != nil {
		t.Fatalf("recv after the node raised its minimum: %v", err)
	}
	checkMemo(tx)
	// The node names the fee it required of the refused tx, ceil(0.01 × its gas): the price learnt
	// is that fee over that gas, 0.01 rounded up by less than one unit per tx.
	s := dstClient.GasPriceStats()
	if s.Source != chains.GasPriceRaised || s.Price < 0.01 || s.Price >= 0.0101 || s.Raised != 1 || s.AboveCap != 0 {
		t.Fatalf("gas pricing after the raise: %+v", s)
	}
	if least := (tx.GasWanted + 99) / 100; tx.Fee.Amount < least || tx.Fee.Amount > least+least/100+1 { // ceil(0.01 × gas), within 1%
		t.Fatalf("fee %d%s for %d gas, want about %d (0.01 per gas)", tx.Fee.Amount, tx.Fee.Denom, tx.GasWanted, least)
	}
	t.Logf("raised: tx %s paid %d%s for %d gas", tx.Hash, tx.Fee.Amount, tx.Fee.Denom, tx.GasWanted)

	// The minimum rises past the cap (0.05 > 0.02): refused before broadcast, the packet stays
	// unreceived (not dropped: retried later).
	gw.RestartWithMinGasPrice("0.05" + citychain.BondDenom)
	pks, h = transferFromSeoul(t, p.A.ChannelID, gw.Admin.Address, 300)
	if _, err = recv(pks, h); !errors.Is(err, chains.ErrGasPriceAboveCap) {
		t.Fatalf("recv with the node's minimum above max_gas_price: %v, want ErrGasPriceAboveCap", err)
	}
	t.Logf("refused: %v", err)
	if s := dstClient.GasPriceStats(); s.AboveCap != 1 || s.Raised != 1 {
		t.Fatalf("gas pricing above the cap: %+v", s)
	}
	var receipt channeltypes.QueryPacketReceiptResponse
	if err := dstClient.QueryGRPC(ctx, "/ibc.core.channel.v1.Query/PacketReceipt", &channeltypes.QueryPacketReceiptRequest{
		PortId: transfertypes.PortID, ChannelId: p.B.ChannelID, Sequence: pks[0].Sequence}, &receipt, 0); err != nil || receipt.Received {
		t.Fatalf("packet %d received after a refusal above the cap: %v %v", pks[0].Sequence, receipt.Received, err)
	}

	// The node's minimum falls back: the same packet is delivered on the next try.
	gw.RestartWithMinGasPrice(devnet.MinGasPrice)
	if tx, err = recv(pks, h); err != nil {
		t.Fatalf("recv retried after the minimum fell: %v", err)
	}
	checkMemo(tx)
}

// TestFeeGranterPaysRelayerFees relays with a key that holds nothing: Bucheon's admin grants it an
// x/feegrant allowance, and the relayer's txs (link and relay) name the admin as Fee.Granter. The
// key's balance stays zero; the admin's balance and the allowance fall by exactly each tx's fee.
// Without the granter the same relay is refused for insufficient funds.
func TestFeeGranterPaysRelayerFees(t *testing.T) {
	bucheon := net.Chain("bucheon-1")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// A new key with no balance in Bucheon's keyring.
	enc := citychain.MakeEncodingConfig()
	kr, err := keyring.New("citychain", keyring.BackendTest, bucheon.KeyringDir(), nil, enc.Codec)
	if err != nil {
		t.Fatal(err)
	}
	const keyName = "granted-relayer"
	rec, _, err := kr.NewMnemonic(keyName, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := rec.GetAddress()
	if err != nil {
		t.Fatal(err)
	}
	grantee := sdk.MustBech32ifyAddressBytes(citychain.AccountAddressPrefix, addr)
	admin := testnet.Client(t, bucheon, devnet.AdminKey)
	limit := sdkmath.NewInt(5_000_000)
	allowance, err := codectypes.NewAnyWithValue(&feegrant.BasicAllowance{SpendLimit: sdk.NewCoins(sdk.NewCoin(citychain.BondDenom, limit))})
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, admin, &feegrant.MsgGrantAllowance{Granter: bucheon.Admin.Address, Grantee: grantee, Allowance: allowance})
	if bal := balanceOf(t, admin, grantee); !bal.IsZero() {
		t.Fatalf("grantee balance %s, want 0", bal)
	}
	left := func() sdkmath.Int {
		t.Helper()
		var resp feegrant.QueryAllowanceResponse
		if err := admin.QueryGRPC(ctx, "/cosmos.feegrant.v1beta1.Query/Allowance",
			&feegrant.QueryAllowanceRequest{Granter: bucheon.Admin.Address, Grantee: grantee}, &resp, 0); err != nil {
			t.Fatal(err)
		}
		var basic feegrant.BasicAllowance
		if err := basic.Unmarshal(resp.Allowance.Allowance.Value); err != nil {
			t.Fatal(err)
		}
		return basic.SpendLimit.AmountOf(citychain.BondDenom)
	}

	const memo = "paid by bucheon treasury"
	granted := testnet.ClientWith(t, bucheon, keyName, devnet.ClientOptions{Tune: func(c *cosmos.Config) {
		c.FeeGranter, c.Memo = bucheon.Admin.Address, memo
	}})
	p := &relayer.Path{Name: "seoul-bucheon-granted", A: end(t, net.Chain("seoul-1"), transfertypes.PortID),
		B:       &relayer.End{Chain: granted, Light: testnet.LightOf(t, bucheon), PortID: transfertypes.PortID},
		Version: transfertypes.Version, Order: channeltypes.UNORDERED}
	testnet.LinkPath(t, net, p) // the client, connection and channel txs on Bucheon: paid by the grant
	spentLinking := limit.Sub(left())
	if !spentLinking.IsPositive() {
		t.Fatalf("linking spent %s of the allowance", spentLinking)
	}

	r := relayer.Relayer{Check: light.VerifyProofAgainstAppHash}
	pks, h := transferFromSeoul(t, p.A.ChannelID, bucheon.Admin.Address, 77)
	// Without the granter the key pays, and has nothing.
	unpaid := testnet.ClientWith(t, bucheon, keyName, devnet.ClientOptions{})
	_, _, err = r.RecvPackets(ctx, p.A, &relayer.End{Chain: unpaid, Light: p.B.Light, ClientID: p.B.ClientID, ConnectionID: p.B.ConnectionID,
		ChannelID: p.B.ChannelID, PortID: p.B.PortID}, pks, h)
	var txErr *chains.TxError
	if !errors.As(err, &txErr) || txErr.Codespace != sdkerrors.ErrInsufficientFunds.Codespace() || txErr.Code != sdkerrors.ErrInsufficientFunds.ABCICode() {
		t.Fatalf("relay without the granter: %v, want insufficient funds", err)
	}

	adminBefore, leftBefore := balanceOf(t, admin, bucheon.Admin.Address), left()
	tx, seqs, err := r.RecvPackets(ctx, p.A, p.B, pks, h)
	if err != nil || len(seqs) != 1 {
		t.Fatalf("relay paid by the granter: %v %v", seqs, err)
	}
	fee := sdkmath.NewIntFromUint64(tx.Fee.Amount)
	if got := adminBefore.Sub(balanceOf(t, admin, bucheon.Admin.Address)); !got.Equal(fee) {
		t.Fatalf("granter paid %s for the relay tx, want its fee %s", got, fee)
	}
	if got := leftBefore.Sub(left()); !got.Equal(fee) {
		t.Fatalf("allowance fell by %s, want the fee %s", got, fee)
	}
	if bal := balanceOf(t, admin, grantee); !bal.IsZero() {
		t.Fatalf("grantee balance %s after relaying, want 0", bal)
	}
	stored := committedTx(t, granted, tx.Hash)
	if stored.AuthInfo.Fee.Granter != bucheon.Admin.Address || stored.Body.Memo != memo {
		t.Fatalf("tx %s: granter %q memo %q", tx.Hash, stored.AuthInfo.Fee.Granter, stored.Body.Memo)
	}
	t.Logf("relay tx %s: fee %s paid by the granter (linking took %s of the allowance)", tx.Hash, fee, spentLinking)
}
