package relayer

import (
	"context"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/gogoproto/proto"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	commitmenttypes "github.com/cosmos/ibc-go/v8/modules/core/23-commitment/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
)

// maxClockDrift is how far a header's time may run ahead of the receiving chain's clock. City
// chains are run by different operators; 20 s absorbs NTP drift without weakening expiry checks much.
const maxClockDrift = 20 * time.Second

// Path is a pair of ends to link, with the channel's application version and order.
type Path struct {
	Name    string
	A, B    *End
	Version string
	Order   channeltypes.Order
	// TrustingPeriodA/B are the trusting periods of the clients that track A and B; zero means two
	// thirds of the tracked chain's unbonding period.
	TrustingPeriodA, TrustingPeriodB time.Duration
}

// Step is one thing link did, for the operator.
type Step struct {
	Chain  string
	Action string // e.g. "create client", "connection open try"
	ID     string // the client, connection or channel id the step made or moved
	Height int64  // the tx height
	TxHash string
}

// Linker creates the clients, connection and channel of a path, resuming a half-done link from the
// ids already recorded on the path's ends. Running it on a linked path does nothing.
type Linker struct {
	Check ProofChecker
	// Report is told of each step as it is committed (optional).
	Report func(Step)
	// Save is called after each new id is set on an end, so a crash loses no id (optional).
	Save func(*Path) error
	// Register, when set, registers clientID as the client of city in chainID's city registry and
	// returns the tx height. Only whoever holds the registry admin's key can (a devnet, the demo); an
	// operator's link stops instead with a CityNotRegisteredError naming the admin command.
	Register func(ctx context.Context, chainID, city, clientID string) (int64, error)
}

func (l *Linker) report(s Step) {
	if l.Report != nil {
		l.Report(s)
	}
}

// done reports a committed step and waits until e's light client has verified the header after the
// tx's block, whose app hash commits to the tx's writes: the next step proves them.
func (l *Linker) done(ctx context.Context, e *End, s Step) error {
	l.report(s)
	_, err := waitVerified(ctx, e, s.Height+1)
	return err
}

func (l *Linker) save(p *Path) error {
	if l.Save == nil {
		return nil
	}
	if err := l.Save(p); err != nil {
		return fmt.Errorf("save path %s: %w", p.Name, err)
	}
	return nil
}

// Link runs every missing step of the path's handshakes. On a did path, each chain's city registry
// must name the path's client for the other city before the channel handshake starts (the chains
// refuse it otherwise): see checkCities.
func (l *Linker) Link(ctx context.Context, p *Path) error {
	if err := l.LinkConnection(ctx, p); err != nil {
		return err
	}
	if p.IsDID() && (p.A.ChannelID == "" || p.B.ChannelID == "") {
		if err := l.checkCities(ctx, p); err != nil {
			return err
		}
	}
	return l.LinkChannel(ctx, p)
}

// LinkConnection creates the path's clients and opens its connection.
func (l *Linker) LinkConnection(ctx context.Context, p *Path) error {
	if err := l.ensureClient(ctx, p, p.B, p.A, p.TrustingPeriodA); err != nil {
		return err
	}
	if err := l.ensureClient(ctx, p, p.A, p.B, p.TrustingPeriodB); err != nil {
		return err
	}
	return l.linkConnection(ctx, p)
}

// LinkChannel opens the path's channel over its open connection, with no check of its own: the
// chains' applications decide (a stock relayer does exactly this).
func (l *Linker) LinkChannel(ctx context.Context, p *Path) error { return l.linkChannel(ctx, p) }

