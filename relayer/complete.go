package relayer

import (
	"context"
	"errors"
	"fmt"
	"sort"

	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains"
)

// ErrFiltered is a channel handshake the filters refuse to complete.
var ErrFiltered = errors.New("refused by the channel filter")

// Completer finishes the channel handshakes others started over a linked path's connection (a
// MsgChannelOpenInit or MsgChannelOpenTry someone else submitted, on any port): OpenTry, OpenAck and
// OpenConfirm with proofs checked against verified headers, the steps of `tx link`.
type Completer struct {
	Linker *Linker
	// Allowed says whether a channel end on chain may be relayed; channel "" is an end not opened
	// yet (judged by its port). Nil allows every end.
	Allowed func(chain, port, channel string) bool
}

// Handshake is a channel handshake found on a path's connection: the ends' ports and channel ids
// (an id is "" where that end has not been opened yet).
type Handshake struct {
	APort, AChannel, BPort, BChannel string
}

func (h Handshake) String() string {
	return fmt.Sprintf("%s/%s <-> %s/%s", h.APort, orDash(h.AChannel), h.BPort, orDash(h.BChannel))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Pending lists the channel handshakes under way on p's connection: a channel in INIT or TRYOPEN on
// either end, or OPEN with its counterparty in TRYOPEN. The lists are nodes' answers (unproven);
// Complete proves each end before it acts.
func (c *Completer) Pending(ctx context.Context, p *Path) ([]Handshake, error) {
	la, ok := p.A.Chain.(chains.ChannelLister)
	lb, ok2 := p.B.Chain.(chains.ChannelLister)
	if !ok || !ok2 {
		return nil, fmt.Errorf("path %s: %w", p.Name, ErrCannotList)
	}
	if p.A.ConnectionID == "" || p.B.ConnectionID == "" {
		return nil, fmt.Errorf("path %s has no connection yet: %w", p.Name, ErrHandshake)
	}
	chA, err := la.ConnectionChannels(ctx, p.A.ConnectionID)
	if err != nil {
		return nil, fmt.Errorf("list channels of %s on %s: %w", p.A.ConnectionID, p.A.ChainID(), err)
	}
	chB, err := lb.ConnectionChannels(ctx, p.B.ConnectionID)
	if err != nil {
		return nil, fmt.Errorf("list channels of %s on %s: %w", p.B.ConnectionID, p.B.ChainID(), err)
	}
	key := func(port, ch string) string { return port + "/" + ch }
	stateA, stateB := map[string]channeltypes.State{}, map[string]channeltypes.State{}
	for _, ic := range chA {
		stateA[key(ic.PortId, ic.ChannelId)] = ic.State
	}
	for _, ic := range chB {
		stateB[key(ic.PortId, ic.ChannelId)] = ic.State
	}
	seen := map[Handshake]bool{}
	var out []Handshake
	add := func(h Handshake) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	// tryFor finds the channel on the other end that answered an INIT (its counterparty names it).
	tryFor := func(list []channeltypes.IdentifiedChannel, port, ch string) string {
		for _, ic := range list {
			if ic.State == channeltypes.TRYOPEN && ic.Counterparty.PortId == port && ic.Counterparty.ChannelId == ch {
				return ic.ChannelId
			}
		}
		return ""
	}
	for _, ic := range chA {
		cp := ic.Counterparty
		switch {
		case ic.State == channeltypes.INIT:
			add(Handshake{APort: ic.PortId, AChannel: ic.ChannelId, BPort: cp.PortId, BChannel: tryFor(chB, ic.PortId, ic.ChannelId)})
		case ic.State == channeltypes.TRYOPEN && stateB[key(cp.PortId, cp.ChannelId)] != channeltypes.OPEN:
			add(Handshake{APort: ic.PortId, AChannel: ic.ChannelId, BPort: cp.PortId, BChannel: cp.ChannelId})
		case ic.State == channeltypes.OPEN && stateB[key(cp.PortId, cp.ChannelId)] == channeltypes.TRYOPEN:
			add(Handshake{APort: ic.PortId, AChannel: ic.ChannelId, BPort: cp.PortId, BChannel: cp.ChannelId})
		}
	}
	for _, ic := range chB {
		cp := ic.Counterparty
		switch {
		case ic.State == channeltypes.INIT:
			add(Handshake{APort: cp.PortId, AChannel: tryFor(chA, ic.PortId, ic.ChannelId), BPort: ic.PortId, BChannel: ic.ChannelId})
		case ic.State == channeltypes.TRYOPEN && stateA[key(cp.PortId, cp.ChannelId)] != channeltypes.OPEN:
			add(Handshake{APort: cp.PortId, AChannel: cp.ChannelId, BPort: ic.PortId, BChannel: ic.ChannelId})
		case ic.State == channeltypes.OPEN && stateA[key(cp.PortId, cp.ChannelId)] == channeltypes.TRYOPEN:
			add(Handshake{APort: cp.PortId, AChannel: cp.ChannelId, BPort: ic.PortId, BChannel: ic.ChannelId})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// allowed applies Allowed to an end (channel "" judged by its port).
func (c *Completer) allowed(e *End, port, channel string) bool {
	return c.Allowed == nil || c.Allowed(e.ChainID(), port, channel)
}

// Complete drives the handshake h on p's connection to OPEN on both ends and returns the new
// channel's path: p's clients and connection, h's ports and the channel ids, the version and order
// the channel was opened with, named name. Each end with an id is first read with a proof: it must be
// a channel over p's connection whose counterparty port is the other end's. A handshake an end's
// filter refuses is ErrFiltered (nothing is sent).
func (c *Completer) Complete(ctx context.Context, p *Path, h Handshake, name string) (*Path, error) {
	if !c.allowed(p.A, h.APort, h.AChannel) || !c.allowed(p.B, h.BPort, h.BChannel) {
		return nil, fmt.Errorf("channel %s on path %s: %w", h, p.Name, ErrFiltered)
	}
	end := func(e *End, port, channel string) *End {
		return &End{Chain: e.Chain, Light: e.Light, ClientID: e.ClientID, ConnectionID: e.ConnectionID, ChannelID: channel, PortID: port}
	}
	np := &Path{Name: name, A: end(p.A, h.APort, h.AChannel), B: end(p.B, h.BPort, h.BChannel),
		TrustingPeriodA: p.TrustingPeriodA, TrustingPeriodB: p.TrustingPeriodB}
	opened := false
	for _, x := range []struct{ e, other *End }{{np.A, np.B}, {np.B, np.A}} {
		if x.e.ChannelID == "" {
			continue
		}
		ch, err := c.Linker.channel(ctx, x.e)
		if err != nil {
			return nil, err
		}
		if len(ch.ConnectionHops) != 1 || ch.ConnectionHops[0] != x.e.ConnectionID {
			return nil, fmt.Errorf("channel %s/%s on %s is over %v, not the path's %s: %w", x.e.PortID, x.e.ChannelID, x.e.ChainID(),
				ch.ConnectionHops, x.e.ConnectionID, ErrHandshake)
		}
		if ch.Counterparty.PortId != x.other.PortID || (x.other.ChannelID != "" && ch.Counterparty.ChannelId != "" && ch.Counterparty.ChannelId != x.other.ChannelID) {
			return nil, fmt.Errorf("channel %s/%s on %s names %s/%s as its counterparty, not %s/%s: %w", x.e.PortID, x.e.ChannelID, x.e.ChainID(),
				ch.Counterparty.PortId, ch.Counterparty.ChannelId, x.other.PortID, x.other.ChannelID, ErrHandshake)
		}
		// The INIT end proposed the version and the order; an end further on holds what was agreed.
		if !opened || ch.State == channeltypes.INIT {
			np.Version, np.Order = ch.Version, ch.Ordering
			opened = true
		}
	}
	if !opened {
		return nil, fmt.Errorf("channel %s on path %s: neither end has an id: %w", h, p.Name, ErrHandshake)
	}
	if err := c.Linker.linkChannel(ctx, np); err != nil {
		return nil, err
	}
	// Both ends OPEN: the agreed version (an app may have changed it in its OpenTry) is A's.
	ch, err := c.Linker.channel(ctx, np.A)
	if err != nil {
		return nil, err
	}
	np.Version, np.Order = ch.Version, ch.Ordering
	if !c.allowed(np.A, np.A.PortID, np.A.ChannelID) || !c.allowed(np.B, np.B.PortID, np.B.ChannelID) {
		return np, fmt.Errorf("channel %s/%s <-> %s/%s opened on path %s: %w", np.A.PortID, np.A.ChannelID, np.B.PortID, np.B.ChannelID, p.Name, ErrFiltered)
	}
	return np, nil
}
