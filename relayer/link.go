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
)

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
	if err := l.ensureClient(ctx, p, Client{Dst: p.B, Src: p.A}, p.TrustingPeriodA); err != nil {
		return err
	}
	if err := l.ensureClient(ctx, p, Client{Dst: p.A, Src: p.B}, p.TrustingPeriodB); err != nil {
		return err
	}
	return l.linkConnection(ctx, p)
}

// LinkChannel opens the path's channel over its open connection, with no check of its own: the
// chains' applications decide (a stock relayer does exactly this).
func (l *Linker) LinkChannel(ctx context.Context, p *Path) error { return l.linkChannel(ctx, p) }

// ensureClient creates c (on c.Dst, a 07-tendermint client of c.Src from c.Src's latest verified
// header), or checks that the client already recorded on c.Dst tracks c.Src.
func (l *Linker) ensureClient(ctx context.Context, p *Path, c Client, trustingPeriod time.Duration) error {
	if c.Dst.ClientID != "" {
		return c.checkTracks(ctx)
	}
	msg, err := c.createMsg(ctx, trustingPeriod)
	if err != nil {
		return err
	}
	dst := c.Dst
	return l.commit(ctx, p, dst, []sdk.Msg{msg}, stepTx{action: "create client of " + c.Src.ChainID(),
		event: clienttypes.EventTypeCreateClient, attr: clienttypes.AttributeKeyClientID, setID: func(id string) { dst.ClientID = id }})
}

// linkConnection drives the connection handshake to OPEN on both ends.
func (l *Linker) linkConnection(ctx context.Context, p *Path) error {
	h := &handshake[*connectiontypes.ConnectionEnd, connectiontypes.State]{kind: "connection", read: l.connection,
		ids: func(e *End) (string, string) { return e.ConnectionID, e.ConnectionID }, init: l.connInit, try: l.connTry, ack: l.connAck, confirm: l.connConfirm}
	return h.drive(ctx, p)
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
	return l.commit(ctx, p, x, []sdk.Msg{msg}, stepTx{action: "connection open init",
		event: connectiontypes.EventTypeConnectionOpenInit, attr: connectiontypes.AttributeKeyConnectionID, setID: func(id string) { x.ConnectionID = id }})
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
func (l *Linker) connTry(ctx context.Context, p *Path, x, y *End, _ *connectiontypes.ConnectionEnd) error {
	s, err := l.prove(ctx, y, x, host.ConnectionKey(x.ConnectionID))
	if err != nil {
		return err
	}
	cs, csProof, consProof, err := l.clientProofs(ctx, x, s.lb)
	if err != nil {
		return err
	}
	msg := connectiontypes.NewMsgConnectionOpenTry(y.ClientID, x.ConnectionID, x.ClientID, cs,
		commitmenttypes.NewMerklePrefix([]byte(ibcexported.StoreKey)), connectiontypes.GetCompatibleVersions(), 0,
		s.proof.Bytes, csProof, consProof, s.height, cs.LatestHeight, s.signer)
	return l.commit(ctx, p, y, s.msgs(msg), stepTx{action: "connection open try",
		event: connectiontypes.EventTypeConnectionOpenTry, attr: connectiontypes.AttributeKeyConnectionID, setID: func(id string) { y.ConnectionID = id }})
}

// connAck opens x's INIT connection, y being TRYOPEN.
func (l *Linker) connAck(ctx context.Context, p *Path, x, y *End, cy *connectiontypes.ConnectionEnd) error {
	s, err := l.prove(ctx, x, y, host.ConnectionKey(y.ConnectionID))
	if err != nil {
		return err
	}
	cs, csProof, consProof, err := l.clientProofs(ctx, y, s.lb)
	if err != nil {
		return err
	}
	if len(cy.Versions) != 1 {
		return fmt.Errorf("connection %s on %s has %d versions: %w", y.ConnectionID, y.ChainID(), len(cy.Versions), ErrHandshake)
	}
	msg := connectiontypes.NewMsgConnectionOpenAck(x.ConnectionID, y.ConnectionID, cs, s.proof.Bytes, csProof, consProof,
		s.height, cs.LatestHeight, cy.Versions[0], s.signer)
	return l.commit(ctx, p, x, s.msgs(msg), stepTx{action: "connection open ack", id: x.ConnectionID})
}

// connConfirm opens y's TRYOPEN connection, x being OPEN.
func (l *Linker) connConfirm(ctx context.Context, p *Path, x, y *End) error {
	s, err := l.prove(ctx, y, x, host.ConnectionKey(x.ConnectionID))
	if err != nil {
		return err
	}
	msg := connectiontypes.NewMsgConnectionOpenConfirm(y.ConnectionID, s.proof.Bytes, s.height, s.signer)
	return l.commit(ctx, p, y, s.msgs(msg), stepTx{action: "connection open confirm", id: y.ConnectionID})
}

func withUpdate(update sdk.Msg, msg sdk.Msg) []sdk.Msg {
	if update == nil {
		return []sdk.Msg{msg}
	}
	return []sdk.Msg{update, msg}
}