// ensureClient creates on dst a 07-tendermint client of src from src's latest verified header.
func (l *Linker) ensureClient(ctx context.Context, p *Path, dst, src *End, trustingPeriod time.Duration) error {
	if dst.ClientID != "" {
		cs, err := clientState(ctx, dst.Chain, dst.ClientID)
		if err != nil {
			return err
		}
		if cs.ChainId != src.ChainID() {
			return fmt.Errorf("client %s on %s tracks %s, not %s: %w", dst.ClientID, dst.ChainID(), cs.ChainId, src.ChainID(), ErrWrongClient)
		}
		return nil
	}
	lb, err := src.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", src.ChainID(), err)
	}
	unbonding, err := src.Chain.UnbondingPeriod(ctx)
	if err != nil {
		return fmt.Errorf("query unbonding period of %s: %w", src.ChainID(), err)
	}
	if trustingPeriod == 0 {
		trustingPeriod = unbonding * 2 / 3
	}
	if trustingPeriod >= unbonding {
		return fmt.Errorf("trusting period %s of %s must be shorter than its unbonding period %s", trustingPeriod, src.ChainID(), unbonding)
	}
	cs := ibctm.NewClientState(src.ChainID(), ibctm.DefaultTrustLevel, trustingPeriod, unbonding, maxClockDrift,
		src.height(lb.Height), commitmenttypes.GetSDKSpecs(), []string{"upgrade", "upgradedIBCState"})
	cons := ibctm.NewConsensusState(lb.Time, commitmenttypes.NewMerkleRoot(lb.AppHash), lb.NextValidatorsHash)
	signer, err := dst.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg, err := clienttypes.NewMsgCreateClient(cs, cons, signer)
	if err != nil {
		return fmt.Errorf("build client of %s: %w", src.ChainID(), err)
	}
	res, err := dst.Chain.Send(ctx, msg)
	if err != nil {
		return fmt.Errorf("create client of %s on %s: %w", src.ChainID(), dst.ChainID(), err)
	}
	id, err := eventAttr(res.Events, clienttypes.EventTypeCreateClient, clienttypes.AttributeKeyClientID)
	if err != nil {
		return fmt.Errorf("create client of %s on %s (tx %s): %w", src.ChainID(), dst.ChainID(), res.Hash, err)
	}
	dst.ClientID = id
	if err := l.save(p); err != nil {
		return err
	}
	return l.done(ctx, dst, Step{Chain: dst.ChainID(), Action: "create client of " + src.ChainID(), ID: id, Height: res.Height, TxHash: res.Hash})
}

