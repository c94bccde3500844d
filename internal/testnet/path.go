package testnet

import (
	"context"
	"testing"
	"time"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// LinkTimeout bounds linking a path (clients, connection, registrations, channel).
const LinkTimeout = 5 * time.Minute

// LinkPath links p on net as the relayer's link does (proofs checked against verified app hashes), with
// the devnet's registry admins recognising each city's new client on a did path.
func LinkPath(tb testing.TB, net *devnet.Devnet, p *relayer.Path) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), LinkTimeout)
	defer cancel()
	if err := (&relayer.Linker{Check: light.VerifyProofAgainstAppHash, Register: net.RegisterCity}).Link(ctx, p); err != nil {
		tb.Fatalf("link %s: %v", p.Name, err)
	}
}
