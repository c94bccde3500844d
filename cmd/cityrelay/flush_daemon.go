package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/daemon"
	"github.com/cityrelay/cityrelay/relayer/sequences"
)

// daemonClear is `tx flush PATH --daemon`: it asks the running daemon to clear the path through its
// own pipeline (daemon.ClearRoute) with the admin token from console.admin_token_env's variable.
func daemonClear(cmd *cobra.Command, cfg *config.Config, base, path string, only sequences.Set) error {
	if cfg.Console.AdminTokenEnv == "" {
		return errors.New("--daemon needs the admin token: name its environment variable in console.admin_token_env (the daemon reads the same one)")
	}
	token := os.Getenv(cfg.Console.AdminTokenEnv)
	if token == "" {
		return fmt.Errorf("--daemon needs the admin token in $%s (console.admin_token_env)", cfg.Console.AdminTokenEnv)
	}
	if base == "" {
		if !cfg.Metrics.Enabled {
			return errors.New("--daemon: the daemon serves its admin clear on metrics.listen, and metrics.enabled is false (or give --daemon-url)")
		}
		base = "http://" + dialable(cfg.Metrics.Listen)
	}
	q := url.Values{"path": {path}}
	if !only.Empty() {
		q.Set("sequences", only.String())
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimRight(base, "/")+daemon.ClearRoute+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("--daemon-url %q: %w", base, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("ask the daemon at %s: %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read the daemon's answer: %w", err)
	}
	out := cmd.OutOrStdout()
	switch resp.StatusCode {
	case http.StatusOK:
		var r daemon.ClearResponse
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("the daemon's answer: %w: %s", err, body)
		}
		for _, d := range r.Directions {
			fmt.Fprintf(out, "%s -> %s: the daemon queued %d packets and %d acknowledgements\n", d.From, d.To, d.Packets, d.Acks)
			if d.Excluded != "" {
				fmt.Fprintf(out, "  excluded (excluded_sequences of %s, not relayed): %s\n", d.From, d.Excluded)
			}
			if d.NotPending != "" {
				fmt.Fprintf(out, "  not pending from %s: %s\n", d.From, d.NotPending)
			}
		}
		return nil
	case http.StatusAccepted:
		fmt.Fprintf(out, "the daemon is clearing %s (still running when it answered; its log has the outcome)\n", path)
		return nil
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(body))
	}
	return fmt.Errorf("the daemon refused the clear of %s: %s: %s", path, resp.Status, e.Error)
}

// dialable is a listen address one can dial: an unspecified host (":9464", "0.0.0.0:9464") is loopback.
func dialable(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
