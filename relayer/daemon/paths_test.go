package daemon

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cityrelay/cityrelay/relayer/config"
)

func TestSelectPaths(t *testing.T) {
	configured := map[string]*config.Path{"seoul-bucheon": {}, "seoul-wego": {}, "bucheon-wego": {}}
	for _, tc := range []struct {
		name    string
		only    []string
		want    []string
		unknown []string // names the error must carry; none: no error
	}{
		// No names: every configured path, sorted.
		{name: "all", want: []string{"bucheon-wego", "seoul-bucheon", "seoul-wego"}},
		// One name: only it.
		{name: "one", only: []string{"seoul-wego"}, want: []string{"seoul-wego"}},
		// A name given twice is relayed once.
		{name: "repeated", only: []string{"seoul-wego", "bucheon-wego", "seoul-wego"}, want: []string{"bucheon-wego", "seoul-wego"}},
		// Unknown names fail, each named, even beside known ones.
		{name: "unknown", only: []string{"seoul-wego", "seoul-gwangju", "busan"}, unknown: []string{"seoul-gwangju", "busan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selectPaths(configured, tc.only)
			if len(tc.unknown) > 0 {
				if !errors.Is(err, ErrUnknownPath) {
					t.Fatalf("want ErrUnknownPath, got %v (%v)", err, got)
				}
				for _, n := range tc.unknown {
					if !strings.Contains(err.Error(), n) {
						t.Fatalf("error %q does not name %s", err, n)
					}
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
