package verify

import (
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cosmos/gogoproto/proto"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// Nodes finds a node serving proofs of a chain (for verifying through a hub: the hub's and the
// origin's). A node is untrusted: every value it serves is checked against an app hash proven before
// it, so a lying node can make verify fail, never answer.
type Nodes func(chainID string) (chains.Prover, error)

// Route is how an answer through a hub was proven (Options.Via): the verifying chain's registered
// client of the hub, the hub's header whose app hash that client holds, the hub's registered client
// of the origin, and the origin's header whose app hash that client holds.
type Route struct {
	Hub string `json:"hub"`
	// HubClient is the client of Hub that the verifying chain's city registry names for it.
	HubClient string `json:"hub_client"`
	// HubHeight and HubTime are the hub's header (HubClient's latest consensus state) whose app hash
	// the hub's state at HubHeight-1 was proven against.
	HubHeight int64     `json:"hub_height"`
	HubTime   time.Time `json:"hub_time"`
	// OriginClient is the client of the origin that the hub's city registry names for it.
	OriginClient string `json:"origin_client,omitempty"`
	// OriginHeight and OriginTime are the origin's header (OriginClient's latest consensus state in
	// the hub's state) whose app hash the origin's record at OriginHeight-1 was proven against.
	OriginHeight int64     `json:"origin_height,omitempty"`
	OriginTime   time.Time `json:"origin_time,omitzero"`
	// Status is the origin's record's status as of OriginHeight (Result.Status may be fresher: proven
	// at a fresh header of the origin, when the origin is configured).
	Status Status `json:"status,omitempty"`
}

// rootAt is a header as a client's consensus state holds it: the height and app hash that a proof
// of the state at height-1 is checked against. Its time is the verifying chain's verified header's:
// the clock that clients on the route are judged expired by (judgeClient).
func rootAt(chainID string, height int64, appHash []byte, now time.Time) *cmttypes.LightBlock {
	return &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: &cmttypes.Header{ChainID: chainID, Height: height, AppHash: appHash, Time: now}}}
}

