// Package verify checks a city's attestations on any chain without trusting its RPC node. Against the
// app hash of one fresh header the light client verified, it proves with ICS-23 proofs the record,
// and for a record received from another city also the chain's city registry entry for its origin
// and the binding of the record's channel to that registered client (channel → connection → client).
// A chain id proves nothing: only the client the chain's registry admin chose speaks for a city.
// A record forwarded through a hub is bound instead to the chain's registered client of the hub its
// route names, which the registry must mark as a hub, and its status is confirmed at the origin
// through the hub's proofs (routed.go).
package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/gogoproto/proto"
	connectiontypes "github.com/cosmos/ibc-go/v8/modules/core/03-connection/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"
	ibcexported "github.com/cosmos/ibc-go/v8/modules/core/exported"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains"
	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/citychain/x/qbftclient"
	"github.com/cityrelay/cityrelay/light"
)

// Status is the outcome of a verification.
type Status string

// Outcomes. Only StatusValid means the credential may be accepted.
const (
	StatusValid     Status = "valid"
	StatusRevoked   Status = "revoked"
	StatusSuspended Status = "suspended"
	StatusExpired   Status = "expired"
	StatusNotYet    Status = "not-yet-valid"
	// StatusAbsent: the chain proved it holds no such attestation.
	StatusAbsent Status = "absent"
	// StatusPending: only a status change has arrived so far (a tombstone), not the attestation.
	StatusPending Status = "pending"
	// StatusUnrecognised: the record came over a channel whose client is not the one the chain's city
	// registry names for its origin (never registered, removed, or replaced since).
	StatusUnrecognised Status = "origin-not-recognised"
	// StatusClientFrozen: the record came through the origin's registered client, and misbehaviour has
	// since frozen that client: two conflicting signed headers of a city chain (its 07-tendermint client
	// behind the record's channel) or two conflicting sealed headers of an EVM city (its city-qbft client).
	StatusClientFrozen Status = "client-frozen"
	// StatusClientExpired: the record came through the origin's registered client, and that client has
	// expired (its latest consensus state is a trusting period or more older than the verifying chain's
	// block time): nothing from the origin can be received through it any more, so a revocation the
	// origin issued since cannot have arrived.
	StatusClientExpired Status = "client-expired"
)

// ErrCouldNotVerify wraps every failure to reach a verified answer (unreachable RPC, a proof that
// does not match the verified app hash, a malformed id): the answer is unknown, not negative.
var ErrCouldNotVerify = errors.New("could not verify")

// ErrNotCityChain is returned for a chain whose node says it has no did module: an IBC chain that is
// not a city chain holds no attestations to verify. (Only a node says so: a lying node can make verify
// answer this instead of valid, never valid instead of this.)
var ErrNotCityChain = errors.New("not a city chain")

