package testnet

import (
	"context"
	"testing"
	"time"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/relayer"
)

// End is an end of a path on chain c's port, relaying with the devnet's relayer key and a light client
// of c through its own RPC address.
func End(tb testing.TB, c *devnet.Chain, port string) *relayer.End {
	tb.Helper()
	return &relayer.End{Chain: Client(tb, c, devnet.RelayerKey), Light: LightOf(tb, c), PortID: port}
}

// Star links every member of net to the hub on the did port, one path each (the member is A, the hub
// is B), with each registry recognising the other's new client: the association's hub and spoke, no
// path between members; each member's registry marks the hub as a hub. The paths are linked one after the other (they share the hub's relayer key)
// and returned by member.
func Star(tb testing.TB, net *devnet.Devnet, hub string, members ...string) map[string]*relayer.Path {
	tb.Helper()
	h := net.Chain(hub)
	if h == nil {
		tb.Fatalf("star: devnet has no hub %s", hub)
	}
	paths := make(map[string]*relayer.Path, len(members))
	for _, m := range members {
		c := net.Chain(m)
		if c == nil {
			tb.Fatalf("star: devnet has no member %s", m)
		}
		p := &relayer.Path{Name: m + "-" + hub, A: End(tb, c, didtypes.PortID), B: End(tb, h, didtypes.PortID), Version: didtypes.Version,
			Order: channeltypes.UNORDERED}
		LinkPath(tb, net, p)
		// The member's registry admin marks the hub as one (what `cityrelay hub onboard` prints).
		if _, err := Client(tb, c, devnet.AdminKey).Send(context.Background(), &didtypes.MsgRegisterHub{Admin: c.Admin.Address, ChainId: hub}); err != nil {
			tb.Fatalf("star: %s marks %s as a hub: %v", m, hub, err)
		}
		paths[m] = p
	}
	return paths
}

// UpdateClientPast waits until src holds a header committing to its state at height after, updates c to
// src's latest header, waits until dst (c's chain) holds a header committing to the update, and
// returns the update's height on dst.
func UpdateClientPast(t testing.TB, src, dst *devnet.Chain, c relayer.Client, after int64) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := src.WaitHeight(ctx, after+2); err != nil {
		t.Fatal(err)
	}
	h, tx, err := c.Update(ctx)
	if err != nil {
		t.Fatalf("update %s on %s: %v", c.Dst.ClientID, c.Dst.ChainID(), err)
	}
	if h <= after {
		t.Fatalf("client %s on %s updated to %d, not past %d", c.Dst.ClientID, c.Dst.ChainID(), h, after)
	}
	if tx == nil {
		t.Fatalf("client %s on %s already at %d", c.Dst.ClientID, c.Dst.ChainID(), h)
	}
	// A header of dst that commits to the state after the update.
	if err := dst.WaitHeight(ctx, tx.Height+2); err != nil {
		t.Fatal(err)
	}
	return tx.Height
}
