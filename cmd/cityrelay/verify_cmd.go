package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer/verify"
)

func verifyCmd() *cobra.Command {
	var chain, origin, id, via string
	var asJSON, trustLatest, relayedOnly bool
	cmd := &cobra.Command{
		Use:   "verify --chain CHAIN --origin ORIGIN-CHAIN --id ATTESTATION-ID",
		Short: "Verify an attestation on a chain with a light-client-checked proof (exit 0 valid, 1 not valid, 2 could not verify)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if _, ok := cfg.Chains[chain]; !ok {
				return &exitError{code: 2, err: fmt.Errorf("chain %q is not configured (cityrelay chains list)", chain)}
			}
			rt := openRuntime(cmd, cfg, trustLatest)
			defer rt.Close()
			c, err := rt.Chain(chain)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			lc, err := rt.Light(cmd.Context(), chain)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			// The origin's own status is proven with our light client of it (a chain or an EVM city
			// of this config), opened only when a relayed record needs it.
			origins := rt.Origins(cmd.Context())
			res, err := verify.Attestation(cmd.Context(), c, lc, origin, id,
				verify.Options{MaxHeaderAge: cfg.Verify.MaxHeaderAge.Duration, Now: time.Now(), Origins: origins,
					MaxOriginAge: cfg.Verify.MaxOriginAge.Duration, RelayedOnly: relayedOnly, Via: via, Nodes: rt.Nodes()})
			if errors.Is(err, verify.ErrNotCityChain) {
				return &exitError{code: 2, err: fmt.Errorf("%s is not a city chain (it has no did module): %w", chain, err)}
			}
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(res); err != nil {
					return &exitError{code: 2, err: err}
				}
			} else {
				fmt.Fprintf(out, "status:          %s\n", res.Status)
				if res.Reason != "" {
					fmt.Fprintf(out, "reason:          %s\n", res.Reason)
				}
				if res.OriginHeight != 0 {
					fmt.Fprintf(out, "status proven:   %s at %s height %d (%s), from %s\n", res.Status, res.Origin, res.OriginHeight,
						res.OriginTime.UTC().Format(time.RFC3339), statusFrom(res.StatusFrom))
				}
				fmt.Fprintf(out, "chain:           %s (header %d of %s verified by the light client, app hash %s)\norigin:          %s\nid:              %s\n",
					res.Chain, res.HeaderHeight, res.HeaderTime.UTC().Format(time.RFC3339), res.AppHash, res.Origin, res.ID)
				if !res.OriginStateAsOf.IsZero() && res.OriginHeight == 0 {
					fmt.Fprintf(out, "origin state of: %s (the latest state of %s its client holds: nothing %s did later has arrived)\n",
						res.OriginStateAsOf.UTC().Format(time.RFC3339), res.Origin, res.Origin)
				}
				if v := res.Via; v != nil && res.Channel != "" {
					fmt.Fprintf(out, "forwarded via:   %s (the record's route: %s → %s → %s)\n", v.Hub, res.Origin, v.Hub, res.Chain)
				}
				if v := res.Via; v != nil {
					fmt.Fprintf(out, "via hub:         %s, client %s on %s (%s's registry names it), hub header %d (%s)\n",
						v.Hub, v.HubClient, res.Chain, res.Chain, v.HubHeight, v.HubTime.UTC().Format(time.RFC3339))
					if v.OriginClient != "" {
						fmt.Fprintf(out, "hub's client:    %s of %s on %s (the hub's registry names it), %s header %d (%s): %s\n",
							v.OriginClient, res.Origin, v.Hub, res.Origin, v.OriginHeight, v.OriginTime.UTC().Format(time.RFC3339), v.Status)
					}
				}
				if res.Channel != "" && res.Via != nil {
					fmt.Fprintf(out, "arrived on:      %s/%s over %s, client %s, forwarded via %s (the registry names %s for the hub %s)\n",
						"did", res.Channel, res.Connection, res.Client, res.Via.Hub, registered(res.Via.HubClient), res.Via.Hub)
				} else if res.Channel != "" {
					fmt.Fprintf(out, "arrived on:      %s/%s over %s, client %s (the registry names %s for %s)\n",
						"did", res.Channel, res.Connection, res.Client, registered(res.RegisteredClient), res.Origin)
				} else if res.EvmProofHeight != 0 {
					fmt.Fprintf(out, "proven from:     %s's registry contract at EVM block %d, client %s (the registry names %s for %s)\n",
						res.Origin, res.EvmProofHeight, res.Client, registered(res.RegisteredClient), res.Origin)
				}
				if a := res.Attestation; a != nil {
					fmt.Fprintf(out, "issuer:          %s#%s\nsubject:         %s\ncredential type: %s\nvalid:           %s .. %s\nissued at:       %s%s\n",
						a.IssuerDid, a.IssuerMethod, a.SubjectDid, a.CredentialType, time.Unix(a.ValidFrom, 0).UTC().Format(time.RFC3339),
						time.Unix(a.ValidUntil, 0).UTC().Format(time.RFC3339), a.OriginChainId, atHeight(a.IssuedHeight))
					if res.ReceivedHeight != 0 { // 0: verified on its origin chain, where it did not arrive
						fmt.Fprintf(out, "received at:     height %d\n", res.ReceivedHeight)
					}
				}
			}
			if res.Status != verify.StatusValid {
				return &exitError{code: 1, err: errors.New("attestation is " + string(res.Status))}
			}
			return nil
		},
	}
	cmd.Long = `Verify an attestation on a chain without trusting its RPC node. Against one header the light
client verified, no older than verify.max_header_age and not behind the chain's witnesses, it proves
the record and, for a record received from another city, the chain's city registry entry for the
origin and the binding of the record's channel to that registered client (channel, connection,
client). For such a record it also proves the issuing city's own current status: att/<id> on a
Cosmos origin, status[id] in an EVM city's registry, at a header of the origin no older than
verify.max_origin_age, verified from the client the chain's registry names for the origin (so an
impostor calling itself the origin cannot answer). A revocation then counts as soon as the origin
commits it, whether or not a relayer carried it. The origin must be configured (chains add, or an
[evm_cities] table); when its status cannot be proven freshly, verify exits 2 "cannot verify
freshly", unless --relayed-only asks for the relayed record's answer (as of the registered client's
latest state of the origin). A chain that is not a city chain (no did module) exits 2. Exit 0: valid; 1: proven not valid (revoked, suspended, expired, absent, origin not
recognised, client frozen: the registered client the record came through, 07-tendermint or
city-qbft, was frozen by misbehaviour, or client expired: that client's latest state of the origin
is older than its trusting period, so the origin's revocations since cannot have arrived); 2: could not verify (no fresh verified header, a proof that does not match, an error).

With --via HUB (a member chain holding only a client of the association's hub), nothing the chain
received is read: against the chain's verified header it proves its registry entry for the hub and
that client's latest consensus state (the hub's app hash), in the hub's state the hub's registry entry
for the origin and the hub's client of it (not frozen, not expired, of the origin's chain id) and its
latest consensus state (the origin's app hash), and in the origin's state its own att/<id>. The hub
and the origin must be configured chains (their nodes serve the proofs; nothing they say is trusted
unproven). The answer is as of the hub's latest state of the origin: when the origin is configured
with a light client, its fresh status is proven (bound to the hub's client of it); else the hub's
state answers when no older than verify.max_origin_age (revoked and expired are final), or with
--relayed-only. Trusted: the chain's registry admin (its client of the hub) and the hub's validators
(the membership list and the hub's client of the origin).

A record the chain received forwarded through a hub (its route names the hub; no --via needed) is
bound to the chain's registered client of that hub, not to an entry for the origin: the route must end
at the chain, the issuer DID be of the route's origin, the chain's registry must mark the hub as a hub
(else "origin-not-recognised: wego-1 is not a hub here"), and the hub's client must be neither frozen
nor expired. Revoked and expired in the record are final; any other status is confirmed at the origin
through the hub's proofs as with --via (the hub and the origin configured), or answered from the
forwarded copy with --relayed-only. The output says "forwarded via HUB".`
	cmd.Flags().StringVar(&chain, "chain", "", "chain to verify on (e.g. bucheon-1)")
	cmd.Flags().StringVar(&origin, "origin", "", "chain that issued the attestation (e.g. seoul-1)")
	cmd.Flags().StringVar(&id, "id", "", "attestation id (64 hex characters)")
	cmd.Flags().StringVar(&via, "via", "", "verify through this hub chain (e.g. wego-1): the chain's registered client of the hub, the hub's registered client of the origin, the origin's own record")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&relayedOnly, "relayed-only", false, "answer from the relayed record alone, without proving the origin's own current status (a revocation since may not have arrived)")
	cmd.Flags().BoolVar(&trustLatest, "trust-latest", false, "start a light client with an empty store from the chain's latest header")
	return cmd
}

func registered(client string) string {
	if client == "" {
		return "no client"
	}
	return client
}

// atHeight is " height H", or nothing when the height is not known (0).
func atHeight(h int64) string {
	if h == 0 {
		return ""
	}
	return fmt.Sprintf(" height %d", h)
}

// statusFrom says in words where a status was proven.
func statusFrom(from string) string {
	switch from {
	case "origin":
		return "the issuing city's own record"
	case "local":
		return "this chain's own record (it is the origin)"
	case "hub":
		return "the issuing city's own record, as of the hub's latest state of it"
	}
	return "the relayed record"
}
