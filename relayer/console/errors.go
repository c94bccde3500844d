package console

import "errors"

// Errors of the console's handlers.
var (
	// ErrUnauthorized: an admin action without the admin token, with a wrong one, or with admin
	// actions disabled (no token configured).
	ErrUnauthorized = errors.New("admin token required")
	// ErrBadQuery: a search or form with missing or malformed fields.
	ErrBadQuery = errors.New("bad query")
)
