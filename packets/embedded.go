package packets

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Embedded is an in-process nats-server with JetStream, its store on disk, listening on loopback, and
// requiring a token that only readers of its store directory have.
type Embedded struct {
	srv   *server.Server
	token string
}

// TokenFile is the file, in the store directory, holding the embedded server's client token (0600).
const TokenFile = "token"

// EmbeddedToken returns the token of the embedded server whose store is storeDir, creating it (32
// random bytes, hex) the first time.
func EmbeddedToken(storeDir string) (string, error) {
	path := filepath.Join(storeDir, TokenFile)
	if bz, err := os.ReadFile(path); err == nil {
		if tok := strings.TrimSpace(string(bz)); len(tok) >= 32 {
			return tok, nil
		}
	}
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return "", fmt.Errorf("embedded nats store: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("embedded nats token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("embedded nats token: %w", err)
	}
	return tok, nil
}

// StartEmbedded starts the server. listen is host:port on loopback (port -1 picks a free one).
func StartEmbedded(storeDir, listen string) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("embedded nats listen %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("embedded nats listen %q: loopback only", listen)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded nats listen %q: %w", listen, err)
	}
	token, err := EmbeddedToken(storeDir)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(&server.Options{
		Host: host, Port: port, JetStream: true, StoreDir: storeDir, NoSigs: true, NoLog: true, Authorization: token,
		// The HTTP monitor is off; only the client port listens.
		HTTPPort: 0,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after 10s")
	}
	return &Embedded{srv: srv, token: token}, nil
}

// URL is the client URL of the server (clients also need Token).
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Token is the client token of the server.
func (e *Embedded) Token() string { return e.token }

// Connect connects a client to the server with its token.
func (e *Embedded) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(e.URL(), append(opts, nats.Token(e.token))...)
}

// Stop shuts the server down and waits for it.
func (e *Embedded) Stop() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