// Result is a verified answer about one attestation.
type Result struct {
	Status      Status                `json:"status"`
	Chain       string                `json:"chain"`
	Origin      string                `json:"origin"`
	ID          string                `json:"id"`
	Attestation *didtypes.Attestation `json:"attestation,omitempty"`
	// ReceivedHeight is the chain height at which the attestation arrived (0 on its origin chain).
	ReceivedHeight int64 `json:"received_height,omitempty"`
	// Channel, Connection and Client are, for a foreign record, the did channel it arrived on on Chain
	// and the connection and client behind it; RegisteredClient is the client Chain's city registry
	// names for Origin. The record speaks for Origin only when Client == RegisteredClient. For a record
	// forwarded through a hub (Via set, RegisteredClient empty) Client must be Via.HubClient instead.
	Channel          string `json:"channel,omitempty"`
	Connection       string `json:"connection,omitempty"`
	Client           string `json:"client,omitempty"`
	RegisteredClient string `json:"registered_client,omitempty"`
	// EvmProofHeight is, for a record proven from an EVM city's registry contract (Client is then the
	// city-qbft client it was proven with, and Channel is empty), the EVM block of the proof.
	EvmProofHeight uint64 `json:"evm_proof_height,omitempty"`
	// OriginStateAsOf is, for a foreign record that came through its registered client, the time of that
	// client's latest consensus state: the origin's newest state the chain knows of. Nothing the origin
	// did after it (a revocation) can have arrived yet.
	OriginStateAsOf time.Time `json:"origin_state_as_of,omitzero"`
	// Reason explains a status other than valid, when the record alone does not, and says where a
	// status was proven ("revoked at seoul-1 height 812 (2026-12-07T09:41:02Z)").
	Reason string `json:"reason,omitempty"`
	// StatusFrom says what the status was proven from: "origin" (the issuing city's own record, at a
	// fresh verified header of it bound to the registered client), "relayed" (the copy the chain
	// received: a final status, or the operator asked for the relayed record only), or "local" (the
	// chain is the origin).
	StatusFrom string `json:"status_from,omitempty"`
	// RelayedStatus is what the relayed copy on Chain says, when the origin's own status was proven too
	// (they differ while a status change is on its way, or was withheld).
	RelayedStatus Status `json:"relayed_status,omitempty"`
	// OriginHeight and OriginTime are the origin's header (Cosmos) or block (EVM) whose app hash or
	// state root the origin's own record was proven against.
	OriginHeight int64     `json:"origin_height,omitempty"`
	OriginTime   time.Time `json:"origin_time,omitzero"`
	// ProofHeight is the height whose state was read; HeaderHeight (= ProofHeight+1) is the verified
	// header whose app hash every proof was checked against, HeaderTime its time.
	ProofHeight  int64     `json:"proof_height"`
	HeaderHeight int64     `json:"header_height"`
	HeaderTime   time.Time `json:"header_time"`
	AppHash      string    `json:"app_hash"`
	// Via is, for an answer proven through a hub (Options.Via), the route: the hub, the clients on it
	// and the heights proven at. StatusFrom is then "hub" (the origin's own record as of the hub's
	// latest state of it, OriginStateAsOf) or "origin" (a fresh header of the configured origin, bound
	// to the hub's client of it). For a record forwarded through a hub (its route names the hub; no
	// Options.Via needed) Via is that route, and StatusFrom is "relayed" (a final status, or
	// RelayedOnly), "hub" or "origin" (the status confirmed at the origin through the hub, routed.go).
	Via *Route `json:"via,omitempty"`
}

// FreshHeaders is the verifying chain's light client: the newest verified header, refused when
// older than maxAge or behind the witnesses (*light.Client).
type FreshHeaders interface {
	VerifyFresh(ctx context.Context, maxAge time.Duration) (*cmttypes.LightBlock, error)
}

// Options of a verification.
type Options struct {
	// MaxHeaderAge is the oldest a verified header may be to answer from (config verify.max_header_age).
	MaxHeaderAge time.Duration
	// Now judges the validity window (default time.Now()).
	Now time.Time
	// Origins finds the origin chains whose own status of a relayed record is proven (config: the
	// origin's chain or EVM city). Without the origin, a relayed record that is not final is not
	// answered (ErrNotFresh) unless RelayedOnly.
	Origins Origins
	// MaxOriginAge is the oldest the origin's header may be (config verify.max_origin_age).
	MaxOriginAge time.Duration
	// RelayedOnly answers from the relayed record alone, as of its registered client's latest state
	// (Result.OriginStateAsOf): a revocation the origin issued since may not have arrived.
	RelayedOnly bool
	// Via, a hub chain id, verifies through the hub instead of a record the chain received: the chain's
	// registry entry for the hub and its client of the hub, then the hub's registry entry for the origin
	// and the hub's client of it, then the origin's own record (via.go). Nodes serves the hub's and
	// the origin's proofs.
	Via   string
	Nodes Nodes
}

