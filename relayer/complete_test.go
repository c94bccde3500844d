package relayer

import (
	"context"
	"errors"
	"reflect"
	"testing"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// listingChain is a chain whose node lists channels (only ChainID and the listing are used).
type listingChain struct {
	Chain // nil: any other call panics, which a test of Pending must not make
	id    string
	conn  string
	chans []channeltypes.IdentifiedChannel
}

func (c *listingChain) ChainID() string { return c.id }
func (c *listingChain) ConnectionChannels(_ context.Context, conn string) ([]channeltypes.IdentifiedChannel, error) {
	if conn != c.conn {
		return nil, nil
	}
	return c.chans, nil
}
func (c *listingChain) Channels(context.Context) ([]channeltypes.IdentifiedChannel, error) {
	return c.chans, nil
}

func ich(port, id string, st channeltypes.State, cpPort, cpID string) channeltypes.IdentifiedChannel {
	return channeltypes.IdentifiedChannel{PortId: port, ChannelId: id, State: st, Counterparty: channeltypes.Counterparty{PortId: cpPort, ChannelId: cpID}}
}

// TestPendingHandshakes: which channel handshakes on a path's connection are others' to complete, read
// from both chains' listings.
func TestPendingHandshakes(t *testing.T) {
	a := &listingChain{id: "seoul-1", conn: "connection-0", chans: []channeltypes.IdentifiedChannel{
		ich("transfer", "channel-0", channeltypes.OPEN, "transfer", "channel-0"),     // open both ways: nothing to do
		ich("transfer", "channel-1", channeltypes.INIT, "transfer", ""),              // started here, no try yet
		ich("icahost", "channel-2", channeltypes.INIT, "icacontroller-x", ""),        // started here, answered by a try on B
		ich("transfer", "channel-3", channeltypes.TRYOPEN, "transfer", "channel-7"),  // a try here for B's init
		ich("transfer", "channel-4", channeltypes.OPEN, "transfer", "channel-8"),     // acked here, B still TRYOPEN
		ich("transfer", "channel-5", channeltypes.CLOSED, "transfer", "channel-9"),   // closed: not a handshake
		ich("transfer", "channel-6", channeltypes.TRYOPEN, "transfer", "channel-10"), // a try here that B acked: A needs the confirm
	}}
	b := &listingChain{id: "bucheon-1", conn: "connection-3", chans: []channeltypes.IdentifiedChannel{
		ich("transfer", "channel-0", channeltypes.OPEN, "transfer", "channel-0"),
		ich("icacontroller-x", "channel-5", channeltypes.TRYOPEN, "icahost", "channel-2"),
		ich("transfer", "channel-7", channeltypes.INIT, "transfer", ""),
		ich("transfer", "channel-8", channeltypes.TRYOPEN, "transfer", "channel-4"),
		ich("transfer", "channel-10", channeltypes.OPEN, "transfer", "channel-6"),
		ich("did", "channel-11", channeltypes.INIT, "did", ""), // started on B, no try on A
	}}
	p := &Path{Name: "p", A: &End{Chain: a, ConnectionID: "connection-0"}, B: &End{Chain: b, ConnectionID: "connection-3"}}
	got, err := (&Completer{}).Pending(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Handshake{
		{APort: "did", AChannel: "", BPort: "did", BChannel: "channel-11"},
		{APort: "icahost", AChannel: "channel-2", BPort: "icacontroller-x", BChannel: "channel-5"},
		{APort: "transfer", AChannel: "channel-1", BPort: "transfer", BChannel: ""},
		{APort: "transfer", AChannel: "channel-3", BPort: "transfer", BChannel: "channel-7"},
		{APort: "transfer", AChannel: "channel-4", BPort: "transfer", BChannel: "channel-8"},
		{APort: "transfer", AChannel: "channel-6", BPort: "transfer", BChannel: "channel-10"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("pending:\n got %v\nwant %v", got, want)
	}

	// A handshake a filter refuses is not started: Complete returns ErrFiltered before any read.
	c := &Completer{Allowed: func(chain, port, channel string) bool { return port != "icahost" }}
	if _, err := c.Complete(context.Background(), p, want[1], "p-icahost-channel-2"); !errors.Is(err, ErrFiltered) {
		t.Fatalf("filtered handshake: %v, want ErrFiltered", err)
	}
	// A path without a connection has nothing to complete.
	if _, err := (&Completer{}).Pending(context.Background(), &Path{Name: "q", A: &End{Chain: a}, B: &End{Chain: b}}); !errors.Is(err, ErrHandshake) {
		t.Fatalf("no connection: %v, want ErrHandshake", err)
	}
}
