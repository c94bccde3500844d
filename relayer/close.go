package relayer

import (
	"context"
	"errors"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"

	"github.com/cityrelay/cityrelay/chains"
)

// ErrNotClosed is returned when a close is to be confirmed but the end said to be closed is not
// CLOSED at the verified header (a node or an event that says otherwise is not believed).
var ErrNotClosed = errors.New("channel end not closed")

// CloseChannel closes p's channel as an operator asks (`cityrelay tx close-channel`): a
// MsgChannelCloseInit on from (skipped when from's end is CLOSED already: a rerun finishes a half-done
// close), then a MsgChannelCloseConfirm on the other end with the proof of from's closed end. The
// application on from decides whether it may be closed (ICS-20 and ICS-27 refuse; a did channel
// closes only if ORDERED and signed by the chain's registry admin).
func (l *Linker) CloseChannel(ctx context.Context, p *Path, from *End) error {
	other := p.B
	if from == p.B {
		other = p.A
	} else if from != p.A {
		return fmt.Errorf("close %s: the end to close from is not one of the path's", p.Name)
	}
	if from.ChannelID == "" || other.ChannelID == "" {
		return fmt.Errorf("close %s: the path has no channel on both ends: %w", p.Name, ErrHandshake)
	}
	cf, err := l.channel(ctx, from)
	if err != nil {
		return err
	}
	if cf.State != channeltypes.CLOSED {
		signer, err := from.Chain.Address(ctx)
		if err != nil {
			return err
		}
		msg := channeltypes.NewMsgChannelCloseInit(from.PortID, from.ChannelID, signer)
		if err := l.commit(ctx, p, from, []sdk.Msg{msg}, stepTx{action: "channel close init", report: "channel close init " + from.PortID, id: from.ChannelID}); err != nil {
			return err
		}
	}
	_, err = l.ConfirmClose(ctx, p, from, other)
	return err
}

// ConfirmClose confirms on other the close of closed's end (begun by a MsgChannelCloseInit, or by
// a timeout on an ORDERED channel): when closed's end is CLOSED at its newest verified header and
// other's is not, it sends a MsgChannelCloseConfirm with the proof of the closed end. It reports
// whether it sent one; nothing to do (other's end closed already) is not an error, an end that is not
// closed is (ErrNotClosed).
func (l *Linker) ConfirmClose(ctx context.Context, p *Path, closed, other *End) (bool, error) {
	co, err := l.channel(ctx, other)
	if err != nil {
		return false, err
	}
	if co.State == channeltypes.CLOSED {
		return false, nil
	}
	if co.Counterparty.PortId != closed.PortID || co.Counterparty.ChannelId != closed.ChannelID {
		return false, fmt.Errorf("%s/%s on %s has counterparty %s/%s, not %s/%s: %w", other.PortID, other.ChannelID, other.ChainID(),
			co.Counterparty.PortId, co.Counterparty.ChannelId, closed.PortID, closed.ChannelID, ErrHandshake)
	}
	s, err := l.prove(ctx, other, closed, host.ChannelKey(closed.PortID, closed.ChannelID))
	if err != nil {
		return false, err
	}
	cc, err := closedChannel(s.proof, closed)
	if err != nil {
		return false, err
	}
	msg := channeltypes.NewMsgChannelCloseConfirmWithCounterpartyUpgradeSequence(other.PortID, other.ChannelID, s.proof.Bytes, s.height, s.signer, cc.UpgradeSequence)
	if err := l.commit(ctx, p, other, s.msgs(msg), stepTx{action: "channel close confirm", report: "channel close confirm " + other.PortID, id: other.ChannelID}); err != nil {
		return false, err
	}
	return true, nil
}

// closedChannel decodes the proven channel of e and checks that it is CLOSED.
func closedChannel(proof *chains.Proof, e *End) (*channeltypes.Channel, error) {
	if proof.Value == nil {
		return nil, fmt.Errorf("channel %s/%s does not exist on %s: %w", e.PortID, e.ChannelID, e.ChainID(), ErrNotClosed)
	}
	var c channeltypes.Channel
	if err := proto.Unmarshal(proof.Value, &c); err != nil {
		return nil, fmt.Errorf("decode channel %s/%s on %s: %w", e.PortID, e.ChannelID, e.ChainID(), err)
	}
	if c.State != channeltypes.CLOSED {
		return nil, fmt.Errorf("channel %s/%s on %s is %s: %w", e.PortID, e.ChannelID, e.ChainID(), c.State, ErrNotClosed)
	}
	return &c, nil
}

// ChannelState returns the state of e's channel end, proven at e's newest verified header.
func (l *Linker) ChannelState(ctx context.Context, e *End) (channeltypes.State, error) {
	c, err := l.channel(ctx, e)
	if err != nil {
		return channeltypes.UNINITIALIZED, err
	}
	return c.State, nil
}
