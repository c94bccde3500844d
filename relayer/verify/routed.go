package verify

import (
	"errors"
	"fmt"
	"time"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// routed answers r from a record the chain received forwarded through a hub (f.Route names the hub),
// with every proof against the chain's one verified header (rd): the route ends at this chain and
// starts at r.Origin, the issuer DID is a DID of the origin, the record's channel runs over the client
// the chain's city registry names for the hub, the registry marks the hub as a hub (hub/<chain-id>
// proven present), and that client of the hub is of the hub's chain id, not frozen, not expired. The
// hub vouched for the origin when it forwarded (its registered client of the origin delivered it);
// the chain need not know the origin. A status that is not final (revoked, expired) is then confirmed
// at the origin through the hub's proofs (via.go: the hub's registry entry for the origin, its client
// of the origin, the origin's own record; and the origin's fresh status when configured), or answered
// from the forwarded copy alone when the caller asked for RelayedOnly. r.Via is the route.
func (rd reader) routed(r *Result, f *didtypes.ForeignAttestation, o Options) error {
	rt, a := f.Route, &f.Attestation
	hub := rt.HubChainId
	r.Via = &Route{Hub: hub}
	unrecognised := func(format string, args ...any) error {
		r.Status, r.Reason = StatusUnrecognised, fmt.Sprintf(format, args...)
		return nil
	}
	// The chain's state machine wrote the route after checking it (x/did checkOrigin); these checks
	// hold a record to what verify relies on, whatever wrote it.
	switch {
	case rt.DestinationChainId != r.Chain:
		return unrecognised("the record's route ends at %s, not at %s: it was not forwarded to %s", rt.DestinationChainId, r.Chain, r.Chain)
	case rt.OriginChainId != r.Origin || a.OriginChainId != r.Origin:
		return unrecognised("the record's route starts at %s and its attestation names %s as its origin, not %s", rt.OriginChainId, a.OriginChainId, r.Origin)
	case hub == r.Chain || hub == r.Origin:
		return unrecognised("the record's route names %s as its hub: a hub is neither the origin nor the destination", hub)
	}
	if err := didtypes.ValidateChainID(hub); err != nil {
		return unrecognised("the record's route names hub %q: %v", hub, err)
	}
	if city, _, err := didtypes.ParseDID(a.IssuerDid); err != nil || city != r.Origin {
		return unrecognised("the issuer %s is not a DID of %s, the route's origin", a.IssuerDid, r.Origin)
	}
	if err := rd.channelClient(r); err != nil {
		return err
	}
	hc, _, err := rd.read(didtypes.StoreKey, didtypes.CityKey(hub))
	if err != nil {
		return err
	}
	r.Via.HubClient = string(hc)
	if hc == nil {
		return unrecognised("%s's city registry names no client of %s, the hub the record was forwarded by (over client %s)", r.Chain, hub, r.Client)
	}
	marked, _, err := rd.read(didtypes.StoreKey, didtypes.HubKey(hub))
	if err != nil {
		return err
	}
	if marked == nil {
		return unrecognised("%s is not a hub here: %s's city registry does not mark it as one, so what it forwarded does not speak for %s (the registry admin marks it: citychaind tx did register-hub %s)",
			hub, r.Chain, r.Origin, hub)
	}
	if r.Client != r.Via.HubClient {
		return unrecognised("the record came over client %s, %s's city registry names %s for the hub %s", r.Client, r.Chain, r.Via.HubClient, hub)
	}
	c, cs, decided, err := rd.judgeHop(r, hub, r.Via.HubClient, hub)
	if decided || err != nil {
		return err
	}
	r.Via.HubHeight, r.Via.HubTime = int64(c.latest.GetRevisionHeight()), cs.Timestamp

	relayed := status(a, o.Now)
	if f.Tombstone {
		relayed = StatusPending
		if a.Status == didtypes.ATTESTATION_STATUS_REVOKED {
			relayed = StatusRevoked
		}
	}
	r.Status, r.StatusFrom = relayed, "relayed"
	switch {
	case relayed == StatusRevoked || relayed == StatusExpired:
		// Final whatever the origin did since, as for a record received directly.
		r.Reason = fmt.Sprintf("%s in the record forwarded via %s (received at %s height %d)", relayed, hub, r.Chain, r.ReceivedHeight)
		return nil
	case o.RelayedOnly:
		r.Reason = fmt.Sprintf("%s in the record forwarded via %s only (received at %s height %d; %s's latest state of the hub is of %s): a status change %s made since may not have arrived",
			relayed, hub, r.Chain, r.ReceivedHeight, r.Chain, r.Via.HubTime.UTC().Format(time.RFC3339), r.Origin)
		return nil
	case o.Nodes == nil:
		return fmt.Errorf("%w: the record of %s on %s was forwarded via %s, and no nodes are configured to prove %s's own status through the hub (configure %s and %s; or ask for the relayed record only)",
			ErrNotFresh, r.Origin, r.Chain, hub, r.Origin, hub, r.Origin)
	}
	// Issue 19's rule: the issuing city's record is the truth. Proven through the hub that forwarded
	// the record (the same client of it, proven again), as of the hub's latest state of the origin,
	// or fresh at the origin when it is configured.
	via := o
	via.Via = hub
	r.StatusFrom = ""
	if err := rd.viaHub(r, via); err != nil {
		if !errors.Is(err, ErrNotFresh) {
			err = fmt.Errorf("%w: proving %s's own status through the hub %s: %w", ErrNotFresh, r.Origin, hub, err)
		}
		return err
	}
	if r.StatusFrom != "hub" && r.StatusFrom != "origin" {
		// The route decided (the hub no longer lists the origin, a client on it frozen or expired).
		return nil
	}
	r.RelayedStatus = relayed
	if relayed == StatusPending && r.Status != StatusRevoked {
		r.Reason = fmt.Sprintf("only a status change has arrived on %s (forwarded via %s); %s's own record: %s", r.Chain, hub, r.Origin, r.Reason)
		r.Status = StatusPending
		return nil
	}
	if r.Status != relayed {
		r.Reason += fmt.Sprintf("; the record forwarded to %s via %s still says %s", r.Chain, hub, relayed)
	}
	if r.Attestation == nil {
		// The origin holds no such record: show what was forwarded.
		r.Attestation = a
	}
	return nil
}
