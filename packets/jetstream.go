package packets

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream resources.
const (
	WorkStream    = "CITYRELAY_WORK"
	DeadStream    = "CITYRELAY_DEAD"
	CursorBucket  = "cityrelay_cursors"
	PacketBucket  = "cityrelay_packets"
	deadSubjects  = "cityrelay.dead.>"
	workSubjects  = "cityrelay.work.>"
	defaultWindow = 10 * time.Minute
	// lifecycleTTL is how long a work item's lifecycle record is kept: memory and disk stay bounded
	// whatever the number of packets relayed.
	lifecycleTTL = time.Hour
)

// DeadSubject is where terminally failed work goes, with the reason in a header.
func DeadSubject(to, path string) string { return "cityrelay.dead." + token(to) + "." + token(path) }

// Setup creates (or updates) the streams and KV buckets; it is idempotent. window is the
// de-duplication window: it must cover a relayer restart.
func Setup(ctx context.Context, js jetstream.JetStream, replicas int, window time.Duration) error {
	if window == 0 {
		window = defaultWindow
	}
	if replicas == 0 {
		replicas = 1
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: WorkStream, Subjects: []string{workSubjects}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Duplicates: window, Replicas: replicas,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", WorkStream, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: DeadStream, Subjects: []string{deadSubjects}, Storage: jetstream.FileStorage, Replicas: replicas,
		MaxAge: 30 * 24 * time.Hour,
	}); err != nil {
		return fmt.Errorf("stream %s: %w", DeadStream, err)
	}
	for b, ttl := range map[string]time.Duration{CursorBucket: 0, PacketBucket: lifecycleTTL} {
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, Storage: jetstream.FileStorage, Replicas: replicas, TTL: ttl}); err != nil {
			return fmt.Errorf("kv %s: %w", b, err)
		}
	}
	return nil
}
