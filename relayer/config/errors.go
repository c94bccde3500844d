package config

import (
	"errors"
	"fmt"
)

// ErrUnknownKey is returned for a key the config does not know (often a typo).
var ErrUnknownKey = errors.New("unknown key")

// FieldError is a config error at a key, with the line where the key is (0 if unknown).
type FieldError struct {
	File string
	Line int
	Key  string
	Err  error
}

func (e *FieldError) Error() string {
	switch {
	case e.Line > 0 && e.Key != "":
		return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Key, e.Err)
	case e.Key != "":
		return fmt.Sprintf("%s: %s: %v", e.File, e.Key, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error { return e.Err }
