package light

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/light/provider"
)

// WitnessState is what a witness's last cross-check found.
type WitnessState string

// The states of a witness.
const (
	// WitnessUnchecked: not asked since the client opened (a client resumed from its store is first
	// cross-checked at its first new header).
	WitnessUnchecked WitnessState = "unchecked"
	// WitnessAgrees: it served the verified header.
	WitnessAgrees WitnessState = "agrees"
	// WitnessNoAnswer: it did not serve the header (unreachable, timed out, behind, pruned). Not
	// evidence of anything.
	WitnessNoAnswer WitnessState = "no answer"
	// WitnessDiverged: it served a different header at the height that verifies from the trusted
	// state too (a fork of the chain, or a light client attack): the header was refused, evidence
	// written and the client halted.
	WitnessDiverged WitnessState = "diverged"
	// WitnessFaulty: it served a different header at the height that does not verify from the trusted
	// state (not signed by the validators the client trusts): not a fork, the witness lies or serves
	// another network. Nothing halts; the witness confirms nothing.
	WitnessFaulty WitnessState = "faulty"
	// WitnessDropped: it was faulty MaxWitnessFaults times; it is not asked any more (neither by the
	// cross-check nor by cometbft's detector) until the process restarts.
	WitnessDropped WitnessState = "dropped"
)

// MaxWitnessFaults is how many headers that do not verify a witness may serve before the client drops
// it. An operator re-admits a dropped witness by restarting the process (the record is in memory).
const MaxWitnessFaults = 3

// WitnessStatus is a witness's last cross-check, as Client.Witnesses reports it.
type WitnessStatus struct {
	// Witness is the witness's address reduced to scheme://host:port by RedactURL: no user info, path
	// or query, where an API key may be. Unique within a client (a repeat gets "#<n>").
	Witness string
	// Primary: the primary stands in as this witness (no witness configured, or the primary's address
	// listed as one): its agreement checks nothing.
	Primary bool
	State   WitnessState
	// Height is the header last compared (for a divergence, the diverging height); At is when.
	Height int64
	At     time.Time
	// Error says why the witness did not answer, without its address.
	Error string
	// Evidence is the evidence file of the divergence (State WitnessDiverged; "" when it could not be
	// written: the log says why).
	Evidence string
	// Divergences counts this witness's divergences since the client opened.
	Divergences int
	// Faults counts the headers it served that did not verify, since the client opened (dropped at
	// MaxWitnessFaults).
	Faults int
}

// Divergence is a witness that served another header than the verified one, as Client.Divergences
// reports it.
type Divergence struct {
	Height int64
	// Witness is the witness's address as RedactURL gives it.
	Witness string
	At      time.Time
	// Evidence is the evidence file's path ("" when it could not be written).
	Evidence string
	// Earlier: the evidence file was already in the evidence directory when the client opened (a
	// divergence seen before a restart).
	Earlier bool
}

// maxDivergences is how many divergences a client keeps to report (the newest): a witness that
// diverges at every header would otherwise grow the list without end. The files stay on disk.
const maxDivergences = 32

// witnessRecord is the outcome of every witness's last cross-check and the newest divergences. It has
// its own lock: a reader never waits for a verification.
type witnessRecord struct {
	mu          sync.Mutex
	status      []WitnessStatus
	divergences []Divergence // oldest first
}

func newWitnessRecord(urls []string, isPrimary []bool) *witnessRecord {
	r := &witnessRecord{status: make([]WitnessStatus, len(urls))}
	seen := map[string]int{}
	for i, u := range urls {
		name := RedactURL(u)
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s#%d", name, seen[name])
		}
		r.status[i] = WitnessStatus{Witness: name, Primary: isPrimary[i], State: WitnessUnchecked}
	}
	return r
}

func (r *witnessRecord) checked(i int, height int64, at time.Time, state WitnessState, reason, evidence string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.status[i]
	if s.State == WitnessDropped {
		return // dropped stays dropped until a restart
	}
	s.State, s.Height, s.At, s.Error, s.Evidence = state, height, at, reason, evidence
	if state != WitnessDiverged {
		return
	}
	s.Divergences++
	r.add(Divergence{Height: height, Witness: s.Witness, At: at, Evidence: evidence})
}

// faulty records that witness i served a header at height that does not verify (reason says why),
// and drops it at its MaxWitnessFaults-th; it reports whether the witness is dropped now.
func (r *witnessRecord) faulty(i int, height int64, at time.Time, reason string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.status[i]
	if s.State == WitnessDropped {
		return true
	}
	s.Faults++
	s.State, s.Height, s.At, s.Error, s.Evidence = WitnessFaulty, height, at, reason, ""
	if s.Faults >= MaxWitnessFaults {
		s.State = WitnessDropped
	}
	return s.State == WitnessDropped
}

