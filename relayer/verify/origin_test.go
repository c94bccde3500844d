package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// fakeOrigin answers a fixed origin state (a unit test of the rules above the proofs; the proofs and
// the binding are tested end to end on real chains in relayer/origin_test.go and
// relayer/evmrelay/e2e_test.go).
type fakeOrigin struct {
	st  *originState
	err error
}

func (f fakeOrigin) status(context.Context, reader, *clientInfo, string, Options) (*originState, error) {
	return f.st, f.err
}

// TestFromOriginRules: the origin's own record decides, whatever the relayed copy says; the answer
// names the origin height; without the origin there is no answer from the copy.
func TestFromOriginRules(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const id = "ab"
	att := func(s didtypes.AttestationStatus) *didtypes.Attestation {
		return &didtypes.Attestation{Id: id, Status: s, ValidFrom: now.Unix() - 60, ValidUntil: now.Unix() + 3600}
	}
	at := originState{height: 812, time: now.Add(-time.Second)}
	with := func(a *didtypes.Attestation) Origins {
		st := at
		st.att = a
		return func(string) (Origin, bool) { return fakeOrigin{st: &st}, true }
	}
	for _, tc := range []struct {
		name    string
		relayed Status
		origins Origins
		want    Status
		reason  string
		err     error
	}{
		{"revoked at the origin, valid in the copy", StatusValid, with(att(didtypes.ATTESTATION_STATUS_REVOKED)), StatusRevoked,
			"revoked at seoul-1 height 812", nil},
		{"valid at both", StatusValid, with(att(didtypes.ATTESTATION_STATUS_ACTIVE)), StatusValid, "valid at seoul-1 height 812", nil},
		{"reinstated at the origin, suspended in the copy", StatusSuspended, with(att(didtypes.ATTESTATION_STATUS_ACTIVE)), StatusValid,
			"still says suspended", nil},
		{"suspended at the origin", StatusValid, with(att(didtypes.ATTESTATION_STATUS_SUSPENDED)), StatusSuspended, "suspended at seoul-1", nil},
		{"absent at the origin", StatusValid, with(nil), StatusAbsent, "holds no attestation", nil},
		{"only a status change arrived, revoked at the origin", StatusPending, with(att(didtypes.ATTESTATION_STATUS_REVOKED)), StatusRevoked,
			"revoked at seoul-1", nil},
		{"only a status change arrived, active at the origin", StatusPending, with(att(didtypes.ATTESTATION_STATUS_ACTIVE)), StatusPending,
			"only a status change has arrived", nil},
		{"origin not configured", StatusValid, nil, "", "not configured", ErrNotFresh},
		{"origin configured, its light client not open", StatusValid, func(id string) (Origin, bool) {
			return Unavailable(id, errors.New("no trusted header")), true
		}, "", "seoul-1 is configured but cannot be read: no trusted header", ErrNotFresh},
		{"origin not bound", StatusValid, func(string) (Origin, bool) {
			return fakeOrigin{err: fmt.Errorf("%w: its header does not verify from the registered client", ErrNotFresh)}, true
		}, "", "does not verify", ErrNotFresh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Chain: "bucheon-1", Origin: "seoul-1", ID: id, Status: tc.relayed, StatusFrom: "relayed"}
			err := reader{ctx: context.Background()}.fromOrigin(r, &clientInfo{}, Options{Now: now, Origins: tc.origins})
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !errors.Is(err, ErrCouldNotVerify) || !strings.Contains(err.Error(), tc.reason) {
					t.Fatalf("want %v naming %q, got %v", tc.err, tc.reason, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.want || !strings.Contains(r.Reason, tc.reason) || r.OriginHeight != 812 || r.RelayedStatus != tc.relayed {
				t.Fatalf("got %s (%q), origin height %d, relayed %s; want %s naming %q", r.Status, r.Reason, r.OriginHeight, r.RelayedStatus, tc.want, tc.reason)
			}
			if r.Status != tc.relayed && r.StatusFrom != "origin" {
				t.Fatalf("status from %q", r.StatusFrom)
			}
		})
	}
	// A record at att/<id> with another id is a lying node's answer, not a status.
	bad := att(didtypes.ATTESTATION_STATUS_ACTIVE)
	bad.Id = "cd"
	r := &Result{Chain: "bucheon-1", Origin: "seoul-1", ID: id, Status: StatusValid}
	if err := (reader{ctx: context.Background()}).fromOrigin(r, &clientInfo{}, Options{Now: now, Origins: with(bad)}); !errors.Is(err, ErrCouldNotVerify) {
		t.Fatalf("a record with another id: %v, %+v", err, r)
	}
}
