package daemon

import "errors"

// ErrUnknownPath is returned by Run when Options.Paths names a path the config does not have; the
// error names each such path.
var ErrUnknownPath = errors.New("no such path in the config")

// ErrBusy is returned for a verification the daemon will not run now: over the budget of
// verifications a second (verify.max_per_second) or no slot free in time. HTTP answers 503 with
// Retry-After.
var ErrBusy = errors.New("too many verifications")