// viaHub answers r through the hub o.Via: from the verifying chain's verified header (rd), it proves
// its registry entry for the hub, that client's state and latest consensus state (the hub's app hash
// at H), then in the hub's state at H-1 the hub's registry entry for the origin, that client's state
// and latest consensus state (the origin's app hash at h), then the origin's own record at h-1. The
// hub's and the origin's nodes only serve proofs. With the origin configured (o.Origins), its fresh
// status is proven, bound to the hub's client of it.
func (rd reader) viaHub(r *Result, o Options) error {
	hub, origin := o.Via, r.Origin
	switch {
	case hub == r.Chain:
		return fmt.Errorf("%w: %s is the hub itself: verify without a hub", ErrCouldNotVerify, hub)
	case origin == r.Chain:
		return fmt.Errorf("%w: %s is the origin itself: verify without a hub", ErrCouldNotVerify, origin)
	case origin == hub:
		return fmt.Errorf("%w: %s is the hub: verify its attestations without a hub", ErrCouldNotVerify, origin)
	case o.Nodes == nil:
		return fmt.Errorf("%w: no nodes configured to read %s and %s through", ErrCouldNotVerify, hub, origin)
	}
	if err := didtypes.ValidateChainID(hub); err != nil {
		return fmt.Errorf("%w: hub %q: %v", ErrCouldNotVerify, hub, err)
	}
	route := &Route{Hub: hub}
	r.Via = route

	// The verifying chain's registry entry for the hub: the client its registry admin chose.
	hc, _, err := rd.read(didtypes.StoreKey, didtypes.CityKey(hub))
	if err != nil {
		return err
	}
	if hc == nil {
		r.Status = StatusUnrecognised
		r.Reason = fmt.Sprintf("%s's city registry names no client of the hub %s: nothing proven through %s speaks for %s", r.Chain, hub, hub, r.Chain)
		return nil
	}
	route.HubClient = string(hc)
	// Only a chain the registry admin marked as a hub vouches for other cities: any registered city's
	// own registry could otherwise name a client of an impostor for the origin.
	marked, _, err := rd.read(didtypes.StoreKey, didtypes.HubKey(hub))
	if err != nil {
		return err
	}
	if marked == nil {
		r.Status = StatusUnrecognised
		r.Reason = fmt.Sprintf("%s is not a hub here: %s's city registry does not mark it as one, so its registry does not speak for %s (the registry admin marks it: citychaind tx did register-hub %s)",
			hub, r.Chain, origin, hub)
		return nil
	}
	hubRd, decided, err := rd.through(r, hub, route.HubClient, o)
	if decided || err != nil {
		return err
	}
	route.HubHeight, route.HubTime = hubRd.lb.Height, hubRd.consensusTime

	// The hub's registry entry for the origin: the association's list of members.
	oc, _, err := hubRd.read(didtypes.StoreKey, didtypes.CityKey(origin))
	if err != nil {
		return hubRd.pruned(err, rd.chain.ChainID())
	}
	if oc == nil {
		r.Status = StatusUnrecognised
		r.Reason = fmt.Sprintf("the hub %s's city registry (its state at height %d, %s) does not list %s", hub, hubRd.lb.Height-1,
			route.HubTime.UTC().Format(time.RFC3339), origin)
		return nil
	}
	route.OriginClient = string(oc)
	originRd, decided, err := hubRd.through(r, origin, route.OriginClient, o)
	if decided || err != nil {
		return err
	}
	route.OriginHeight, route.OriginTime = originRd.lb.Height, originRd.consensusTime
	r.OriginStateAsOf = originRd.consensusTime

	// The origin's own record, as of the hub's latest state of it.
	value, _, err := originRd.read(didtypes.StoreKey, didtypes.AttestationKey(r.ID))
	if err != nil {
		return originRd.pruned(err, hub)
	}
	var att *didtypes.Attestation
	if value != nil {
		var a didtypes.Attestation
		if err := proto.Unmarshal(value, &a); err != nil {
			return fmt.Errorf("%w: decode %s's attestation %s: %v", ErrCouldNotVerify, origin, r.ID, err)
		}
		if a.Id != r.ID {
			return fmt.Errorf("%w: %s's record at att/%s has id %s", ErrCouldNotVerify, origin, r.ID, a.Id)
		}
		att = &a
	}
	r.Attestation = att
	route.Status = StatusAbsent
	if att != nil {
		route.Status = status(att, o.Now)
	}
	at := fmt.Sprintf("%s height %d (%s), the hub %s's latest state of %s (client %s)", origin, route.OriginHeight, route.OriginTime.UTC().Format(time.RFC3339),
		hub, origin, route.OriginClient)
	r.Status, r.StatusFrom, r.OriginHeight, r.OriginTime = route.Status, "hub", route.OriginHeight, route.OriginTime
	r.Reason = fmt.Sprintf("%s at %s", r.Status, at)
	if att == nil {
		r.Reason = fmt.Sprintf("%s holds no attestation %s at %s", origin, r.ID, at)
	}
	return rd.viaFresh(r, originRd, o)
}

// viaFresh decides whether the origin's record as of the hub's state of it answers (r as viaHub set
// it), or the origin's fresh status must be proven: issue 19's rule, a revocation must not be missed.
// Revoked and expired are final. Otherwise a configured origin proves its fresh status, bound to the
// hub's client of it; else the hub's state of the origin answers when no older than o.MaxOriginAge
// (the age a fresh header of the origin may have), or when the caller asked for RelayedOnly.
func (rd reader) viaFresh(r *Result, originRd hop, o Options) error {
	if r.Status == StatusRevoked || r.Status == StatusExpired {
		return nil
	}
	var org Origin
	ok := false
	if o.Origins != nil && !o.RelayedOnly { // relayed only: the hub's state of the origin answers
		org, ok = o.Origins(r.Origin)
	}
	if ok {
		st, err := org.status(rd.ctx, originRd.parent, &originRd.client, r.ID, o)
		if err != nil {
			return err
		}
		r.StatusFrom, r.OriginHeight, r.OriginTime = "origin", st.height, st.time
		at := fmt.Sprintf("%s height %d (%s)", r.Origin, st.height, st.time.UTC().Format(time.RFC3339))
		if st.att == nil {
			r.Status, r.Attestation = StatusAbsent, nil
			r.Reason = fmt.Sprintf("%s holds no attestation %s at %s", r.Origin, r.ID, at)
			return nil
		}
		if st.att.Id != r.ID {
			return fmt.Errorf("%w: %s's record at att/%s has id %s", ErrCouldNotVerify, r.Origin, r.ID, st.att.Id)
		}
		r.Attestation, r.Status = st.att, status(st.att, o.Now)
		r.Reason = fmt.Sprintf("%s at %s", r.Status, at)
		if r.Status != r.Via.Status {
			r.Reason += fmt.Sprintf("; as of the hub %s's state of %s (height %d) it was %s", r.Via.Hub, r.Origin, r.Via.OriginHeight, r.Via.Status)
		}
		return nil
	}
	if age := o.Now.Sub(r.Via.OriginTime); age <= o.MaxOriginAge {
		return nil
	}
	if o.RelayedOnly {
		r.Reason += fmt.Sprintf(": a status change %s made since may not have arrived (the hub's client of it was last updated %s)", r.Origin, r.Via.OriginTime.UTC().Format(time.RFC3339))
		return nil
	}
	return fmt.Errorf("%w: the hub %s's latest state of %s is of %s, older than %s, and %s is not configured here (add it as a chain to prove its own status; or ask for the relayed record only)",
		ErrNotFresh, r.Via.Hub, r.Origin, r.Via.OriginTime.UTC().Format(time.RFC3339), o.MaxOriginAge, r.Origin)
}

