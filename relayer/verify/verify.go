// Package verify checks a city's attestations on any chain without trusting its RPC node: the
// attestation is read with an ICS-23 proof, and the proof is checked against the app hash of a header
// the light client verified.
package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cosmos/gogoproto/proto"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer"
)

// Status is the outcome of a verification.
type Status string

// Outcomes. Only StatusValid means the credential may be accepted.
const (
	StatusValid     Status = "valid"
	StatusRevoked   Status = "revoked"
	StatusSuspended Status = "suspended"
	StatusExpired   Status = "expired"
	StatusNotYet    Status = "not-yet-valid"
	// StatusAbsent: the chain proved it holds no such attestation.
	StatusAbsent Status = "absent"
	// StatusPending: only a status change has arrived so far (a tombstone), not the attestation.
	StatusPending Status = "pending"
)

// ErrCouldNotVerify wraps every failure to reach a verified answer (unreachable RPC, a proof that
// does not match the verified app hash, a malformed id): the answer is unknown, not negative.
var ErrCouldNotVerify = errors.New("could not verify")

// Result is a verified answer about one attestation.
type Result struct {
	Status      Status                `json:"status"`
	Chain       string                `json:"chain"`
	Origin      string                `json:"origin"`
	ID          string                `json:"id"`
	Attestation *didtypes.Attestation `json:"attestation,omitempty"`
	// ReceivedHeight is the chain height at which the attestation arrived (0 on its origin chain).
	ReceivedHeight int64 `json:"received_height,omitempty"`
	// ProofHeight is the height whose state was read; HeaderHeight (= ProofHeight+1) is the verified
	// header whose app hash the proof was checked against.
	ProofHeight  int64  `json:"proof_height"`
	HeaderHeight int64  `json:"header_height"`
	AppHash      string `json:"app_hash"`
}

// Attestation verifies the attestation id of origin as chain knows it: on the origin chain itself its
// local record, elsewhere the foreign attestation received over IBC. now judges the validity window.
func Attestation(ctx context.Context, chain relayer.Chain, lc relayer.HeaderVerifier, origin, id string, now time.Time) (*Result, error) {
	if err := didtypes.ValidateChainID(origin); err != nil {
		return nil, fmt.Errorf("%w: origin %q: %v", ErrCouldNotVerify, origin, err)
	}
	if len(id) != 64 || !isHex(id) {
		return nil, fmt.Errorf("%w: attestation id %q must be 64 hex characters", ErrCouldNotVerify, id)
	}
	lb, err := lc.VerifyLatest(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: verify latest header of %s: %v", ErrCouldNotVerify, chain.ChainID(), err)
	}
	local := origin == chain.ChainID()
	key := didtypes.ForeignAttestationKey(origin, id)
	if local {
		key = didtypes.AttestationKey(id)
	}
	p, err := chain.QueryProven(ctx, didtypes.StoreKey, key, lb.Height-1)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s on %s: %v", ErrCouldNotVerify, key, chain.ChainID(), err)
	}
	if err := light.VerifyProofAgainstAppHash(lb.AppHash, didtypes.StoreKey, key, p.Value, p.ProofOps); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCouldNotVerify, err)
	}
	r := &Result{Chain: chain.ChainID(), Origin: origin, ID: id, ProofHeight: p.QueryHeight, HeaderHeight: lb.Height,
		AppHash: fmt.Sprintf("%X", lb.AppHash)}
	if p.Value == nil {
		r.Status = StatusAbsent
		return r, nil
	}
	var a didtypes.Attestation
	if local {
		if err := proto.Unmarshal(p.Value, &a); err != nil {
			return nil, fmt.Errorf("%w: decode attestation: %v", ErrCouldNotVerify, err)
		}
	} else {
		var f didtypes.ForeignAttestation
		if err := proto.Unmarshal(p.Value, &f); err != nil {
			return nil, fmt.Errorf("%w: decode foreign attestation: %v", ErrCouldNotVerify, err)
		}
		a, r.ReceivedHeight = f.Attestation, f.ReceivedHeight
		if f.Tombstone {
			r.Attestation, r.Status = &a, StatusPending
			if a.Status == didtypes.ATTESTATION_STATUS_REVOKED {
				r.Status = StatusRevoked
			}
			return r, nil
		}
	}
	r.Attestation = &a
	r.Status = status(&a, now)
	return r, nil
}

func status(a *didtypes.Attestation, now time.Time) Status {
	switch {
	case a.Status == didtypes.ATTESTATION_STATUS_REVOKED:
		return StatusRevoked
	case a.Status == didtypes.ATTESTATION_STATUS_SUSPENDED:
		return StatusSuspended
	case now.Unix() >= a.ValidUntil:
		return StatusExpired
	case now.Unix() < a.ValidFrom:
		return StatusNotYet
	}
	return StatusValid
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