// refuses reports whether witness i is dropped, or was found faulty at its last check, at height h:
// its answer at h was judged a lie already (the root of trust is cross-checked before cometbft's
// client compares it again).
func (r *witnessRecord) refuses(i int, h int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status[i]
	return s.State == WitnessDropped || s.State == WitnessFaulty && s.Height == h
}

// dropped reports whether witness i was dropped.
func (r *witnessRecord) dropped(i int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status[i].State == WitnessDropped
}

// add appends d, dropping the oldest past maxDivergences (r.mu held, or r not shared yet).
func (r *witnessRecord) add(d Divergence) {
	r.divergences = append(r.divergences, d)
	if n := len(r.divergences); n > maxDivergences {
		r.divergences = append(r.divergences[:0:0], r.divergences[n-maxDivergences:]...)
	}
}

// Witnesses is each configured witness's last cross-check, in the configured order. With no witness
// configured, the one entry is the primary standing in (Primary set).
func (c *Client) Witnesses() []WitnessStatus {
	c.record.mu.Lock()
	defer c.record.mu.Unlock()
	return append([]WitnessStatus(nil), c.record.status...)
}

// Divergences lists the divergences an operator has still to deal with, newest first: the evidence
// files of this chain found in the evidence directory when the client opened (Earlier set: evidence
// from before a restart keeps showing until the operator moves its file away) and the divergences
// seen since. At most the newest 32; every evidence file stays on disk.
func (c *Client) Divergences() []Divergence {
	c.record.mu.Lock()
	defer c.record.mu.Unlock()
	out := make([]Divergence, len(c.record.divergences))
	for i, d := range c.record.divergences {
		out[len(out)-1-i] = d
	}
	return out
}

// loadEvidence adds the newest evidence files of chainID in dir to r (Earlier). A file that does not
// parse is listed by its name and time alone.
func (r *witnessRecord) loadEvidence(dir, chainID string) error {
	files, err := filepath.Glob(filepath.Join(dir, chainID+"-*.json"))
	if err != nil || len(files) == 0 {
		return err
	}
	type found struct {
		path string
		mod  time.Time
	}
	var all []found
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			all = append(all, found{f, fi.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod.Before(all[j].mod) })
	all = all[max(0, len(all)-maxDivergences):]
	for _, f := range all {
		d := Divergence{Evidence: f.path, At: f.mod, Earlier: true}
		var ev struct {
			ChainID string    `json:"chain_id"`
			Height  int64     `json:"height"`
			Time    time.Time `json:"time"`
			Witness string    `json:"witness"`
		}
		if bz, err := os.ReadFile(f.path); err == nil && json.Unmarshal(bz, &ev) == nil {
			if ev.ChainID != chainID {
				continue // another chain whose id starts like this one's
			}
			d.Height, d.Witness = ev.Height, RedactURL(ev.Witness)
			if !ev.Time.IsZero() {
				d.At = ev.Time
			}
		}
		r.add(d)
	}
	return nil
}

// addressish matches what may name a node, or carry a secret, in an error's text: a URL (an RPC
// address with an API key in its path, query or user info), a dialled network and host:port, or an
// IPv4 host:port.
var addressish = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+|(?:dial|Post|Get) [a-z]+ [^\s"':]+:\d+|\b\d{1,3}(\.\d{1,3}){3}:\d+\b`)

// RedactText replaces every address in s with "<address>": for reasons shown to an HTTP client or a
// page (the log keeps the detail).
func RedactText(s string) string { return addressish.ReplaceAllString(s, "<address>") }

// RedactURL reduces an RPC address to scheme://host:port: user info, path, query and fragment may
// carry an API key and are dropped. An address without a scheme is read as http (as cometbft's RPC
// client does); one that does not parse gives "<address>", never the input.
func RedactURL(raw string) string {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "<address>"
	}
	if u.Host == "" {
		return u.Scheme + "://" // a unix socket: its path stays out too
	}
	return u.Scheme + "://" + u.Host
}

// urlInText matches a URL in an error's text.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// noAnswerReason says in a few words why a witness did not answer, with any URL in it reduced by
// RedactURL (an RPC client's error quotes the whole address, credentials and all).
func noAnswerReason(err error) string {
	var dns *net.DNSError
	var nerr net.Error
	switch {
	case errors.Is(err, provider.ErrHeightTooHigh):
		return "behind: no header at this height yet"
	case errors.Is(err, provider.ErrLightBlockNotFound):
		return "no header at this height (pruned?)"
	case errors.Is(err, provider.ErrNoResponse):
		return "no response"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return "timed out"
	case errors.As(err, &dns):
		return "host not found"
	}
	return urlInText.ReplaceAllStringFunc(err.Error(), RedactURL)
}
