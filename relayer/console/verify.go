package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cityrelay/cityrelay/light"
	"github.com/cityrelay/cityrelay/relayer/verify"
)

// Card is a verification as a clerk reads it.
type Card struct {
	// Verdict is valid, revoked, suspended, expired, not yet valid, not found, not recognised,
	// client frozen, client expired or cannot verify. Only "valid" means the credential may be accepted.
	Verdict string `json:"verdict"`
	// Explain says in one sentence what the verdict means for the clerk.
	Explain string `json:"explain"`
	// Result is the verified answer with its proof details (nil when it cannot verify).
	Result *verify.Result `json:"result,omitempty"`
	// Error is why it could not verify.
	Error string `json:"error,omitempty"`
	// Route says how the answer came through a hub: "forwarded via wego-1" (a record the city received
	// forwarded by its hub) or "through hub wego-1" (proven through the hub's proofs alone).
	Route string `json:"route,omitempty"`
}

// route is the Card's Route for res.
func route(res *verify.Result) string {
	switch {
	case res == nil || res.Via == nil:
		return ""
	case res.Channel != "":
		return "forwarded via " + res.Via.Hub
	}
	return "through hub " + res.Via.Hub
}

var verdicts = map[verify.Status][2]string{
	verify.StatusValid:         {"valid", "The credential is valid: its issuing city has not revoked or suspended it and it is within its validity dates."},
	verify.StatusRevoked:       {"revoked", "The issuing city revoked this credential. Do not accept it."},
	verify.StatusSuspended:     {"suspended", "The issuing city suspended this credential. Do not accept it for now."},
	verify.StatusExpired:       {"expired", "The credential's validity period is over."},
	verify.StatusNotYet:        {"not yet valid", "The credential's validity period has not started."},
	verify.StatusAbsent:        {"not found", "This city holds no credential with this id from that city."},
	verify.StatusPending:       {"not found", "Only a status change has arrived for this credential, not the credential itself."},
	verify.StatusUnrecognised:  {"not recognised", "The record did not come from the client this city's registry names for the issuing city."},
	verify.StatusClientFrozen:  {"client frozen", "The record was proven through a client frozen for misbehaviour: it cannot be trusted."},
	verify.StatusClientExpired: {"client expired", "Do not accept this as valid: the issuing city's revocations can no longer reach this city, so it may have been revoked since."},
}

// apiVerify runs the light-client-checked verification of `cityrelay verify` (?chain=&origin=&id=,
// and &via= a hub to verify through)
// and answers a Card; it is 200 whatever the verdict, including "cannot verify".
func (c *Console) apiVerify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	chain, origin, id := strings.TrimSpace(q.Get("chain")), strings.TrimSpace(q.Get("origin")), strings.ToLower(strings.TrimSpace(q.Get("id")))
	via := strings.TrimSpace(q.Get("via"))
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	res, err := c.verify(ctx, chain, origin, id, via)
	switch {
	case errors.Is(err, verify.ErrNotCityChain):
		reply(w, http.StatusOK, Card{Verdict: "not a city chain", Explain: chain + " is not a city chain (it has no did module): it holds no credentials to verify.",
			Error: light.RedactText(err.Error())}, nil)
		return
	case errors.Is(err, verify.ErrNotFresh):
		reply(w, http.StatusOK, Card{Verdict: "cannot verify", Explain: "The issuing city's own current status could not be proven now (its nodes unreachable or stalled, or it is not configured here): do not accept the credential as valid yet. Try again later.",
			Error: light.RedactText(err.Error())}, nil)
		return
	case err != nil:
		reply(w, http.StatusOK, Card{Verdict: "cannot verify", Explain: "No verified answer could be obtained now: this is not a negative answer. Try again later.",
			Error: light.RedactText(err.Error())}, nil)
		return
	}
	v, ok := verdicts[res.Status]
	if !ok {
		v = [2]string{string(res.Status), res.Reason}
	}
	reply(w, http.StatusOK, Card{Verdict: v[0], Explain: v[1], Result: res, Route: route(res)}, nil)
}

func (c *Console) verify(ctx context.Context, chain, origin, id, via string) (*verify.Result, error) {
	if c.o.Verify == nil {
		return nil, fmt.Errorf("%w: the console has no verifier", verify.ErrCouldNotVerify)
	}
	return c.o.Verify(ctx, chain, origin, id, via)
}
