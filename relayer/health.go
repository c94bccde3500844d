package relayer

import (
	"context"
	"time"

	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
)

// ClientHealth is a client's status as ibc-go judges it, read with proofs from Dst's state at a
// verified header: frozen (misbehaviour was submitted), expired (its newest consensus state is a
// trusting period or more older than Dst's verified header), or active.
type ClientHealth struct {
	Chain, ClientID, Of string // ClientID on Chain tracks Of
	Status              ibcexported.Status
	LatestHeight        clienttypes.Height
	FrozenHeight        clienttypes.Height // non-zero when frozen
	// ConsensusTime is the time of the client's newest state of Of; ExpiresAt is ConsensusTime plus
	// the trusting period (in the past when expired).
	ConsensusTime, ExpiresAt time.Time
	TrustingPeriod           time.Duration
	// VerifiedHeight and VerifiedTime are Dst's verified header the states were proven at.
	VerifiedHeight int64
	VerifiedTime   time.Time
}

// Health reads the client's status at Dst's latest verified header.
func (c Client) Health(ctx context.Context) (*ClientHealth, error) {
	cs, lb, err := c.committed(ctx)
	if err != nil {
		return nil, err
	}
	h := &ClientHealth{Chain: c.Dst.ChainID(), ClientID: c.Dst.ClientID, Of: c.Src.ChainID(), LatestHeight: cs.LatestHeight,
		FrozenHeight: cs.FrozenHeight, TrustingPeriod: cs.TrustingPeriod, VerifiedHeight: lb.Height, VerifiedTime: lb.Time}
	cons, err := c.consensusState(ctx, lb, cs.LatestHeight)
	if err != nil {
		return nil, err
	}
	h.ConsensusTime = cons.Timestamp
	h.ExpiresAt = cons.Timestamp.Add(cs.TrustingPeriod)
	switch {
	case !cs.FrozenHeight.IsZero():
		h.Status = ibcexported.Frozen
	case !h.ExpiresAt.After(lb.Time):
		h.Status = ibcexported.Expired
	default:
		h.Status = ibcexported.Active
	}
	return h, nil
}
