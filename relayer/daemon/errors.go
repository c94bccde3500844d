package daemon

import "errors"

// ErrUnknownPath is returned by Run when Options.Paths names a path the config does not have; the
// error names each such path.
var ErrUnknownPath = errors.New("no such path in the config")
