package relayer

import (
	"context"
	"fmt"

	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"

	"github.com/cityrelay/cityrelay/chains"
)

// The connection and channel handshakes are one state machine (INIT → TRYOPEN → OPEN on each end,
// one step at a time, resumable from whatever the chains hold): handshake drives it, and the steps of
// each come from link.go (connection) and channel.go (channel).

// handshake drives one kind of handshake over T, what an end's state is read as, whose GetState is
// a number of S, the kind's state enum. The connection and channel enums share the numbers of INIT,
// TRYOPEN and OPEN (ICS-3, ICS-4; a test holds them to it).
type handshake[T interface{ GetState() int32 }, S interface {
	~int32
	String() string
}] struct {
	kind string // "connection" or "channel"
	// ids returns an end's id of it ("" before its init) and how errors name it.
	ids  func(*End) (id, label string)
	read func(context.Context, *End) (T, error)

	init    func(ctx context.Context, p *Path, x, y *End) error       // opens x's side (INIT)
	try     func(ctx context.Context, p *Path, x, y *End, cx T) error // opens y's side of x's INIT (TRYOPEN)
	ack     func(ctx context.Context, p *Path, x, y *End, cy T) error // opens x's INIT, y being TRYOPEN
	confirm func(ctx context.Context, p *Path, x, y *End) error       // opens y's TRYOPEN, x being OPEN
}

// The states a handshake step moves between, as ICS-3 and ICS-4 number them.
const (
	stateInit    = int32(connectiontypes.INIT)
	stateTryOpen = int32(connectiontypes.TRYOPEN)
	stateOpen    = int32(connectiontypes.OPEN)
)

func (h *handshake[T, S]) id(e *End) string {
	id, _ := h.ids(e)
	return id
}

// drive runs the missing steps of h on p's ends until both are OPEN.
func (h *handshake[T, S]) drive(ctx context.Context, p *Path) error {
	for range 6 {
		x, y := p.A, p.B
		if h.id(x) == "" && h.id(y) != "" {
			x, y = y, x // the handshake was started from B
		}
		if h.id(x) == "" {
			if err := h.init(ctx, p, x, y); err != nil {
				return err
			}
			continue
		}
		cx, err := h.read(ctx, x)
		if err != nil {
			return err
		}
		sx := cx.GetState()
		if h.id(y) == "" {
			if sx != stateInit {
				_, label := h.ids(x)
				return fmt.Errorf("%s %s on %s is %s but %s has none: %w", h.kind, label, x.ChainID(), S(sx), y.ChainID(), ErrHandshake)
			}
			if err := h.try(ctx, p, x, y, cx); err != nil {
				return err
			}
			continue
		}
		cy, err := h.read(ctx, y)
		if err != nil {
			return err
		}
		sy := cy.GetState()
		switch {
		case sx == stateOpen && sy == stateOpen:
			return nil
		case sx == stateInit && sy == stateTryOpen:
			err = h.ack(ctx, p, x, y, cy)
		case sx == stateTryOpen && sy == stateInit:
			err = h.ack(ctx, p, y, x, cx)
		case sx == stateOpen && sy == stateTryOpen:
			err = h.confirm(ctx, p, x, y)
		case sx == stateTryOpen && sy == stateOpen:
			err = h.confirm(ctx, p, y, x)
		default:
			return fmt.Errorf("%ss %s on %s (%s) and %s on %s (%s): %w", h.kind, h.id(x), x.ChainID(), S(sx),
				h.id(y), y.ChainID(), S(sy), ErrHandshake)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("%s handshake of %s did not finish: %w", h.kind, p.Name, ErrHandshake)
}

// provenStep is what a handshake step sends on one end (to) needs of the other (from): a verified
// header of from that to's client has (with the update that brings it there, when needed), a proof
// of from's state at key against that header, and to's signer.
type provenStep struct {
	update sdk.Msg
	lb     *cmttypes.LightBlock
	proof  *chains.Proof
	height clienttypes.Height // the IBC proof height: from's revision at lb
	signer string
}

// msgs is the step's tx: the client update (when needed), then msg.
func (s *provenStep) msgs(msg sdk.Msg) []sdk.Msg { return withUpdate(s.update, msg) }

// prove prepares a step on to carrying a proof of key in from's IBC store.
func (l *Linker) prove(ctx context.Context, to, from *End, key []byte) (*provenStep, error) {
	lb, err := from.Light.VerifyLatest(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify latest header of %s: %w", from.ChainID(), err)
	}
	update, lb, err := Client{Dst: to, Src: from}.updateTo(ctx, lb)
	if err != nil {
		return nil, err
	}
	proof, err := from.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, key)
	if err != nil {
		return nil, err
	}
	signer, err := to.Chain.Address(ctx)
	if err != nil {
		return nil, err
	}
	return &provenStep{update: update, lb: lb, proof: proof, height: from.height(lb.Height), signer: signer}, nil
}

// stepTx says how a step's committed tx is reported.
type stepTx struct {
	action string // in errors: "<action> on <chain>"
	report string // in the Step (action when empty)
	// A step that creates an id reads it from the tx's event (event, attr), hands it to setID and
	// saves the path; any other step reports id.
	event, attr string
	setID       func(id string)
	id          string
}

// commit sends msgs on e as one tx, records the id the step created (if it creates one), reports
// the step and waits until e's light client verified the header that commits to it.
func (l *Linker) commit(ctx context.Context, p *Path, e *End, msgs []sdk.Msg, s stepTx) error {
	res, err := e.Chain.Send(ctx, msgs...)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", s.action, e.ChainID(), err)
	}
	id := s.id
	if s.setID != nil {
		if id, err = eventAttr(res.Events, s.event, s.attr); err != nil {
			return fmt.Errorf("%s on %s (tx %s): %w", s.action, e.ChainID(), res.Hash, err)
		}
		s.setID(id)
		if err := l.save(p); err != nil {
			return err
		}
	}
	report := s.report
	if report == "" {
		report = s.action
	}
	return l.done(ctx, e, Step{Chain: e.ChainID(), Action: report, ID: id, Height: res.Height, TxHash: res.Hash})
}
