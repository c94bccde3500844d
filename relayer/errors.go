package relayer

import "errors"

var (
	// ErrNotTendermint is returned for a client that is not a 07-tendermint client.
	ErrNotTendermint = errors.New("not a 07-tendermint client")
	// ErrWrongClient is returned when a configured client tracks another chain than the path says.
	ErrWrongClient = errors.New("client tracks the wrong chain")
	// ErrHandshake is returned when a connection or channel handshake is in a state link cannot finish.
	ErrHandshake = errors.New("handshake cannot proceed")
	// ErrEventMissing is returned when a tx committed but did not emit the event that carries a new id.
	ErrEventMissing = errors.New("expected event missing from tx result")
	// ErrBadEvent is returned for a packet event that is malformed or contradicts the proven state.
	ErrBadEvent = errors.New("bad packet event")
	// ErrHeightAhead is returned when work names a source height the light client has not verified
	// (and does not reach within MaxHeightWait).
	ErrHeightAhead = errors.New("height beyond the verified latest")
)