// Attestation verifies the attestation id of origin as chain knows it: on the origin chain itself its
// local record, elsewhere the foreign attestation received over IBC, bound to the client chain's
// registry names for origin. Every read is proven against one fresh verified header.
func Attestation(ctx context.Context, chain chains.Prover, lc FreshHeaders, origin, id string, o Options) (*Result, error) {
	if err := didtypes.ValidateChainID(origin); err != nil {
		return nil, fmt.Errorf("%w: origin %q: %v", ErrCouldNotVerify, origin, err)
	}
	if len(id) != 64 || !isHex(id) {
		return nil, fmt.Errorf("%w: attestation id %q must be 64 hex characters", ErrCouldNotVerify, id)
	}
	if o.MaxHeaderAge <= 0 {
		return nil, fmt.Errorf("%w: no maximum header age set", ErrCouldNotVerify)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.MaxOriginAge <= 0 {
		o.MaxOriginAge = o.MaxHeaderAge
	}
	lb, err := lc.VerifyFresh(ctx, o.MaxHeaderAge)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCouldNotVerify, err)
	}
	rd := reader{ctx: ctx, chain: chain, lb: lb}
	if o.Via != "" {
		r := &Result{Chain: chain.ChainID(), Origin: origin, ID: id, ProofHeight: lb.Height - 1, HeaderHeight: lb.Height,
			HeaderTime: lb.Time, AppHash: fmt.Sprintf("%X", lb.AppHash)}
		if err := rd.viaHub(r, o); err != nil {
			return nil, err
		}
		return r, nil
	}
	local := origin == chain.ChainID()
	key := didtypes.ForeignAttestationKey(origin, id)
	if local {
		key = didtypes.AttestationKey(id)
	}
	value, height, err := rd.read(didtypes.StoreKey, key)
	if err != nil {
		return nil, err
	}
	r := &Result{Chain: chain.ChainID(), Origin: origin, ID: id, ProofHeight: height, HeaderHeight: lb.Height,
		HeaderTime: lb.Time, AppHash: fmt.Sprintf("%X", lb.AppHash)}
	if value == nil {
		r.Status = StatusAbsent
		return r, nil
	}
	var a didtypes.Attestation
	if local {
		if err := proto.Unmarshal(value, &a); err != nil {
			return nil, fmt.Errorf("%w: decode attestation: %v", ErrCouldNotVerify, err)
		}
		r.Attestation, r.Status = &a, status(&a, o.Now)
		// On its origin the record is the origin's own, proven at a fresh header.
		r.StatusFrom, r.OriginHeight, r.OriginTime = "local", lb.Height, lb.Time
		r.Reason = fmt.Sprintf("%s at %s height %d (%s)", r.Status, origin, lb.Height, lb.Time.UTC().Format(time.RFC3339))
		return r, nil
	}
	var f didtypes.ForeignAttestation
	if err := proto.Unmarshal(value, &f); err != nil {
		return nil, fmt.Errorf("%w: decode foreign attestation: %v", ErrCouldNotVerify, err)
	}
	a, r.ReceivedHeight, r.Attestation, r.Channel = f.Attestation, f.ReceivedHeight, &f.Attestation, f.SourceChannel
	if f.Route != nil && f.Route.HubChainId != "" {
		// Forwarded through a hub: bound to the chain's registered client of the hub (routed.go).
		return r, rd.routed(r, &f, o)
	}
	var c clientInfo
	if f.ClientId != "" {
		// Proven from an EVM city's registry contract through a city-qbft client: no channel, the
		// record names the client it was proven with.
		if err := rd.registered(r); err != nil {
			return nil, err
		}
		r.Client, r.EvmProofHeight = f.ClientId, f.ProofHeight
		if c, err = rd.client(f.ClientId); err != nil {
			return nil, err
		}
		if c.typ != qbftclient.ClientType {
			return nil, fmt.Errorf("%w: client %s of the record is a %s client on %s, not a %s client", ErrCouldNotVerify, f.ClientId, c.typ, rd.chain.ChainID(), qbftclient.ClientType)
		}
	} else {
		if err := rd.binding(r); err != nil {
			return nil, err
		}
		// Received over IBC: the registered client is the 07-tendermint client behind the channel.
		if r.Client == r.RegisteredClient {
			if c, err = rd.client(r.Client); err != nil {
				return nil, err
			}
		}
	}
	if r.Client == r.RegisteredClient {
		// Frozen (misbehaviour of the origin was submitted to it) or expired (nothing from the origin
		// can arrive through it any more), the record's own status no longer answers.
		if decided, err := rd.judgeClient(r, &c); decided || err != nil {
			return r, err
		}
	}
	if r.Client != r.RegisteredClient {
		r.Status = StatusUnrecognised
		if r.RegisteredClient == "" {
			r.Reason = fmt.Sprintf("%s's city registry does not recognise %s: the record came over client %s", r.Chain, origin, r.Client)
		} else {
			r.Reason = fmt.Sprintf("the record came over client %s, %s's city registry names %s for %s", r.Client, r.Chain, r.RegisteredClient, origin)
		}
		return r, nil
	}
	r.StatusFrom = "relayed"
	if f.Tombstone {
		r.Status = StatusPending
		if a.Status == didtypes.ATTESTATION_STATUS_REVOKED {
			r.Status = StatusRevoked
		}
	} else {
		r.Status = status(&a, o.Now)
	}
	switch {
	case r.Status == StatusRevoked || r.Status == StatusExpired:
		// Final whatever the origin did since: revoked is final there too, and the validity window
		// is signed into the attestation.
		return r, nil
	case o.RelayedOnly:
		r.Reason = fmt.Sprintf("%s in the relayed record only (received at %s height %d; %s's latest state %s knows is of %s): a status change %s made since may not have arrived",
			r.Status, r.Chain, r.ReceivedHeight, origin, r.Chain, r.OriginStateAsOf.UTC().Format(time.RFC3339), origin)
		return r, nil
	}
	rd.attestation = &a
	return r, rd.fromOrigin(r, &c, o)
}

