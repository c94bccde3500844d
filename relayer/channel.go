package relayer

import (
	"context"
	"fmt"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
)

// linkChannel drives the channel handshake to OPEN on both ends.
func (l *Linker) linkChannel(ctx context.Context, p *Path) error {
	h := &handshake[*channeltypes.Channel, channeltypes.State]{kind: "channel", read: l.channel,
		ids: func(e *End) (string, string) { return e.ChannelID, e.PortID + "/" + e.ChannelID }, init: l.chanInit, try: l.chanTry, ack: l.chanAck, confirm: l.chanConfirm}
	return h.drive(ctx, p)
}

// channel reads an end's channel, proven against a verified app hash.
func (l *Linker) channel(ctx context.Context, e *End) (*channeltypes.Channel, error) {
	p, _, err := e.verifiedRead(ctx, l.Check, ibcexported.StoreKey, host.ChannelKey(e.PortID, e.ChannelID))
	if err != nil {
		return nil, err
	}
	if p.Value == nil {
		return nil, fmt.Errorf("channel %s/%s does not exist on %s: %w", e.PortID, e.ChannelID, e.ChainID(), ErrHandshake)
	}
	var c channeltypes.Channel
	if err := proto.Unmarshal(p.Value, &c); err != nil {
		return nil, fmt.Errorf("decode channel %s/%s on %s: %w", e.PortID, e.ChannelID, e.ChainID(), err)
	}
	return &c, nil
}

func (l *Linker) chanInit(ctx context.Context, p *Path, x, y *End) error {
	signer, err := x.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := channeltypes.NewMsgChannelOpenInit(x.PortID, p.Version, p.Order, []string{x.ConnectionID}, y.PortID, signer)
	return l.commit(ctx, p, x, []sdk.Msg{msg}, stepTx{action: "channel open init", report: "channel open init " + x.PortID,
		event: channeltypes.EventTypeChannelOpenInit, attr: channeltypes.AttributeKeyChannelID, setID: func(id string) { x.ChannelID = id }})
}

// chanTry opens y's side of x's INIT channel.
func (l *Linker) chanTry(ctx context.Context, p *Path, x, y *End, cx *channeltypes.Channel) error {
	s, err := l.prove(ctx, y, x, host.ChannelKey(x.PortID, x.ChannelID))
	if err != nil {
		return err
	}
	msg := channeltypes.NewMsgChannelOpenTry(y.PortID, p.Version, cx.Ordering, []string{y.ConnectionID}, x.PortID, x.ChannelID,
		cx.Version, s.proof.Bytes, s.height, s.signer)
	return l.commit(ctx, p, y, s.msgs(msg), stepTx{action: "channel open try", report: "channel open try " + y.PortID,
		event: channeltypes.EventTypeChannelOpenTry, attr: channeltypes.AttributeKeyChannelID, setID: func(id string) { y.ChannelID = id }})
}

// chanAck opens x's INIT channel, y being TRYOPEN.
func (l *Linker) chanAck(ctx context.Context, p *Path, x, y *End, cy *channeltypes.Channel) error {
	s, err := l.prove(ctx, x, y, host.ChannelKey(y.PortID, y.ChannelID))
	if err != nil {
		return err
	}
	msg := channeltypes.NewMsgChannelOpenAck(x.PortID, x.ChannelID, y.ChannelID, cy.Version, s.proof.Bytes, s.height, s.signer)
	return l.commit(ctx, p, x, s.msgs(msg), stepTx{action: "channel open ack", report: "channel open ack " + x.PortID, id: x.ChannelID})
}

// chanConfirm opens y's TRYOPEN channel, x being OPEN.
func (l *Linker) chanConfirm(ctx context.Context, p *Path, x, y *End) error {
	s, err := l.prove(ctx, y, x, host.ChannelKey(x.PortID, x.ChannelID))
	if err != nil {
		return err
	}
	msg := channeltypes.NewMsgChannelOpenConfirm(y.PortID, y.ChannelID, s.proof.Bytes, s.height, s.signer)
	return l.commit(ctx, p, y, s.msgs(msg), stepTx{action: "channel open confirm", report: "channel open confirm " + y.PortID, id: y.ChannelID})
}
