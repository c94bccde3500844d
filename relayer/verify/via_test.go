package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// TestViaFreshRules: through a hub, the origin's record as of the hub's latest state of it answers
// when final (revoked, expired) or no older than MaxOriginAge; a configured origin's fresh record
// decides otherwise; a stale state without the origin is no answer unless RelayedOnly. (The proofs
// of the route are tested end to end on a real star in via_e2e_test.go.)
func TestViaFreshRules(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const id = "ab"
	att := func(s didtypes.AttestationStatus) *didtypes.Attestation {
		return &didtypes.Attestation{Id: id, Status: s, ValidFrom: now.Unix() - 60, ValidUntil: now.Unix() + 3600}
	}
	origin := func(a *didtypes.Attestation) Origins {
		return func(string) (Origin, bool) { return fakeOrigin{st: &originState{att: a, height: 900, time: now}}, true }
	}
	fresh, stale := now.Add(-10*time.Second), now.Add(-10*time.Minute)
	for _, tc := range []struct {
		name        string
		hub         Status
		asOf        time.Time
		origins     Origins
		relayedOnly bool
		want        Status
		from        string
		reason      string
		err         error
	}{
		{"valid, recent hub state", StatusValid, fresh, nil, false, StatusValid, "hub", "", nil},
		{"valid, stale hub state, origin not configured", StatusValid, stale, nil, false, "", "", "older than 1m0s", ErrNotFresh},
		{"valid, stale hub state, relayed only", StatusValid, stale, nil, true, StatusValid, "hub", "may not have arrived", nil},
		{"revoked is final however stale", StatusRevoked, stale, nil, false, StatusRevoked, "hub", "", nil},
		{"expired is final however stale", StatusExpired, stale, nil, false, StatusExpired, "hub", "", nil},
		{"absent, stale, origin not configured", StatusAbsent, stale, nil, false, "", "", "not configured", ErrNotFresh},
		{"valid at the hub, revoked at the origin", StatusValid, fresh, origin(att(didtypes.ATTESTATION_STATUS_REVOKED)), false, StatusRevoked, "origin",
			"as of the hub wego-1's state of seoul-1 (height 812) it was valid", nil},
		{"absent at the hub, issued since at the origin", StatusAbsent, stale, origin(att(didtypes.ATTESTATION_STATUS_ACTIVE)), false, StatusValid, "origin",
			"valid at seoul-1 height 900", nil},
		{"valid at the hub, absent at the origin", StatusValid, fresh, origin(nil), false, StatusAbsent, "origin", "holds no attestation", nil},
		{"origin configured, not bound", StatusValid, fresh, func(string) (Origin, bool) {
			return fakeOrigin{err: errors.New("x")}, true
		}, false, "", "", "x", errors.New("x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Chain: "bucheon-1", Origin: "seoul-1", ID: id, Status: tc.hub, StatusFrom: "hub", OriginHeight: 812, OriginTime: tc.asOf,
				Via: &Route{Hub: "wego-1", OriginHeight: 812, OriginTime: tc.asOf, Status: tc.hub}}
			err := reader{ctx: context.Background()}.viaFresh(r, hop{}, Options{Now: now, MaxOriginAge: time.Minute, Origins: tc.origins, RelayedOnly: tc.relayedOnly})
			if tc.err != nil {
				if err == nil || !strings.Contains(err.Error(), tc.reason) || (errors.Is(tc.err, ErrNotFresh) && !errors.Is(err, ErrNotFresh)) {
					t.Fatalf("want an error naming %q, got %+v, %v", tc.reason, r, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.want || r.StatusFrom != tc.from || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("got %s from %s (%q); want %s from %s naming %q", r.Status, r.StatusFrom, r.Reason, tc.want, tc.from, tc.reason)
			}
		})
	}
}