// fromOrigin proves the origin's own current status of r's attestation and answers from it: the
// issuing city's record is the truth, the relayed copy only follows it.
func (rd reader) fromOrigin(r *Result, c *clientInfo, o Options) error {
	var org Origin
	ok := false
	if o.Origins != nil {
		org, ok = o.Origins(r.Origin)
	}
	if !ok {
		return fmt.Errorf("%w: %s, the origin, is not configured here (add it as a chain or an EVM city to prove its own status; or ask for the relayed record only)", ErrNotFresh, r.Origin)
	}
	st, err := org.status(rd.ctx, rd, c, r.ID, o)
	if err != nil {
		return err
	}
	r.RelayedStatus, r.StatusFrom, r.OriginHeight, r.OriginTime = r.Status, "origin", st.height, st.time
	at := fmt.Sprintf("%s height %d (%s)", r.Origin, st.height, st.time.UTC().Format(time.RFC3339))
	if st.att == nil {
		r.Status = StatusAbsent
		r.Reason = fmt.Sprintf("%s holds no attestation %s at %s, though %s holds a relayed record of it", r.Origin, r.ID, at, r.Chain)
		return nil
	}
	if st.att.Id != r.ID {
		return fmt.Errorf("%w: %s's record at att/%s has id %s", ErrCouldNotVerify, r.Origin, r.ID, st.att.Id)
	}
	if r.Status == StatusPending && st.att.Status != didtypes.ATTESTATION_STATUS_REVOKED {
		// Only a status change arrived here: the chain has not received the attestation itself.
		r.Reason = fmt.Sprintf("only a status change has arrived on %s; %s's own record is %s at %s", r.Chain, r.Origin, status(st.att, o.Now), at)
		return nil
	}
	r.Status = status(st.att, o.Now)
	r.Reason = fmt.Sprintf("%s at %s", r.Status, at)
	if r.Status != r.RelayedStatus {
		r.Reason += fmt.Sprintf("; the record relayed to %s still says %s", r.Chain, r.RelayedStatus)
	}
	return nil
}

// reader reads state with proofs checked against one verified header.
type reader struct {
	ctx   context.Context
	chain chains.Prover
	lb    *cmttypes.LightBlock
	// attestation is the relayed record being verified (an EVM origin proves only its status).
	attestation *didtypes.Attestation
}

// read returns the value at key (nil: proven absent) in the state the header commits to, and the
// height that state was read at.
func (rd reader) read(storeKey string, key []byte) ([]byte, int64, error) {
	p, err := rd.chain.QueryProven(rd.ctx, storeKey, key, rd.lb.Height-1)
	if err != nil {
		if storeKey == didtypes.StoreKey && errors.Is(err, chains.ErrNoSuchStore) {
			return nil, 0, notCityChain(rd.chain.ChainID(), err)
		}
		return nil, 0, fmt.Errorf("%w: read %s/%s on %s: %v", ErrCouldNotVerify, storeKey, key, rd.chain.ChainID(), err)
	}
	if err := light.VerifyProofAgainstAppHash(rd.lb.AppHash, storeKey, key, p.Value, p.Ops); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrCouldNotVerify, err)
	}
	return p.Value, p.Height, nil
}

