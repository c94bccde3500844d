package main

import (
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
)

// TestCloseChannelCLI: an operator links an ORDERED did path and closes it with `tx close-channel`
// (close init on Seoul, signed with a key that is Seoul's registry admin; close confirm on Bucheon);
// both ends are then CLOSED, and a rerun does nothing. A bad --from is refused with the ends named.
func TestCloseChannelCLI(t *testing.T) {
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	oh := operatorHome(t, []*devnet.Chain{seoul, bucheon}, testnet.HomeOptions{Mnemonic: func(c *devnet.Chain) string {
		if c == seoul {
			return c.Admin.Mnemonic // only the registry admin may close a did channel
		}
		return c.Relayer.Mnemonic
	}})
	oh.Must("", "paths", "new", "ordered", "--src", "seoul-1", "--dst", "bucheon-1", "--order", "ordered")
	oh.LinkCities(net, "ordered")
	if out := oh.Must("", "query", "channels", "ordered"); strings.Count(out, "STATE_OPEN") != 2 {
		t.Fatalf("channels after link:\n%s", out)
	}
	if _, err := oh.Run("", "tx", "close-channel", "ordered", "--from", "daegu-1"); err == nil || !strings.Contains(err.Error(), "seoul-1") {
		t.Fatalf("close from a chain not on the path: %v", err)
	}
	out := oh.Must("", "tx", "close-channel", "ordered")
	if !strings.Contains(out, "channel close init") || !strings.Contains(out, "channel close confirm") || !strings.Contains(out, "closed") {
		t.Fatalf("close-channel output:\n%s", out)
	}
	if out := oh.Must("", "query", "channels", "ordered"); strings.Count(out, "STATE_CLOSED") != 2 {
		t.Fatalf("channels after close:\n%s", out)
	}
	if out := oh.Must("", "tx", "close-channel", "ordered"); strings.Contains(out, "close init") || strings.Contains(out, "close confirm") {
		t.Fatalf("a rerun of a closed path did something:\n%s", out)
	}
}
