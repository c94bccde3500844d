package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cityrelay/cityrelay/packets"
	"github.com/cityrelay/cityrelay/relayer/assemble"
	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/daemon"
)

// passphraseEnv names the environment variable that unlocks file keyrings (else a prompt).
const passphraseEnv = "CITYRELAY_KEYRING_PASSPHRASE"

var homeDir string

func defaultHome() string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ".cityrelay"
	}
	return filepath.Join(h, ".cityrelay")
}

func configPath() string { return filepath.Join(homeDir, "config.toml") }

func loadConfig() (*config.Config, error) {
	cfg, err := config.Load(configPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no config at %s: run `cityrelay config init` first", configPath())
	}
	return cfg, err
}

func logger(cfg *config.Config, w io.Writer) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(cfg.Global.LogLevel)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	if cfg.Global.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, NoColor: !isTerminal(w)}
	}
	// The level is global, not the logger's own, so the console can lower it as well as raise it
	// at runtime (zerolog.SetGlobalLevel).
	zerolog.SetGlobalLevel(lvl)
	return zerolog.New(w).With().Timestamp().Logger()
}

// isTerminal tells whether w is a terminal: colour codes are for people at one, not for a file or a
// pipe (`cityrelay start > relay.log`).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

func openRuntime(cmd *cobra.Command, cfg *config.Config, trustLatest bool) *assemble.Runtime {
	return assemble.Open(cfg, assemble.Options{Home: homeDir, TrustLatest: trustLatest, Passphrase: os.Getenv(passphraseEnv),
		Input: cmd.InOrStdin(), Log: logger(cfg, cmd.ErrOrStderr())})
}

// workQueue connects to the configured relayer's NATS (dialNATS) for the work queue's streams and
// buckets; done closes the connection.
func workQueue(url string) (js jetstream.JetStream, done func(), err error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	nc, err := dialNATS(cfg, url)
	if err != nil {
		return nil, nil, err
	}
	if js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream on %s: %w", nc.ConnectedUrlRedacted(), err)
	}
	return js, nc.Close, nil
}

// dialNATS connects to the relayer's NATS: url (--nats), or nats.url; the embedded server's token is
// read from its store, a cluster's credentials and TLS from the config.
func dialNATS(cfg *config.Config, url string) (*nats.Conn, error) {
	if url == "" && !cfg.NATS.Embedded {
		url = cfg.NATS.URL
	}
	if url == "" {
		return nil, errors.New("the embedded NATS lives inside `cityrelay start`: pass --nats with its URL (logged at start)")
	}
	var opts []nats.Option
	if cfg.NATS.Embedded {
		tok, err := packets.EmbeddedToken(cfg.NATS.EmbeddedStore(homeDir))
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Token(tok))
	} else {
		var err error
		if opts, err = daemon.ClusterOptions(cfg.NATS, os.Getenv(cfg.NATS.PasswordEnv)); err != nil {
			return nil, err
		}
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	return nc, nil
}
