// Command cityrelay is the city chain relayer: path setup, the relay daemon, cross-city credential
// verification and the demo.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// exitError carries a specific exit code (verify uses 1 and 2).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "cityrelay:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cityrelay",
		Short:         "Relay DID credentials and service messages between city chains over IBC",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&homeDir, "home", defaultHome(), "relayer home: config.toml, keys/, light/, nats/")
	root.AddCommand(demoCmd(), configCmd(), chainsCmd(), keysCmd(), pathsCmd(), txCmd(), queryCmd(), verifyCmd(), startCmd(), versionCmd(), hubCmd(), clientCmd())
	return root
}
