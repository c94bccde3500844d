package config

import (
	"errors"
	"fmt"
	"strings"
)

// Filter decides which channel ends of a path (or of a chain) are relayed: packets, acknowledgements,
// timeouts and the completion of handshakes others started.
//
// Two forms, which may be combined (deny wins over allow):
//
//   - allow / deny: entries "CHANNEL" or "PORT/CHANNEL", each a pattern where `*` stands for any run
//     of characters ("channel-*", "transfer/*", "icahost/channel-1?" is not a pattern: only `*`).
//     An entry without a port matches the channel on any port. A non-empty allow admits only the
//     ends it matches; deny refuses the ends it matches.
//   - policy + list, Hermes's packet_filter: policy "allow" admits only the [port, channel] pairs of
//     list, policy "deny" refuses them.
//
// An exact channel id, as configs written before patterns hold, is a pattern matching itself.
type Filter struct {
	Allow  []string   `toml:"allow"`
	Deny   []string   `toml:"deny"`
	Policy string     `toml:"policy,omitempty"`
	List   [][]string `toml:"list,omitempty"`
}

// Filter policies (Hermes's packet_filter.policy).
const (
	PolicyAllow = "allow"
	PolicyDeny  = "deny"
)

// ErrBadFilter is a filter (a pattern, a policy, a list entry) that cannot be used.
var ErrBadFilter = errors.New("bad filter")

// Empty reports whether f filters nothing.
func (f Filter) Empty() bool {
	return len(f.Allow) == 0 && len(f.Deny) == 0 && f.Policy == "" && len(f.List) == 0
}

// Allows reports whether the channel end (port, channel) may be relayed.
func (f Filter) Allows(port, channel string) bool {
	for _, d := range f.Deny {
		if entryMatches(d, port, channel) {
			return false
		}
	}
	listed := false
	for _, pc := range f.List {
		if len(pc) == 2 && Match(pc[0], port) && Match(pc[1], channel) {
			listed = true
			break
		}
	}
	if f.Policy == PolicyDeny && listed {
		return false
	}
	if f.Policy == PolicyAllow && !listed {
		return false
	}
	if len(f.Allow) == 0 {
		return true
	}
	for _, a := range f.Allow {
		if entryMatches(a, port, channel) {
			return true
		}
	}
	return false
}

// AllowsPort reports whether some channel on port could be relayed: for an end whose channel id is not
// known yet (the counterparty's end before its OpenTry). It is false when a deny rule refuses every
// channel of the port, or when allow rules exist and none can match the port.
func (f Filter) AllowsPort(port string) bool {
	for _, d := range f.Deny {
		if p, c, hasPort := splitEntry(d); c == "*" && (!hasPort || Match(p, port)) {
			return false
		}
	}
	var portListed bool
	for _, pc := range f.List {
		if len(pc) != 2 || !Match(pc[0], port) {
			continue
		}
		portListed = true
		if f.Policy == PolicyDeny && pc[1] == "*" {
			return false
		}
	}
	if f.Policy == PolicyAllow && !portListed {
		return false
	}
	if len(f.Allow) == 0 {
		return true
	}
	for _, a := range f.Allow {
		if p, _, hasPort := splitEntry(a); !hasPort || Match(p, port) {
			return true
		}
	}
	return false
}

func splitEntry(e string) (port, channel string, hasPort bool) {
	if p, c, ok := strings.Cut(e, "/"); ok {
		return p, c, true
	}
	return "", e, false
}

func entryMatches(e, port, channel string) bool {
	p, c, hasPort := splitEntry(e)
	return (!hasPort || Match(p, port)) && Match(c, channel)
}

// Match reports whether s matches pattern, where `*` stands for any run of characters (none
// included) and every other character for itself.
func Match(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// checkPattern checks one port or channel pattern: 1 to 128 characters of ICS-24 identifier
// characters or `*`.
func checkPattern(what, p string) error {
	if p == "" {
		return fmt.Errorf("empty %s pattern", what)
	}
	if len(p) > 128 {
		return fmt.Errorf("%s pattern %q longer than 128 characters", what, p)
	}
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("._+-#[]<>*", r):
		default:
			return fmt.Errorf("%s pattern %q: %q is neither an identifier character (ICS-24: [a-zA-Z0-9._+-#[]<>]) nor *", what, p, r)
		}
	}
	return nil
}

// validate checks f's patterns; key names the filter's table ("paths.p.filter").
func (f Filter) validate(key string, fail func(key, format string, args ...any) error) error {
	for name, entries := range map[string][]string{"allow": f.Allow, "deny": f.Deny} {
		for _, e := range entries {
			p, c, hasPort := splitEntry(e)
			if hasPort {
				if strings.Contains(c, "/") {
					return fail(key+"."+name, "%w: %q: want CHANNEL or PORT/CHANNEL (one slash)", ErrBadFilter, e)
				}
				if err := checkPattern("port", p); err != nil {
					return fail(key+"."+name, "%w: %q: %v", ErrBadFilter, e, err)
				}
			}
			if err := checkPattern("channel", c); err != nil {
				return fail(key+"."+name, "%w: %q: %v", ErrBadFilter, e, err)
			}
		}
	}
	switch f.Policy {
	case "":
		if len(f.List) > 0 {
			return fail(key+".policy", "%w: required with list: \"allow\" (only the listed channels) or \"deny\" (all but them)", ErrBadFilter)
		}
	case PolicyAllow, PolicyDeny:
	default:
		return fail(key+".policy", "%w: %q: use \"allow\" or \"deny\"", ErrBadFilter, f.Policy)
	}
	for _, pc := range f.List {
		if len(pc) != 2 {
			return fail(key+".list", "%w: %q: each entry is [\"PORT\", \"CHANNEL\"] (patterns, * for any run of characters)", ErrBadFilter, pc)
		}
		if err := checkPattern("port", pc[0]); err != nil {
			return fail(key+".list", "%w: %q: %v", ErrBadFilter, pc, err)
		}
		if err := checkPattern("channel", pc[1]); err != nil {
			return fail(key+".list", "%w: %q: %v", ErrBadFilter, pc, err)
		}
	}
	return nil
}

// EndAllowed reports whether the channel end (port, channel) on chain may be relayed on path: both
// the chain's packet_filter and the path's filter must allow it.
func (c *Config) EndAllowed(path, chain, port, channel string) bool {
	if ch := c.Chains[chain]; ch != nil && ch.PacketFilter != nil && !ch.PacketFilter.Allows(port, channel) {
		return false
	}
	if p := c.Paths[path]; p != nil && !p.Filter.Allows(port, channel) {
		return false
	}
	return true
}

// PortAllowed reports whether some channel on port on chain could be relayed on path (an end whose
// channel id is not known yet).
func (c *Config) PortAllowed(path, chain, port string) bool {
	if ch := c.Chains[chain]; ch != nil && ch.PacketFilter != nil && !ch.PacketFilter.AllowsPort(port) {
		return false
	}
	if p := c.Paths[path]; p != nil && !p.Filter.AllowsPort(port) {
		return false
	}
	return true
}
