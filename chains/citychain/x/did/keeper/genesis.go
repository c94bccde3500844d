package keeper

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	sdk "github.com/cosmos/cosmos-sdk/types"
	host "github.com/cosmos/ibc-go/v8/modules/core/24-host"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// InitGenesis binds the did port and loads all of the module's state: params, DIDs, the registries,
// the attestations issued here and received, deliveries, the inbox and the used nonces. The two
// indexes (keyatt/ and cityclient/) are rebuilt from the records.
func (k Keeper) InitGenesis(ctx sdk.Context, gs types.GenesisState) error {
	// The SDK does not validate a genesis before InitChain: a state loaded unchecked could hold an
	// attestation without its issuer's document, which anyone could then create.
	if err := gs.Validate(); err != nil {
		return err
	}
	if _, ok := k.scoped.GetCapability(ctx, host.PortPath(gs.PortId)); !ok {
		capability := k.ports.BindPort(ctx, gs.PortId)
		if err := k.scoped.ClaimCapability(ctx, capability, host.PortPath(gs.PortId)); err != nil {
			return fmt.Errorf("claim port %s: %w", gs.PortId, err)
		}
	}
	if err := k.SetParams(ctx, gs.Params); err != nil {
		return err
	}
	for _, d := range gs.Dids {
		if err := k.SetDID(ctx, d); err != nil {
			return err
		}
	}
	for _, t := range gs.TrustedIssuers {
		if err := k.SetTrusted(ctx, t.CredentialType, t.IssuerDid, true); err != nil {
			return err
		}
	}
	for _, a := range gs.Attestations {
		if err := k.SetAttestation(ctx, a); err != nil {
			return err
		}
		if a.Status != types.ATTESTATION_STATUS_REVOKED {
			if err := k.kv(ctx).Set(types.KeyAttestationKey(a.IssuerDid, a.IssuerMethod, a.IssuedHeight, a.Id), []byte{1}); err != nil {
				return err
			}
		}
	}
	// Genesis cities name clients that a chain starting from an export already holds; their clients
	// are not checked here (IBC's genesis may be initialised after this module's).
	for _, c := range gs.Cities {
		if _, err := k.setCity(ctx, c.ChainId, c.ClientId); err != nil {
			return err
		}
	}
	for _, f := range gs.ForeignAttestations {
		if err := k.SetForeignAttestation(ctx, f); err != nil {
			return err
		}
	}
	for _, d := range gs.Deliveries {
		if err := k.SetDelivery(ctx, d); err != nil {
			return err
		}
	}
	for _, n := range gs.UsedNonces {
		if err := k.kv(ctx).Set(types.NonceKey(n.OriginChainId, n.SenderDid, n.Nonce), []byte{1}); err != nil {
			return err
		}
	}
	for _, e := range gs.Inbox {
		if err := k.set(ctx, types.InboxKey(e.Message.OriginChainId, e.Message.MsgId), &e); err != nil {
			return err
		}
	}
	for _, h := range gs.Hubs {
		if err := k.kv(ctx).Set(types.HubKey(h), []byte{1}); err != nil {
			return err
		}
	}
	for _, f := range gs.PendingForwards {
		if err := k.SetPendingForward(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis exports all of the module's state (with the hub roles and the pending forwards). It walks the whole store and refuses a key it
// cannot carry (an unknown prefix, a record stored under another record's key, an index entry that
// its records do not imply): an export that silently dropped state would let a chain restarted from
// it hand out what it had already given (a DID, a nonce) a second time.
func (k Keeper) ExportGenesis(ctx sdk.Context) (*types.GenesisState, error) {
	p, err := k.GetParams(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: p, PortId: types.PortID}
	indexed := map[string]bool{}   // keyatt/ entries in the store
	reverse := map[string]string{} // cityclient/ entries in the store
	it, err := k.kv(ctx).Iterator(nil, nil)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		key, val := it.Key(), it.Value()
		skey := string(key)
		prefix, rest, _ := strings.Cut(skey, "/")
		var want []byte // the key the decoded record is stored under
		switch prefix {
		case "params":
			if skey != string(types.ParamsKey) {
				return nil, fmt.Errorf("export did: unknown key %q", key)
			}
			continue
		case "dids":
			var d types.DIDDocument
			if err := k.cdc.Unmarshal(val, &d); err != nil {
				return nil, fmt.Errorf("export did: decode %s: %w", key, err)
			}
			gs.Dids, want = append(gs.Dids, d), types.DIDKey(d.Id)
		case "att":
			var a types.Attestation
			if err := k.cdc.Unmarshal(val, &a); err != nil {
				return nil, fmt.Errorf("export did: decode %s: %w", key, err)
			}
			gs.Attestations, want = append(gs.Attestations, a), types.AttestationKey(a.Id)
		case "keyatt":
			if err := isMarker(key, val); err != nil {
				return nil, err
			}
			indexed[skey] = true
			continue
		case "fatt":
			var f types.ForeignAttestation
			if err := k.cdc.Unmarshal(val, &f); err != nil {
				return nil, fmt.Errorf("export did: decode %s: %w", key, err)
			}
			gs.ForeignAttestations, want = append(gs.ForeignAttestations, f), types.ForeignAttestationKey(f.Attestation.OriginChainId, f.Attestation.Id)
		case "dlv":
			var d types.Delivery
			if err := k.cdc.Unmarshal(val, &d); err != nil {
				return nil, fmt.Errorf("export did: decode %s: %w", key, err)
			}
			gs.Deliveries, want = append(gs.Deliveries, d), types.DeliveryKey(d.Channel, d.Sequence)
		case "inbox":
			var e types.InboxEntry
			if err := k.cdc.Unmarshal(val, &e); err != nil {
				return nil, fmt.Errorf("export did: decode %s: %w", key, err)
			}
			gs.Inbox, want = append(gs.Inbox, e), types.InboxKey(e.Message.OriginChainId, e.Message.MsgId)
		case "nonce":
			if err := isMarker(key, val); err != nil {
				return nil, err
			}
			n, err := parseNonceKey(rest)
			if err != nil {
				return nil, fmt.Errorf("export did: %q: %w", key, err)
			}
			gs.UsedNonces, want = append(gs.UsedNonces, n), types.NonceKey(n.OriginChainId, n.SenderDid, n.Nonce)
		case "trust":
			if err := isMarker(key, val); err != nil {
				return nil, err
			}
			credType, issuer, ok := strings.Cut(rest, "/")
			if !ok {
				return nil, fmt.Errorf("export did: malformed registry key %q", key)
			}
			gs.TrustedIssuers, want = append(gs.TrustedIssuers, types.TrustedIssuer{CredentialType: credType, IssuerDid: issuer}), types.TrustedIssuerKey(credType, issuer)
		case "city":
			gs.Cities, want = append(gs.Cities, types.City{ChainId: rest, ClientId: string(val)}), types.CityKey(rest)
		case "cityclient":
			reverse[rest] = string(val)
			continue
		case "hub":
			if err := isMarker(key, val); err != nil {
				return nil, err
			}
			gs.Hubs, want = append(gs.Hubs, rest), types.HubKey(rest)
		case "fwd":
			var f types.PendingForward
			if err := k.cdc.Unmarshal(val, &f); err != nil {
				return nil, fmt.Errorf("export did: decode %s: %w", key, err)
			}
			gs.PendingForwards, want = append(gs.PendingForwards, f), types.PendingForwardKey(f.Channel, f.Sequence)
		default:
			return nil, fmt.Errorf("export did: unknown key %q: the export would lose it", key)
		}
		if !bytes.Equal(key, want) {
			return nil, fmt.Errorf("export did: record under %q belongs under %q", key, want)
		}
	}
	// The indexes must be exactly what the records imply, since import rebuilds them from the records.
	for _, a := range gs.Attestations {
		if a.Status == types.ATTESTATION_STATUS_REVOKED {
			continue
		}
		ik := string(types.KeyAttestationKey(a.IssuerDid, a.IssuerMethod, a.IssuedHeight, a.Id))
		if !indexed[ik] {
			return nil, fmt.Errorf("export did: attestation %s is not revoked but missing from its key index (%s)", a.Id, ik)
		}
		delete(indexed, ik)
	}
	if len(indexed) > 0 {
		stray := make([]string, 0, len(indexed))
		for ik := range indexed {
			stray = append(stray, ik)
		}
		sort.Strings(stray)
		return nil, fmt.Errorf("export did: %d key index entries name no live attestation, first %s", len(stray), stray[0])
	}
	for _, c := range gs.Cities {
		if reverse[c.ClientId] != c.ChainId {
			return nil, fmt.Errorf("export did: city %s has client %s, whose reverse entry says %q", c.ChainId, c.ClientId, reverse[c.ClientId])
		}
		delete(reverse, c.ClientId)
	}
	if len(reverse) > 0 {
		stray := make([]string, 0, len(reverse))
		for clientID := range reverse {
			stray = append(stray, clientID)
		}
		sort.Strings(stray)
		return nil, fmt.Errorf("export did: %d reverse registry entries name no city, first client %s (city %q)", len(stray), stray[0], reverse[stray[0]])
	}
	return gs, nil
}

// isMarker checks the value of a presence-only key.
func isMarker(key, val []byte) error {
	if !bytes.Equal(val, []byte{1}) {
		return fmt.Errorf("export did: %q holds %x, want 01", key, val)
	}
	return nil
}

// parseNonceKey parses <origin-chain-id>/<sender-did>/<n>, the rest of a nonce/ key.
func parseNonceKey(rest string) (types.UsedNonce, error) {
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return types.UsedNonce{}, fmt.Errorf("nonce key has %d parts, want 3", len(parts))
	}
	n, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil {
		return types.UsedNonce{}, fmt.Errorf("nonce: %w", err)
	}
	return types.UsedNonce{OriginChainId: parts[0], SenderDid: parts[1], Nonce: n}, nil
}
