package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/config"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"channel-0", "channel-0", true},
		{"channel-0", "channel-01", false},
		{"channel-*", "channel-12", true},
		{"channel-*", "channel-", true},
		{"channel-*", "connection-1", false},
		{"*", "", true},
		{"*", "icahost", true},
		{"ica*", "icacontroller-city1", true},
		{"ica*", "transfer", false},
		{"*-1", "channel-1", true},
		{"*-1", "channel-11", false},
		{"chan*-*1", "channel-21", true},
		{"chan*-*1", "channel-2", false},
		{"a*a", "a", false}, // prefix and suffix must not overlap
		{"a*a", "aa", true},
		{"transfer", "Transfer", false},
	} {
		if got := config.Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestFilterAllows(t *testing.T) {
	type end struct {
		port, channel string
		want          bool
	}
	for _, tc := range []struct {
		name string
		f    config.Filter
		ends []end
	}{
		{name: "empty allows all", f: config.Filter{}, ends: []end{{"transfer", "channel-0", true}, {"did", "channel-9", true}}},
		// Configs written before patterns: exact channel ids on any port.
		{name: "legacy exact ids", f: config.Filter{Allow: []string{"channel-0", "channel-2"}, Deny: []string{"channel-2"}},
			ends: []end{{"did", "channel-0", true}, {"transfer", "channel-0", true}, {"did", "channel-2", false}, {"did", "channel-1", false}}},
		{name: "wildcard deny", f: config.Filter{Deny: []string{"transfer/channel-1*"}},
			ends: []end{{"transfer", "channel-1", false}, {"transfer", "channel-12", false}, {"transfer", "channel-2", true}, {"did", "channel-1", true}}},
		{name: "port wildcard allow", f: config.Filter{Allow: []string{"ica*/*", "transfer/channel-0"}},
			ends: []end{{"icahost", "channel-7", true}, {"icacontroller-x", "channel-8", true}, {"transfer", "channel-0", true}, {"transfer", "channel-1", false}}},
		{name: "hermes allow", f: config.Filter{Policy: "allow", List: [][]string{{"transfer", "channel-*"}, {"did", "channel-0"}}},
			ends: []end{{"transfer", "channel-5", true}, {"did", "channel-0", true}, {"did", "channel-1", false}, {"icahost", "channel-0", false}}},
		{name: "hermes deny", f: config.Filter{Policy: "deny", List: [][]string{{"transfer", "*"}}},
			ends: []end{{"transfer", "channel-5", false}, {"did", "channel-0", true}}},
		// Deny wins over allow, whichever form each is in.
		{name: "deny wins", f: config.Filter{Allow: []string{"transfer/*"}, Policy: "deny", List: [][]string{{"transfer", "channel-3"}}},
			ends: []end{{"transfer", "channel-3", false}, {"transfer", "channel-4", true}, {"did", "channel-4", false}}},
		{name: "deny list beats allow policy", f: config.Filter{Deny: []string{"channel-3"}, Policy: "allow", List: [][]string{{"*", "*"}}},
			ends: []end{{"transfer", "channel-3", false}, {"transfer", "channel-4", true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, e := range tc.ends {
				if got := tc.f.Allows(e.port, e.channel); got != e.want {
					t.Errorf("Allows(%s, %s) = %v, want %v", e.port, e.channel, got, e.want)
				}
			}
		})
	}
}

func TestFilterAllowsPort(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    config.Filter
		port string
		want bool
	}{
		{"empty", config.Filter{}, "transfer", true},
		{"deny one channel leaves the port", config.Filter{Deny: []string{"transfer/channel-1"}}, "transfer", true},
		{"deny every channel of the port", config.Filter{Deny: []string{"transfer/*"}}, "transfer", false},
		{"deny every channel of any port", config.Filter{Deny: []string{"*"}}, "did", false},
		{"allow another port", config.Filter{Allow: []string{"did/*"}}, "transfer", false},
		{"allow a channel of any port", config.Filter{Allow: []string{"channel-0"}}, "transfer", true},
		{"hermes allow lists the port", config.Filter{Policy: "allow", List: [][]string{{"trans*", "channel-9"}}}, "transfer", true},
		{"hermes allow lists another", config.Filter{Policy: "allow", List: [][]string{{"did", "*"}}}, "transfer", false},
		{"hermes deny the port", config.Filter{Policy: "deny", List: [][]string{{"transfer", "*"}}}, "transfer", false},
	} {
		if got := tc.f.AllowsPort(tc.port); got != tc.want {
			t.Errorf("%s: AllowsPort(%s) = %v, want %v", tc.name, tc.port, got, tc.want)
		}
	}
}

func TestBadFilterNamesKeyAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, add, key string
		line           int
	}{
		{"bad char", "[paths.p.filter]\nallow = [\"transfer/chan nel\"]\n", "paths.p.filter.allow", 20},
		{"two slashes", "[paths.p.filter]\ndeny = [\"a/b/c\"]\n", "paths.p.filter.deny", 20},
		{"empty port", "[paths.p.filter]\ndeny = [\"/channel-1\"]\n", "paths.p.filter.deny", 20},
		{"bad policy", "[paths.p.filter]\npolicy = \"maybe\"\nlist = [[\"transfer\", \"*\"]]\n", "paths.p.filter.policy", 20},
		{"list without policy", "[paths.p.filter]\nlist = [[\"transfer\", \"*\"]]\n", "paths.p.filter.policy", 19},
		{"short list entry", "[paths.p.filter]\npolicy = \"allow\"\nlist = [[\"transfer\"]]\n", "paths.p.filter.list", 21},
		{"chain filter", "[chains.seoul-1.packet_filter]\npolicy = \"deny\"\nlist = [[\"transfer\", \"chan?\"]]\n", "chains.seoul-1.packet_filter.list", 21},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("config.toml", []byte(good+tc.add))
			var fe *config.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, config.ErrBadFilter) {
				t.Fatalf("want a bad pattern FieldError, got %v", err)
			}
			if fe.Key != tc.key || fe.Line != tc.line {
				t.Fatalf("error %q names %s:%d, want %s:%d", err, fe.Key, fe.Line, tc.key, tc.line)
			}
			if !strings.Contains(err.Error(), "config.toml:") {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
	// A good filter in both forms, and a chain's packet_filter, load.
	cfg, err := config.Parse("config.toml", []byte(good+"[paths.p.filter]\nallow = [\"transfer/*\", \"channel-0\"]\ndeny = [\"transfer/channel-1*\"]\npolicy = \"deny\"\nlist = [[\"ica*\", \"*\"]]\n"+
		"[chains.seoul-1.packet_filter]\npolicy = \"allow\"\nlist = [[\"transfer\", \"channel-*\"], [\"did\", \"*\"]]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.EndAllowed("p", "seoul-1", "transfer", "channel-2") || cfg.EndAllowed("p", "seoul-1", "transfer", "channel-10") ||
		cfg.EndAllowed("p", "seoul-1", "icahost", "channel-0") || cfg.EndAllowed("p", "bucheon-1", "transfer", "channel-11") {
		t.Fatal("EndAllowed does not combine the chain's packet_filter and the path's filter")
	}
	if !cfg.PortAllowed("p", "bucheon-1", "transfer") || cfg.PortAllowed("p", "seoul-1", "icahost") {
		t.Fatal("PortAllowed does not combine the filters")
	}
}
