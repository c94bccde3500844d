package relayer

import (
	"context"
	"fmt"

	"github.com/cosmos/gogoproto/proto"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
)

// linkChannel drives the channel handshake to OPEN on both ends.
func (l *Linker) linkChannel(ctx context.Context, p *Path) error {
	for range 6 {
		x, y := p.A, p.B
		if x.ChannelID == "" && y.ChannelID != "" {
			x, y = y, x
		}
		if x.ChannelID == "" {
			if err := l.chanInit(ctx, p, x, y); err != nil {
				return err
			}
			continue
		}
		cx, err := l.channel(ctx, x)
		if err != nil {
			return err
		}
		if y.ChannelID == "" {
			if cx.State != channeltypes.INIT {
				return fmt.Errorf("channel %s/%s on %s is %s but %s has none: %w", x.PortID, x.ChannelID, x.ChainID(), cx.State, y.ChainID(), ErrHandshake)
			}
			if err := l.chanTry(ctx, p, x, y, cx); err != nil {
				return err
			}
			continue
		}
		cy, err := l.channel(ctx, y)
		if err != nil {
			return err
		}
		switch {
		case cx.State == channeltypes.OPEN && cy.State == channeltypes.OPEN:
			return nil
		case cx.State == channeltypes.INIT && cy.State == channeltypes.TRYOPEN:
			err = l.chanAck(ctx, x, y, cy)
		case cx.State == channeltypes.TRYOPEN && cy.State == channeltypes.INIT:
			err = l.chanAck(ctx, y, x, cx)
		case cx.State == channeltypes.OPEN && cy.State == channeltypes.TRYOPEN:
			err = l.chanConfirm(ctx, x, y)
		case cx.State == channeltypes.TRYOPEN && cy.State == channeltypes.OPEN:
			err = l.chanConfirm(ctx, y, x)
		default:
			return fmt.Errorf("channels %s on %s (%s) and %s on %s (%s): %w", x.ChannelID, x.ChainID(), cx.State,
				y.ChannelID, y.ChainID(), cy.State, ErrHandshake)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("channel handshake of %s did not finish: %w", p.Name, ErrHandshake)
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
	res, err := x.Chain.Send(ctx, msg)
	if err != nil {
		return fmt.Errorf("channel open init on %s: %w", x.ChainID(), err)
	}
	id, err := eventAttr(res.Events, channeltypes.EventTypeChannelOpenInit, channeltypes.AttributeKeyChannelID)
	if err != nil {
		return fmt.Errorf("channel open init on %s (tx %s): %w", x.ChainID(), res.Hash, err)
	}
	x.ChannelID = id
	if err := l.save(p); err != nil {
		return err
	}
	return l.done(ctx, x, Step{Chain: x.ChainID(), Action: "channel open init " + x.PortID, ID: id, Height: res.Height, TxHash: res.Hash})
}

func (l *Linker) chanTry(ctx context.Context, p *Path, x, y *End, cx *channeltypes.Channel) error {
	lb, err := x.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", x.ChainID(), err)
	}
	update, lb, err := updateTo(ctx, y, x, lb)
	if err != nil {
		return err
	}
	pch, err := x.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.ChannelKey(x.PortID, x.ChannelID))
	if err != nil {
		return err
	}
	signer, err := y.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := channeltypes.NewMsgChannelOpenTry(y.PortID, p.Version, cx.Ordering, []string{y.ConnectionID}, x.PortID, x.ChannelID,
		cx.Version, pch.Bytes, x.height(lb.Height), signer)
	res, err := y.Chain.Send(ctx, withUpdate(update, msg)...)
	if err != nil {
		return fmt.Errorf("channel open try on %s: %w", y.ChainID(), err)
	}
	id, err := eventAttr(res.Events, channeltypes.EventTypeChannelOpenTry, channeltypes.AttributeKeyChannelID)
	if err != nil {
		return fmt.Errorf("channel open try on %s (tx %s): %w", y.ChainID(), res.Hash, err)
	}
	y.ChannelID = id
	if err := l.save(p); err != nil {
		return err
	}
	return l.done(ctx, y, Step{Chain: y.ChainID(), Action: "channel open try " + y.PortID, ID: id, Height: res.Height, TxHash: res.Hash})
}

func (l *Linker) chanAck(ctx context.Context, x, y *End, cy *channeltypes.Channel) error {
	lb, err := y.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", y.ChainID(), err)
	}
	update, lb, err := updateTo(ctx, x, y, lb)
	if err != nil {
		return err
	}
	pch, err := y.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.ChannelKey(y.PortID, y.ChannelID))
	if err != nil {
		return err
	}
	signer, err := x.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := channeltypes.NewMsgChannelOpenAck(x.PortID, x.ChannelID, y.ChannelID, cy.Version, pch.Bytes, y.height(lb.Height), signer)
	res, err := x.Chain.Send(ctx, withUpdate(update, msg)...)
	if err != nil {
		return fmt.Errorf("channel open ack on %s: %w", x.ChainID(), err)
	}
	return l.done(ctx, x, Step{Chain: x.ChainID(), Action: "channel open ack " + x.PortID, ID: x.ChannelID, Height: res.Height, TxHash: res.Hash})
}

func (l *Linker) chanConfirm(ctx context.Context, x, y *End) error {
	lb, err := x.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", x.ChainID(), err)
	}
	update, lb, err := updateTo(ctx, y, x, lb)
	if err != nil {
		return err
	}
	pch, err := x.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.ChannelKey(x.PortID, x.ChannelID))
	if err != nil {
		return err
	}
	signer, err := y.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := channeltypes.NewMsgChannelOpenConfirm(y.PortID, y.ChannelID, pch.Bytes, x.height(lb.Height), signer)
	res, err := y.Chain.Send(ctx, withUpdate(update, msg)...)
	if err != nil {
		return fmt.Errorf("channel open confirm on %s: %w", y.ChainID(), err)
	}
	return l.done(ctx, y, Step{Chain: y.ChainID(), Action: "channel open confirm " + y.PortID, ID: y.ChannelID, Height: res.Height, TxHash: res.Hash})
}
