package verify

import (
	"context"
	"strings"
	"testing"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// TestRoutedRecordMustFitItsRoute: a forwarded record speaks for the route's origin on this chain only
// when the route ends here, starts at the origin asked about, names a hub that is neither, and the
// issuer is a DID of the origin; otherwise it is not recognised, before anything is read. (The proofs
// of the binding to the hub, its role and the status through it are tested on a real star in
// relayer/forwarding.)
func TestRoutedRecordMustFitItsRoute(t *testing.T) {
	ok := didtypes.Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "wego-1"}
	for _, tc := range []struct {
		name   string
		route  didtypes.Route
		origin string
		issuer string
		reason string
	}{
		{"forwarded to another member", didtypes.Route{OriginChainId: "seoul-1", DestinationChainId: "suwon-1", HubChainId: "wego-1"}, "seoul-1",
			"did:city:seoul-1:civil-office", "ends at suwon-1, not at bucheon-1"},
		{"route of another origin", didtypes.Route{OriginChainId: "busan-1", DestinationChainId: "bucheon-1", HubChainId: "wego-1"}, "seoul-1",
			"did:city:seoul-1:civil-office", "starts at busan-1"},
		{"attestation of another origin", ok, "seoul-1", "did:city:seoul-1:civil-office", "names busan-1 as its origin"},
		{"hub is the origin", didtypes.Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "seoul-1"}, "seoul-1",
			"did:city:seoul-1:civil-office", "names seoul-1 as its hub"},
		{"issuer of another city", ok, "seoul-1", "did:city:busan-1:civil-office", "not a DID of seoul-1"},
		{"issuer not a DID", ok, "seoul-1", "mailto:clerk", "not a DID of seoul-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route := tc.route
			attOrigin := tc.origin
			if tc.name == "attestation of another origin" {
				attOrigin = "busan-1"
			}
			f := &didtypes.ForeignAttestation{Attestation: didtypes.Attestation{Id: "ab", OriginChainId: attOrigin, IssuerDid: tc.issuer}, SourceChannel: "channel-1", Route: &route}
			r := &Result{Chain: "bucheon-1", Origin: tc.origin, ID: "ab"}
			// No chain to read: every one of these is decided before a read.
			if err := (reader{ctx: context.Background()}).routed(r, f, Options{}); err != nil {
				t.Fatal(err)
			}
			if r.Status != StatusUnrecognised || !strings.Contains(r.Reason, tc.reason) || r.Via == nil || r.Via.Hub != route.HubChainId {
				t.Fatalf("got %s (%q), route %+v; want %s naming %q", r.Status, r.Reason, r.Via, StatusUnrecognised, tc.reason)
			}
		})
	}
}
