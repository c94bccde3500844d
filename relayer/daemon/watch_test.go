package daemon

import (
	"testing"

	"github.com/cityrelay/cityrelay/chains"
)

// A tx the tx index shows sent by our key alone is skipped (our own update); one with any other
// sender, or with no sender shown, is read.
func TestOnlySender(t *testing.T) {
	msg := func(sender string) chains.Event {
		return chains.Event{Type: "message", Attributes: []chains.Attribute{{Key: "action", Value: "/ibc.core.client.v1.MsgUpdateClient"}, {Key: "sender", Value: sender}}}
	}
	update := chains.Event{Type: "update_client", Attributes: []chains.Attribute{{Key: "client_id", Value: "07-tendermint-0"}}}
	for _, tc := range []struct {
		name   string
		events []chains.Event
		want   bool
	}{
		{"ours", []chains.Event{msg("city1us"), update}, true},
		{"ours, several messages", []chains.Event{msg("city1us"), update, msg("city1us")}, true},
		{"another's", []chains.Event{msg("city1them"), update}, false},
		{"ours and another's", []chains.Event{msg("city1us"), update, msg("city1them")}, false},
		{"no sender shown", []chains.Event{update}, false},
	} {
		if got := onlySender(tc.events, "city1us"); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
