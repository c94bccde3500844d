package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains/devnet"
	"github.com/cityrelay/cityrelay/internal/testnet"
	"github.com/cityrelay/cityrelay/relayer"
	"github.com/cityrelay/cityrelay/relayer/config"
)

// TestClientReplaceFlow: on a linked did path seoul-1 <-> bucheon-1 with an attestation in flight,
// `client replace` first finds both clients active; once Bucheon's client of Seoul is frozen by
// misbehaviour, it says so (frozen at the height, proven), and prints the flow with the real ids. The
// printed commands are then run as printed: the new path keeping Seoul's active client, `tx link` (which
// stops at Bucheon's registry, as the flow says), the registry admin's register-city with the new client
// id, `tx link` again (the channel); an attestation then flows over the new channel.
func TestClientReplaceFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	net := testnet.Chains(t, "seoul-1", "bucheon-1")
	seoul, bucheon := net.Chain("seoul-1"), net.Chain("bucheon-1")
	h := operatorHome(t, []*devnet.Chain{seoul, bucheon}, testnet.HomeOptions{})
	h.Must("", "paths", "new", "sb", "--src", "seoul-1", "--dst", "bucheon-1")
	h.LinkCities(net, "sb")
	old := *h.Config().Paths["sb"]

	if out := h.Must("", "client", "replace", "sb"); !strings.Contains(out, "both clients of sb are active: nothing to replace") {
		t.Fatalf("client replace on a healthy path:\n%s", out)
	}

	// An attestation in flight on the old channel.
	admin := testnet.Client(t, seoul, devnet.AdminKey)
	var seq uint64
	if _, _, err := seoul.SendAttestations(ctx, admin, old.Src.ChannelID, &seq, 1); err != nil {
		t.Fatal(err)
	}

	// Freeze Bucheon's client of Seoul with misbehaviour (Seoul's validator signs two headers at one height).
	bq := testnet.Client(t, bucheon, devnet.Relayer2Key)
	typeURL, value, err := bq.ClientState(ctx, old.Dst.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	var cs ibctm.ClientState
	if typeURL != "/ibc.lightclients.tendermint.v1.ClientState" || cs.Unmarshal(value) != nil {
		t.Fatalf("client state %s", typeURL)
	}
	height := int64(cs.LatestHeight.RevisionHeight) + 1
	if err := seoul.WaitHeight(ctx, height+1); err != nil {
		t.Fatal(err)
	}
	mb, err := seoul.Misbehaviour(ctx, old.Dst.ClientID, cs.LatestHeight, height)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := clienttypes.NewMsgUpdateClient(old.Dst.ClientID, mb, bucheon.Relayer2.Address)
	if err != nil {
		t.Fatal(err)
	}
	res, err := bq.Send(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := bucheon.WaitHeight(ctx, res.Height+2); err != nil {
		t.Fatal(err)
	}

	out := h.Must("", "client", "replace", "sb")
	t.Logf("client replace sb:\n%s", out)
	for _, want := range []string{
		"bucheon-1  client " + old.Dst.ClientID + " of seoul-1: FROZEN: misbehaviour of seoul-1",
		"seoul-1    client " + old.Src.ClientID + " of bucheon-1: active",
		"Replacing bucheon-1's client " + old.Dst.ClientID + " of seoul-1 (path sb)",
		"bucheon-1's registry now names " + old.Dst.ClientID + " for seoul-1",
		"seoul-1 -> bucheon-1: 1 sent and not received (sequences 1)",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("client replace sb does not say %q:\n%s", want, out)
		}
	}

	// Run the printed flow.
	cmds := regexp.MustCompile(`(?m)^ {5}(cityrelay|citychaind) (.+)$`).FindAllStringSubmatch(out, -1)
	keep := regexp.MustCompile(`\[paths\.(\S+)\.(src|dst)\] client_id = "([^"]+)"`).FindStringSubmatch(out)
	if len(cmds) != 4 || keep == nil {
		t.Fatalf("want 4 commands and a client to keep in the flow, got %q, %q", cmds, keep)
	}
	var newPath string
	linked := 0
	for _, c := range cmds {
		args := strings.Fields(c[2])
		switch {
		case c[1] == "cityrelay" && args[0] == "paths":
			h.Must("", args...)
			newPath = args[2]
			if keep[1] != newPath || keep[2] != "src" || keep[3] != old.Src.ClientID {
				t.Fatalf("the flow keeps %q", keep)
			}
			editConfig(t, h.Dir, func(cfg *config.Config) { cfg.Paths[newPath].Src.ClientID = keep[3] })
		case c[1] == "cityrelay" && args[0] == "tx" && args[1] == "link" && linked == 0:
			linked++
			if _, err := h.Run("", args...); !errors.Is(err, relayer.ErrCityNotRegistered) {
				t.Fatalf("first link of %s: want it to stop at bucheon-1's registry, got %v", newPath, err)
			}
		case c[1] == "citychaind":
			// citychaind tx did register-city seoul-1 <new client id> --from <registry-admin> --chain-id bucheon-1
			pc := h.Config().Paths[newPath]
			if args[3] != "seoul-1" || args[len(args)-1] != "bucheon-1" || pc.Dst.ClientID == "" || pc.Dst.ClientID == old.Dst.ClientID ||
				pc.Src.ClientID != old.Src.ClientID {
				t.Fatalf("registry step %q with the new path's ids %+v", c[0], pc)
			}
			at, err := bucheon.RegisterCity(ctx, args[3], pc.Dst.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			if err := bucheon.WaitHeight(ctx, at+1); err != nil {
				t.Fatal(err)
			}
		case c[1] == "cityrelay" && args[0] == "tx" && args[1] == "link":
			h.Must("", args...)
		default:
			t.Fatalf("unexpected command in the flow: %q", c[0])
		}
	}
	pc := h.Config().Paths[newPath]
	if pc.Src.ChannelID == "" || pc.Src.ChannelID == old.Src.ChannelID || pc.Src.ConnectionID == old.Src.ConnectionID {
		t.Fatalf("new path %s: %+v (old %+v)", newPath, pc, old)
	}

	// An attestation flows over the new channel.
	if _, _, err := seoul.SendAttestations(ctx, admin, pc.Src.ChannelID, &seq, 1); err != nil {
		t.Fatal(err)
	}
	if out := h.Must("", "tx", "flush", newPath); !strings.Contains(out, "seoul-1 -> bucheon-1: 1 packets pending, 1 received; 1 acknowledgements pending, 1 acknowledged") {
		t.Fatalf("flush %s:\n%s", newPath, out)
	}
}