// clientInfo is what verify needs of a client's state.
type clientInfo struct {
	id, typ  string
	frozen   bool
	latest   ibcexported.Height
	trusting time.Duration
	// tm or qbft is the client state, by type.
	tm   *ibctm.ClientState
	qbft *qbftclient.ClientState
	// latestConsensus is the consensus state at latest (an Any), once judgeClient proved it.
	latestConsensus []byte
	// consensusTime decodes the timestamp of one of the client's consensus states.
	consensusTime func(value []byte) (time.Time, error)
}

// client proves the state of client clientID, a 07-tendermint or city-qbft client.
func (rd reader) client(clientID string) (clientInfo, error) {
	bz, _, err := rd.read(ibcexported.StoreKey, host.FullClientStateKey(clientID))
	if err != nil {
		return clientInfo{}, err
	}
	var any codectypes.Any
	if bz == nil || proto.Unmarshal(bz, &any) != nil {
		return clientInfo{}, fmt.Errorf("%w: client %s of the record is missing or malformed on %s", ErrCouldNotVerify, clientID, rd.chain.ChainID())
	}
	var tm ibctm.ClientState
	var qbft qbftclient.ClientState
	switch any.TypeUrl {
	case "/" + proto.MessageName(&tm):
		if err := proto.Unmarshal(any.Value, &tm); err != nil {
			return clientInfo{}, fmt.Errorf("%w: decode client state of %s on %s: %v", ErrCouldNotVerify, clientID, rd.chain.ChainID(), err)
		}
		return clientInfo{id: clientID, typ: ibcexported.Tendermint, frozen: !tm.FrozenHeight.IsZero(), latest: tm.LatestHeight, trusting: tm.TrustingPeriod, tm: &tm,
			consensusTime: func(v []byte) (time.Time, error) {
				var cs ibctm.ConsensusState
				err := unmarshalAny(v, &cs)
				return cs.Timestamp, err
			}}, nil
	case "/" + proto.MessageName(&qbft):
		if err := proto.Unmarshal(any.Value, &qbft); err != nil {
			return clientInfo{}, fmt.Errorf("%w: decode client state of %s on %s: %v", ErrCouldNotVerify, clientID, rd.chain.ChainID(), err)
		}
		return clientInfo{id: clientID, typ: qbftclient.ClientType, frozen: qbft.FrozenHeight != 0, latest: qbftclient.Height(qbft.LatestHeight), qbft: &qbft,
			trusting: time.Duration(qbft.TrustingPeriod) * time.Second, consensusTime: func(v []byte) (time.Time, error) {
				var cs qbftclient.ConsensusState
				err := unmarshalAny(v, &cs)
				return time.Unix(int64(cs.Timestamp), 0), err
			}}, nil
	}
	return clientInfo{}, fmt.Errorf("%w: client %s of the record on %s is of type %s, neither %s nor %s", ErrCouldNotVerify, clientID, rd.chain.ChainID(), any.TypeUrl, ibcexported.Tendermint, qbftclient.ClientType)
}

// unmarshalAny decodes m from an Any of m's type.
func unmarshalAny(value []byte, m proto.Message) error {
	var any codectypes.Any
	if err := proto.Unmarshal(value, &any); err != nil {
		return err
	}
	if any.TypeUrl != "/"+proto.MessageName(m) {
		return fmt.Errorf("a %s, not a %s", any.TypeUrl, proto.MessageName(m))
	}
	return proto.Unmarshal(any.Value, m)
}