// hop is a chain one client away on the route: its state as the client's latest consensus state
// commits to it.
type hop struct {
	reader
	// parent reads the chain holding the client; client is that client, judged and with its latest
	// consensus state proven.
	parent        reader
	client        clientInfo
	consensusTime time.Time
}

// through proves, in rd's state, client clientID of chain target (a 07-tendermint client of target,
// not frozen, not expired by the verifying chain's time) and its latest consensus state, and returns a
// reader of target's state that it commits to, served by o.Nodes(target). decided reports that the
// client decided r (frozen or expired, r's status and reason set).
func (rd reader) through(r *Result, target, clientID string, o Options) (hop, bool, error) {
	c, cs, decided, err := rd.judgeHop(r, target, clientID, o.Via)
	if decided || err != nil {
		return hop{}, decided, err
	}
	node, err := o.Nodes(target)
	if err != nil {
		return hop{}, false, fmt.Errorf("%w: no node of %s to read: %v", ErrCouldNotVerify, target, err)
	}
	if node.ChainID() != target {
		return hop{}, false, fmt.Errorf("%w: the node found for %s serves %s", ErrCouldNotVerify, target, node.ChainID())
	}
	h := int64(c.latest.GetRevisionHeight())
	return hop{reader: reader{ctx: rd.ctx, chain: node, lb: rootAt(target, h, cs.Root.GetHash(), rd.lb.Time)}, parent: rd, client: c, consensusTime: cs.Timestamp}, false, nil
}

// judgeHop proves, in rd's state, client clientID of chain target: a 07-tendermint client of target,
// not frozen, not expired by the verifying chain's time, and its latest consensus state. decided
// reports that the client decided r (not of target, frozen or expired: r's status and reason set,
// naming the route through hub).
func (rd reader) judgeHop(r *Result, target, clientID, hub string) (clientInfo, *ibctm.ConsensusState, bool, error) {
	c, err := rd.client(clientID)
	if err != nil {
		return c, nil, false, err
	}
	if c.tm == nil {
		return c, nil, false, fmt.Errorf("%w: %s's registered client %s of %s is a %s client: through a hub only Cosmos city chains (07-tendermint) are proven",
			ErrCouldNotVerify, rd.chain.ChainID(), clientID, target, c.typ)
	}
	if c.tm.ChainId != target {
		r.Status = StatusUnrecognised
		r.Reason = fmt.Sprintf("%s's city registry names client %s for %s, a client of %s", rd.chain.ChainID(), clientID, target, c.tm.ChainId)
		return c, nil, true, nil
	}
	judged := &Result{Chain: rd.chain.ChainID(), Origin: target}
	decided, err := rd.judgeClient(judged, &c)
	if err != nil {
		return c, nil, false, err
	}
	if decided {
		r.Status, r.Reason = judged.Status, fmt.Sprintf("on the route through %s: %s", hub, judged.Reason)
		return c, nil, true, nil
	}
	var cs ibctm.ConsensusState
	if err := unmarshalAny(c.latestConsensus, &cs); err != nil {
		return c, nil, false, fmt.Errorf("%w: consensus state of client %s at %s on %s: %v", ErrCouldNotVerify, clientID, c.latest, rd.chain.ChainID(), err)
	}
	return c, &cs, false, nil
}

// pruned says, for a read of the hop's state that failed, which height the node must serve and why.
func (h hop) pruned(err error, holder string) error {
	return fmt.Errorf("%w: %s's node must prove its state at height %d, the state %s's client %s of it commits to (pruned, or an answer that does not match): %v",
		ErrCouldNotVerify, h.chain.ChainID(), h.lb.Height-1, holder, h.client.id, err)
}