// linkConnection drives the connection handshake to OPEN on both ends.
func (l *Linker) linkConnection(ctx context.Context, p *Path) error {
	for range 6 {
		x, y := p.A, p.B
		if x.ConnectionID == "" && y.ConnectionID != "" {
			x, y = y, x // the handshake was started from B
		}
		if x.ConnectionID == "" {
			if err := l.connInit(ctx, p, x, y); err != nil {
				return err
			}
			continue
		}
		cx, err := l.connection(ctx, x)
		if err != nil {
			return err
		}
		if y.ConnectionID == "" {
			if cx.State != connectiontypes.INIT {
				return fmt.Errorf("connection %s on %s is %s but %s has none: %w", x.ConnectionID, x.ChainID(), cx.State, y.ChainID(), ErrHandshake)
			}
			if err := l.connTry(ctx, p, x, y); err != nil {
				return err
			}
			continue
		}
		cy, err := l.connection(ctx, y)
		if err != nil {
			return err
		}
		switch {
		case cx.State == connectiontypes.OPEN && cy.State == connectiontypes.OPEN:
			return nil
		case cx.State == connectiontypes.INIT && cy.State == connectiontypes.TRYOPEN:
			err = l.connAck(ctx, x, y, cy)
		case cx.State == connectiontypes.TRYOPEN && cy.State == connectiontypes.INIT:
			err = l.connAck(ctx, y, x, cx)
		case cx.State == connectiontypes.OPEN && cy.State == connectiontypes.TRYOPEN:
			err = l.connConfirm(ctx, x, y)
		case cx.State == connectiontypes.TRYOPEN && cy.State == connectiontypes.OPEN:
			err = l.connConfirm(ctx, y, x)
		default:
			return fmt.Errorf("connections %s on %s (%s) and %s on %s (%s): %w", x.ConnectionID, x.ChainID(), cx.State,
				y.ConnectionID, y.ChainID(), cy.State, ErrHandshake)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("connection handshake of %s did not finish: %w", p.Name, ErrHandshake)
}

// connection reads an end's connection, proven against a verified app hash.
func (l *Linker) connection(ctx context.Context, e *End) (*connectiontypes.ConnectionEnd, error) {
	p, _, err := e.verifiedRead(ctx, l.Check, ibcexported.StoreKey, host.ConnectionKey(e.ConnectionID))
	if err != nil {
		return nil, err
	}
	if p.Value == nil {
		return nil, fmt.Errorf("connection %s does not exist on %s: %w", e.ConnectionID, e.ChainID(), ErrHandshake)
	}
	var c connectiontypes.ConnectionEnd
	if err := proto.Unmarshal(p.Value, &c); err != nil {
		return nil, fmt.Errorf("decode connection %s on %s: %w", e.ConnectionID, e.ChainID(), err)
	}
	return &c, nil
}

func (l *Linker) connInit(ctx context.Context, p *Path, x, y *End) error {
	signer, err := x.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := connectiontypes.NewMsgConnectionOpenInit(x.ClientID, y.ClientID, commitmenttypes.NewMerklePrefix([]byte(ibcexported.StoreKey)),
		nil, 0, signer)
	res, err := x.Chain.Send(ctx, msg)
	if err != nil {
		return fmt.Errorf("connection open init on %s: %w", x.ChainID(), err)
	}
	id, err := eventAttr(res.Events, connectiontypes.EventTypeConnectionOpenInit, connectiontypes.AttributeKeyConnectionID)
	if err != nil {
		return fmt.Errorf("connection open init on %s (tx %s): %w", x.ChainID(), res.Hash, err)
	}
	x.ConnectionID = id
	if err := l.save(p); err != nil {
		return err
	}
	return l.done(ctx, x, Step{Chain: x.ChainID(), Action: "connection open init", ID: id, Height: res.Height, TxHash: res.Hash})
}

// clientProofs proves, at header lb of x, x's client of y and its latest consensus state.
func (l *Linker) clientProofs(ctx context.Context, x *End, lb *cmttypes.LightBlock) (cs *ibctm.ClientState, csProof, consProof []byte, err error) {
	pc, err := x.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.FullClientStateKey(x.ClientID))
	if err != nil {
		return nil, nil, nil, err
	}
	if pc.Value == nil {
		return nil, nil, nil, fmt.Errorf("client %s missing on %s: %w", x.ClientID, x.ChainID(), ErrHandshake)
	}
	var any clientAny
	if err := proto.Unmarshal(pc.Value, &any); err != nil {
		return nil, nil, nil, fmt.Errorf("decode client %s on %s: %w", x.ClientID, x.ChainID(), err)
	}
	if cs, err = decodeClientState(any.TypeUrl, any.Value); err != nil {
		return nil, nil, nil, err
	}
	pcons, err := x.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.FullConsensusStateKey(x.ClientID, cs.LatestHeight))
	if err != nil {
		return nil, nil, nil, err
	}
	return cs, pc.Bytes, pcons.Bytes, nil
}

// connTry opens y's side of x's INIT connection.
func (l *Linker) connTry(ctx context.Context, p *Path, x, y *End) error {
	lb, err := x.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", x.ChainID(), err)
	}
	update, lb, err := updateTo(ctx, y, x, lb)
	if err != nil {
		return err
	}
	pconn, err := x.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.ConnectionKey(x.ConnectionID))
	if err != nil {
		return err
	}
	cs, csProof, consProof, err := l.clientProofs(ctx, x, lb)
	if err != nil {
		return err
	}
	signer, err := y.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := connectiontypes.NewMsgConnectionOpenTry(y.ClientID, x.ConnectionID, x.ClientID, cs,
		commitmenttypes.NewMerklePrefix([]byte(ibcexported.StoreKey)), connectiontypes.GetCompatibleVersions(), 0,
		pconn.Bytes, csProof, consProof, x.height(lb.Height), cs.LatestHeight, signer)
	res, err := y.Chain.Send(ctx, withUpdate(update, msg)...)
	if err != nil {
		return fmt.Errorf("connection open try on %s: %w", y.ChainID(), err)
	}
	id, err := eventAttr(res.Events, connectiontypes.EventTypeConnectionOpenTry, connectiontypes.AttributeKeyConnectionID)
	if err != nil {
		return fmt.Errorf("connection open try on %s (tx %s): %w", y.ChainID(), res.Hash, err)
	}
	y.ConnectionID = id
	if err := l.save(p); err != nil {
		return err
	}
	return l.done(ctx, y, Step{Chain: y.ChainID(), Action: "connection open try", ID: id, Height: res.Height, TxHash: res.Hash})
}

