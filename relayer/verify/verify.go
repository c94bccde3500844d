// Package verify checks a city's attestations on any chain without trusting its RPC node. Against the
// app hash of one fresh header the light client verified, it proves with ICS-23 proofs the record,
// and for a record received from another city also the chain's city registry entry for its origin
// and the binding of the record's channel to that registered client (channel → connection → client).
// A chain id proves nothing: only the client the chain's registry admin chose speaks for a city.
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
)

// ErrCouldNotVerify wraps every failure to reach a verified answer (unreachable RPC, a proof that
// does not match the verified app hash, a malformed id): the answer is unknown, not negative.
var ErrCouldNotVerify = errors.New("could not verify")

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
	// names for Origin. The record speaks for Origin only when Client == RegisteredClient.
	Channel          string `json:"channel,omitempty"`
	Connection       string `json:"connection,omitempty"`
	Client           string `json:"client,omitempty"`
	RegisteredClient string `json:"registered_client,omitempty"`
	// EvmProofHeight is, for a record proven from an EVM city's registry contract (Client is then the
	// city-qbft client it was proven with, and Channel is empty), the EVM block of the proof.
	EvmProofHeight uint64 `json:"evm_proof_height,omitempty"`
	// Reason explains a status other than valid, when the record alone does not.
	Reason string `json:"reason,omitempty"`
	// ProofHeight is the height whose state was read; HeaderHeight (= ProofHeight+1) is the verified
	// header whose app hash every proof was checked against, HeaderTime its time.
	ProofHeight  int64     `json:"proof_height"`
	HeaderHeight int64     `json:"header_height"`
	HeaderTime   time.Time `json:"header_time"`
	AppHash      string    `json:"app_hash"`
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
	lb, err := lc.VerifyFresh(ctx, o.MaxHeaderAge)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCouldNotVerify, err)
	}
	rd := reader{ctx: ctx, chain: chain, lb: lb}
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
		return r, nil
	}
	var f didtypes.ForeignAttestation
	if err := proto.Unmarshal(value, &f); err != nil {
		return nil, fmt.Errorf("%w: decode foreign attestation: %v", ErrCouldNotVerify, err)
	}
	a, r.ReceivedHeight, r.Attestation, r.Channel = f.Attestation, f.ReceivedHeight, &f.Attestation, f.SourceChannel
	if f.ClientId != "" {
		// Proven from an EVM city's registry contract through a city-qbft client: no channel, the
		// record names the client it was proven with.
		if err := rd.registered(r); err != nil {
			return nil, err
		}
		r.Client, r.EvmProofHeight = f.ClientId, f.ProofHeight
		clientType, frozen, err := rd.clientFrozen(f.ClientId)
		if err != nil {
			return nil, err
		}
		if clientType != qbftclient.ClientType {
			return nil, fmt.Errorf("%w: client %s of the record is a %s client on %s, not a %s client", ErrCouldNotVerify, f.ClientId, clientType, rd.chain.ChainID(), qbftclient.ClientType)
		}
		if frozen && r.Client == r.RegisteredClient {
			return r.markFrozen(), nil
		}
	} else {
		if err := rd.binding(r); err != nil {
			return nil, err
		}
		// Received over IBC: the registered 07-tendermint client behind the channel is frozen when
		// misbehaviour of the origin (two conflicting signed headers) was submitted to it.
		if r.Client == r.RegisteredClient {
			_, frozen, err := rd.clientFrozen(r.Client)
			if err != nil {
				return nil, err
			}
			if frozen {
				return r.markFrozen(), nil
			}
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
	if f.Tombstone {
		r.Status = StatusPending
		if a.Status == didtypes.ATTESTATION_STATUS_REVOKED {
			r.Status = StatusRevoked
		}
		return r, nil
	}
	r.Status = status(&a, o.Now)
	return r, nil
}

// reader reads state with proofs checked against one verified header.
type reader struct {
	ctx   context.Context
	chain chains.Prover
	lb    *cmttypes.LightBlock
}

// read returns the value at key (nil: proven absent) in the state the header commits to, and the
// height that state was read at.
func (rd reader) read(storeKey string, key []byte) ([]byte, int64, error) {
	p, err := rd.chain.QueryProven(rd.ctx, storeKey, key, rd.lb.Height-1)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: read %s/%s on %s: %v", ErrCouldNotVerify, storeKey, key, rd.chain.ChainID(), err)
	}
	if err := light.VerifyProofAgainstAppHash(rd.lb.AppHash, storeKey, key, p.Value, p.Ops); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrCouldNotVerify, err)
	}
	return p.Value, p.Height, nil
}

// markFrozen marks r as proven through its registered client, since frozen by misbehaviour.
func (r *Result) markFrozen() *Result {
	r.Status = StatusClientFrozen
	r.Reason = fmt.Sprintf("client %s of %s is frozen: two conflicting headers of %s were proven, so what was proven through it is no longer trusted (the registry admin registers a new client)", r.Client, r.Origin, r.Origin)
	return r
}

// clientFrozen proves the state of client clientID, a 07-tendermint or city-qbft client, and returns
// its type and whether misbehaviour froze it.
func (rd reader) clientFrozen(clientID string) (string, bool, error) {
	bz, _, err := rd.read(ibcexported.StoreKey, host.FullClientStateKey(clientID))
	if err != nil {
		return "", false, err
	}
	var any codectypes.Any
	if bz == nil || proto.Unmarshal(bz, &any) != nil {
		return "", false, fmt.Errorf("%w: client %s of the record is missing or malformed on %s", ErrCouldNotVerify, clientID, rd.chain.ChainID())
	}
	var tm ibctm.ClientState
	var qbft qbftclient.ClientState
	switch any.TypeUrl {
	case "/" + proto.MessageName(&tm):
		if err := proto.Unmarshal(any.Value, &tm); err != nil {
			return "", false, fmt.Errorf("%w: decode client state of %s on %s: %v", ErrCouldNotVerify, clientID, rd.chain.ChainID(), err)
		}
		return ibcexported.Tendermint, !tm.FrozenHeight.IsZero(), nil
	case "/" + proto.MessageName(&qbft):
		if err := proto.Unmarshal(any.Value, &qbft); err != nil {
			return "", false, fmt.Errorf("%w: decode client state of %s on %s: %v", ErrCouldNotVerify, clientID, rd.chain.ChainID(), err)
		}
		return qbftclient.ClientType, qbft.FrozenHeight != 0, nil
	}
	return "", false, fmt.Errorf("%w: client %s of the record on %s is of type %s, neither %s nor %s", ErrCouldNotVerify, clientID, rd.chain.ChainID(), any.TypeUrl, ibcexported.Tendermint, qbftclient.ClientType)
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
