package evm

import (
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// DefaultMaxClockDrift is MaxClockDrift when it is zero: QBFT block times are whole seconds set by the
// proposer, and validators refuse blocks more than a block period ahead; 10s covers both and an
// unsynchronised relayer clock.
const DefaultMaxClockDrift = 10 * time.Second

// Config is an EVM city chain as the relayer reaches and trusts it.
type Config struct {
	// ChainID is the chain's EIP-155 chain id; every node must serve it (eth_chainId).
	ChainID uint64
	// RPC is the primary node's JSON-RPC address: headers, proofs and logs come from it.
	RPC string
	// Witnesses are JSON-RPC addresses of other nodes every verified header is compared with. With
	// none, a fork served by the primary alone cannot be detected.
	Witnesses []string
	// Registry is the CityAttestationRegistry contract's address.
	Registry common.Address
	// RegistryCodeHash is the keccak256 of the registry's runtime code, pinned: a proof of an account
	// with other code is refused.
	RegistryCodeHash common.Hash
	// TrustingPeriod is how long a verified header may be used to verify newer ones. It must be shorter
	// than the time in which a third of the validators could leave undetected.
	TrustingPeriod time.Duration
	// MaxClockDrift is how far ahead of now a header's time may be (zero: DefaultMaxClockDrift).
	MaxClockDrift time.Duration
	// StoreDir holds the newest verified header (one file per chain), so a restart resumes from it.
	StoreDir string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Validate checks the config; errors name the field.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, fmt.Errorf("evm config: %s: %s", field, msg)) }
	if c.ChainID == 0 {
		bad("ChainID", "required")
	}
	if c.RPC == "" {
		bad("RPC", "required")
	}
	for i, w := range c.Witnesses {
		if w == "" {
			bad(fmt.Sprintf("Witnesses[%d]", i), "empty")
		}
	}
	if c.Registry == (common.Address{}) {
		bad("Registry", "required")
	}
	if c.RegistryCodeHash == (common.Hash{}) {
		bad("RegistryCodeHash", "required")
	}
	if c.TrustingPeriod <= 0 {
		bad("TrustingPeriod", "must be positive")
	}
	if c.MaxClockDrift < 0 {
		bad("MaxClockDrift", "must not be negative")
	}
	if c.StoreDir == "" {
		bad("StoreDir", "required")
	}
	return errors.Join(errs...)
}

// withDefaults fills the fields whose zero value means a default.
func (c Config) withDefaults() Config {
	if c.MaxClockDrift == 0 {
		c.MaxClockDrift = DefaultMaxClockDrift
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
