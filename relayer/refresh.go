package relayer

import (
	"context"
	"fmt"
	"time"

	"github.com/cosmos/gogoproto/proto"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"
)

// ClientExpiry returns how long dst's client of src has left before its latest consensus state is
// older than the trusting period (negative: expired), and the trusting period.
func ClientExpiry(ctx context.Context, dst *End, now time.Time) (left, trusting time.Duration, err error) {
	cs, err := clientState(ctx, dst.Chain, dst.ClientID)
	if err != nil {
		return 0, 0, err
	}
	_, value, err := dst.Chain.ConsensusState(ctx, dst.ClientID, cs.LatestHeight)
	if err != nil {
		return 0, 0, fmt.Errorf("consensus state of %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	var cons ibctm.ConsensusState
	if err := proto.Unmarshal(value, &cons); err != nil {
		return 0, 0, fmt.Errorf("decode consensus state of %s: %w", dst.ClientID, err)
	}
	return cons.Timestamp.Add(cs.TrustingPeriod).Sub(now), cs.TrustingPeriod, nil
}

// RefreshClient updates dst's client of src when less than fraction of its trusting period is left,
// so a quiet path's client never expires. It reports the time left after any update.
func RefreshClient(ctx context.Context, dst, src *End, fraction float64, now time.Time) (bool, time.Duration, error) {
	left, trusting, err := ClientExpiry(ctx, dst, now)
	if err != nil {
		return false, 0, err
	}
	if left > time.Duration(fraction*float64(trusting)) {
		return false, left, nil
	}
	if _, _, err := UpdateClient(ctx, dst, src); err != nil {
		return false, left, fmt.Errorf("refresh client %s on %s: %w", dst.ClientID, dst.ChainID(), err)
	}
	left, _, err = ClientExpiry(ctx, dst, time.Now())
	return true, left, err
}
