package main

import (
	"testing"

	"github.com/cityrelay/cityrelay/internal/testnet"
)

// TestMain removes the binaries the tests built (testnet.Build) when they end.
func TestMain(m *testing.M) { testnet.Main(m) }
