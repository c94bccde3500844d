package relayer

import "github.com/cityrelay/cityrelay/chains"

// EventSource is a chain whose block events can be read (pull mode): an optional capability, probed
// on an end's Chain.
type EventSource = chains.EventSource
