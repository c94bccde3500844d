package types

import "testing"

// TestRouteValidate: a route's origin is its content's; origin, destination and hub are three chains.
func TestRouteValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route Route
		ok    bool
	}{
		{"first hop", Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1"}, true},
		{"second hop", Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "wego-1"}, true},
		{"origin other than the content's", Route{OriginChainId: "busan-1", DestinationChainId: "bucheon-1"}, false},
		{"to itself", Route{OriginChainId: "seoul-1", DestinationChainId: "seoul-1"}, false},
		{"hub is the origin", Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "seoul-1"}, false},
		{"hub is the destination", Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "bucheon-1"}, false},
		{"no destination", Route{OriginChainId: "seoul-1"}, false},
		{"bad hub id", Route{OriginChainId: "seoul-1", DestinationChainId: "bucheon-1", HubChainId: "WEGO/1"}, false},
	} {
		err := tc.route.Validate("seoul-1")
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && !ErrRoute.Is(err) {
			t.Errorf("%s: want ErrRoute, got %v", tc.name, err)
		}
	}
	// A packet whose route names another origin than its content does not decode.
	d := DIDPacketData{Packet: &DIDPacketData_Revocation{Revocation: &RevocationPacket{AttestationId: "ab", OriginChainId: "seoul-1",
		IssuerDid: "did:city:seoul-1:office", ByController: true, NewStatus: ATTESTATION_STATUS_REVOKED}},
		Route: &Route{OriginChainId: "busan-1", DestinationChainId: "bucheon-1"}}
	if _, err := DecodePacketData(d.GetBytes()); !ErrRoute.Is(err) {
		t.Fatalf("decode with a route from another origin: %v", err)
	}
	d.Route = nil
	if _, err := DecodePacketData(d.GetBytes()); err != nil {
		t.Fatalf("the same packet without a route (as before routes): %v", err)
	}
}