// connAck opens x's INIT connection, y being TRYOPEN.
func (l *Linker) connAck(ctx context.Context, x, y *End, cy *connectiontypes.ConnectionEnd) error {
	lb, err := y.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", y.ChainID(), err)
	}
	update, lb, err := updateTo(ctx, x, y, lb)
	if err != nil {
		return err
	}
	pconn, err := y.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.ConnectionKey(y.ConnectionID))
	if err != nil {
		return err
	}
	cs, csProof, consProof, err := l.clientProofs(ctx, y, lb)
	if err != nil {
		return err
	}
	if len(cy.Versions) != 1 {
		return fmt.Errorf("connection %s on %s has %d versions: %w", y.ConnectionID, y.ChainID(), len(cy.Versions), ErrHandshake)
	}
	signer, err := x.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := connectiontypes.NewMsgConnectionOpenAck(x.ConnectionID, y.ConnectionID, cs, pconn.Bytes, csProof, consProof,
		y.height(lb.Height), cs.LatestHeight, cy.Versions[0], signer)
	res, err := x.Chain.Send(ctx, withUpdate(update, msg)...)
	if err != nil {
		return fmt.Errorf("connection open ack on %s: %w", x.ChainID(), err)
	}
	return l.done(ctx, x, Step{Chain: x.ChainID(), Action: "connection open ack", ID: x.ConnectionID, Height: res.Height, TxHash: res.Hash})
}

// connConfirm opens y's TRYOPEN connection, x being OPEN.
func (l *Linker) connConfirm(ctx context.Context, x, y *End) error {
	lb, err := x.Light.VerifyLatest(ctx)
	if err != nil {
		return fmt.Errorf("verify latest header of %s: %w", x.ChainID(), err)
	}
	update, lb, err := updateTo(ctx, y, x, lb)
	if err != nil {
		return err
	}
	pconn, err := x.provenAt(ctx, l.Check, lb, ibcexported.StoreKey, host.ConnectionKey(x.ConnectionID))
	if err != nil {
		return err
	}
	signer, err := y.Chain.Address(ctx)
	if err != nil {
		return err
	}
	msg := connectiontypes.NewMsgConnectionOpenConfirm(y.ConnectionID, pconn.Bytes, x.height(lb.Height), signer)
	res, err := y.Chain.Send(ctx, withUpdate(update, msg)...)
	if err != nil {
		return fmt.Errorf("connection open confirm on %s: %w", y.ChainID(), err)
	}
	return l.done(ctx, y, Step{Chain: y.ChainID(), Action: "connection open confirm", ID: y.ConnectionID, Height: res.Height, TxHash: res.Hash})
}

func withUpdate(update sdk.Msg, msg sdk.Msg) []sdk.Msg {
	if update == nil {
		return []sdk.Msg{msg}
	}
	return []sdk.Msg{update, msg}
}

// eventAttr returns the value of attribute key in the first event of type typ.
func eventAttr(events []chains.Event, typ, key string) (string, error) {
	for _, ev := range events {
		if ev.Type != typ {
			continue
		}
		for _, a := range ev.Attributes {
			if a.Key == key {
				return a.Value, nil
			}
		}
	}
	return "", fmt.Errorf("%s.%s: %w", typ, key, ErrEventMissing)
}
