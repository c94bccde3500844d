package relayer

import (
	"testing"

	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
)

// TestHandshakeStatesAgree: one state machine drives both handshakes, reading states by number, so
// the connection and channel enums must number INIT, TRYOPEN and OPEN alike (ICS-3 and ICS-4 do).
func TestHandshakeStatesAgree(t *testing.T) {
	for _, c := range []struct {
		name    string
		conn    connectiontypes.State
		channel channeltypes.State
		want    int32
	}{
		{"init", connectiontypes.INIT, channeltypes.INIT, stateInit},
		{"tryopen", connectiontypes.TRYOPEN, channeltypes.TRYOPEN, stateTryOpen},
		{"open", connectiontypes.OPEN, channeltypes.OPEN, stateOpen},
	} {
		if int32(c.conn) != c.want || int32(c.channel) != c.want {
			t.Errorf("%s: connection %d, channel %d, handshake %d", c.name, c.conn, c.channel, c.want)
		}
		if got := (&channeltypes.Channel{State: c.channel}).GetState(); got != c.want {
			t.Errorf("%s: channel GetState %d, want %d", c.name, got, c.want)
		}
		if got := (&connectiontypes.ConnectionEnd{State: c.conn}).GetState(); got != c.want {
			t.Errorf("%s: connection GetState %d, want %d", c.name, got, c.want)
		}
	}
}
