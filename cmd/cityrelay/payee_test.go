package main

import (
	"context"
	"strings"
	"testing"

	ibcfeetypes "github.com/cosmos/ibc-go/v8/modules/apps/29-fee/types"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

// TestRegisterPayeeCLI: an operator links a fee-enabled transfer path and registers the relayer's
// payees with `tx register-payee`: on each end the counterparty payee is the relayer's own address on
// the other chain (as the chains' fee modules then answer), --payee registers a payee on the end
// named by --on; a plain ics20-1 path is refused as not fee-enabled, and a bad --on names the ends.
func TestRegisterPayeeCLI(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	oh := operatorHome(t, net.Chains, testnet.HomeOptions{})
	oh.Must("", "paths", "new", "fee", "--src", "seoul-1", "--dst", "bucheon-1", "--src-port", "transfer", "--dst-port", "transfer",
		"--version", `{"fee_version":"ics29-1","app_version":"ics20-1"}`)
	oh.Must("", "tx", "link", "fee", "--trust-latest")
	oh.Must("", "paths", "new", "plain", "--src", "seoul-1", "--dst", "bucheon-1", "--src-port", "transfer", "--dst-port", "transfer", "--version", "ics20-1")
	oh.Must("", "tx", "link", "plain", "--trust-latest")
	cfg := oh.Config()
	fee := cfg.Paths["fee"]

	out := oh.Must("", "tx", "register-payee", "fee", "--trust-latest")
	if strings.Count(out, "counterparty payee") != 2 || !strings.Contains(out, seoul.Relayer.Address) || !strings.Contains(out, bucheon.Relayer.Address) {
		t.Fatalf("register-payee output:\n%s", out)
	}
	ctx := context.Background()
	for _, c := range []struct {
		chain     *devnet.Chain
		channel   string
		wantPayee string
	}{{seoul, fee.Src.ChannelID, bucheon.Relayer.Address}, {bucheon, fee.Dst.ChannelID, seoul.Relayer.Address}} {
		var resp ibcfeetypes.QueryCounterpartyPayeeResponse
		if err := testnet.Client(t, c.chain, devnet.RelayerKey).QueryGRPC(ctx, "/ibc.applications.fee.v1.Query/CounterpartyPayee",
			&ibcfeetypes.QueryCounterpartyPayeeRequest{ChannelId: c.channel, Relayer: c.chain.Relayer.Address}, &resp, 0); err != nil {
			t.Fatal(err)
		}
		if resp.CounterpartyPayee != c.wantPayee {
			t.Fatalf("%s counterparty payee %q, want %s", c.chain.ChainID, resp.CounterpartyPayee, c.wantPayee)
		}
	}

	out = oh.Must("", "tx", "register-payee", "fee", "--on", "b", "--payee", bucheon.Admin.Address, "--trust-latest")
	if strings.Count(out, "counterparty payee") != 1 || !strings.Contains(out, "payee "+bucheon.Admin.Address) {
		t.Fatalf("register-payee --on b --payee output:\n%s", out)
	}
	var pr ibcfeetypes.QueryPayeeResponse
	if err := testnet.Client(t, bucheon, devnet.RelayerKey).QueryGRPC(ctx, "/ibc.applications.fee.v1.Query/Payee",
		&ibcfeetypes.QueryPayeeRequest{ChannelId: fee.Dst.ChannelID, Relayer: bucheon.Relayer.Address}, &pr, 0); err != nil {
		t.Fatal(err)
	}
	if pr.PayeeAddress != bucheon.Admin.Address {
		t.Fatalf("bucheon-1 payee %q, want %s", pr.PayeeAddress, bucheon.Admin.Address)
	}

	if _, err := oh.Run("", "tx", "register-payee", "plain", "--trust-latest"); err == nil || !strings.Contains(err.Error(), "not fee-enabled") {
		t.Fatalf("register-payee on a plain ics20-1 path: %v", err)
	}
	if _, err := oh.Run("", "tx", "register-payee", "fee", "--on", "daegu-1", "--trust-latest"); err == nil || !strings.Contains(err.Error(), "seoul-1") {
		t.Fatalf("register-payee --on daegu-1: %v", err)
	}
}