// judgeClient judges r's registered client c as ibc-go's client Status does, and reports whether that
// decided r: frozen by misbehaviour first, then expired, judged by the verifying chain's own time (the
// verified header's) against the consensus state at the client's latest height, proven too. It sets
// r.OriginStateAsOf to that consensus state's time.
func (rd reader) judgeClient(r *Result, c *clientInfo) (bool, error) {
	if c.frozen {
		r.Status = StatusClientFrozen
		r.Reason = fmt.Sprintf("client %s of %s is frozen: two conflicting headers of %s were proven, so what was proven through it is no longer trusted (the registry admin registers a new client)", c.id, r.Origin, r.Origin)
		return true, nil
	}
	bz, _, err := rd.read(ibcexported.StoreKey, host.FullConsensusStateKey(c.id, c.latest))
	if err != nil {
		return false, err
	}
	if bz == nil {
		return false, fmt.Errorf("%w: client %s on %s has no consensus state at its latest height %s", ErrCouldNotVerify, c.id, rd.chain.ChainID(), c.latest)
	}
	c.latestConsensus = bz
	asOf, err := c.consensusTime(bz)
	if err != nil || asOf.IsZero() || c.trusting <= 0 {
		return false, fmt.Errorf("%w: consensus state of client %s at %s on %s is malformed (trusting period %s): %v", ErrCouldNotVerify, c.id, c.latest, rd.chain.ChainID(), c.trusting, err)
	}
	r.OriginStateAsOf = asOf
	if expiry := asOf.Add(c.trusting); !rd.lb.Time.Before(expiry) {
		r.Status = StatusClientExpired
		r.Reason = fmt.Sprintf("client %s of %s expired at %s (its latest state of %s is of %s, its trusting period %s; %s's time is %s): nothing from %s can arrive through it, so revocations issued by %s since %s cannot have arrived; the operator renews the client (a new client registered for %s)",
			c.id, r.Origin, expiry.UTC().Format(time.RFC3339), r.Origin, asOf.UTC().Format(time.RFC3339), c.trusting, r.Chain, rd.lb.Time.UTC().Format(time.RFC3339),
			r.Origin, r.Origin, asOf.UTC().Format(time.RFC3339), r.Origin)
		return true, nil
	}
	return false, nil
}

// registered proves the registry entry of r.Origin.
func (rd reader) registered(r *Result) error {
	registered, _, err := rd.read(didtypes.StoreKey, didtypes.CityKey(r.Origin))
	if err != nil {
		return err
	}
	r.RegisteredClient = string(registered)
	return nil
}

// binding proves the registry entry of r.Origin and the client behind r.Channel.
func (rd reader) binding(r *Result) error {
	if err := rd.registered(r); err != nil {
		return err
	}
	return rd.channelClient(r)
}

// channelClient proves the connection and the client behind r.Channel (r.Connection, r.Client).
func (rd reader) channelClient(r *Result) error {
	chBz, _, err := rd.read(ibcexported.StoreKey, host.ChannelKey(didtypes.PortID, r.Channel))
	if err != nil {
		return err
	}
	var ch channeltypes.Channel
	if chBz == nil || proto.Unmarshal(chBz, &ch) != nil || len(ch.ConnectionHops) != 1 {
		return fmt.Errorf("%w: channel %s/%s of the record is missing or malformed on %s", ErrCouldNotVerify, didtypes.PortID, r.Channel, r.Chain)
	}
	r.Connection = ch.ConnectionHops[0]
	connBz, _, err := rd.read(ibcexported.StoreKey, host.ConnectionKey(r.Connection))
	if err != nil {
		return err
	}
	var conn connectiontypes.ConnectionEnd
	if connBz == nil || proto.Unmarshal(connBz, &conn) != nil || conn.ClientId == "" {
		return fmt.Errorf("%w: connection %s of channel %s is missing or malformed on %s", ErrCouldNotVerify, r.Connection, r.Channel, r.Chain)
	}
	r.Client = conn.ClientId
	return nil
}

// notCityChain is ErrNotCityChain for chain when err says its node has no did store, else err.
func notCityChain(chain string, err error) error {
	if errors.Is(err, chains.ErrNoSuchStore) {
		return fmt.Errorf("%w: %s has no %s module (its node: %v)", ErrNotCityChain, chain, didtypes.ModuleName, err)
	}
	return err
}

func status(a *didtypes.Attestation, now time.Time) Status {
	switch {
	case a.Status == didtypes.ATTESTATION_STATUS_REVOKED:
		return StatusRevoked
	case a.Status == didtypes.ATTESTATION_STATUS_SUSPENDED:
		return StatusSuspended
	case now.Unix() >= a.ValidUntil:
		return StatusExpired
	case now.Unix() < a.ValidFrom:
		return StatusNotYet
	}
	return StatusValid
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
