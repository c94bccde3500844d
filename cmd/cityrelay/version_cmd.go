package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionDeps are the modules whose versions decide what cityrelay can talk to, in the order shown.
var versionDeps = []struct{ name, path string }{
	{"ibc-go", "github.com/cosmos/ibc-go/v8"},
	{"cosmos-sdk", "github.com/cosmos/cosmos-sdk"},
	{"cometbft", "github.com/cometbft/cometbft"},
	{"go-ethereum", "github.com/ethereum/go-ethereum"},
	{"nats.go", "github.com/nats-io/nats.go"},
	{"nats-server", "github.com/nats-io/nats-server/v2"},
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show cityrelay's version, commit and build time, the Go version and the versions of ibc-go, the SDK, CometBFT, go-ethereum and NATS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				bi = &debug.BuildInfo{}
			}
			printVersion(cmd.OutOrStdout(), bi)
			return nil
		},
	}
}

// printVersion writes what the build info knows; what it does not know is left out (a `go run` has no
// vcs settings, a test binary no main version).
func printVersion(w io.Writer, bi *debug.BuildInfo) {
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	fmt.Fprintf(w, "cityrelay %s\n", version)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(w, "%-13s %s\n", "commit:", rev)
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(w, "%-13s %s\n", "commit time:", t)
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	fmt.Fprintf(w, "%-13s %s\n", "go:", goVersion)
	deps := map[string]string{}
	for _, d := range bi.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Path + " " + d.Replace.Version
		}
		deps[d.Path] = v
	}
	for _, d := range versionDeps {
		if v, ok := deps[d.path]; ok {
			fmt.Fprintf(w, "%-13s %s\n", d.name+":", v)
		}
	}
}
