package packets

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"
)

// Supervision backoff: a failing part is restarted after SuperviseFirst, doubled per failure up to
// SuperviseMax.
const (
	SuperviseFirst = time.Second
	SuperviseMax   = 30 * time.Second
)

// Supervise runs run until ctx ends, restarting it with backoff (1 s doubling to 30 s) whenever it
// fails or returns, so one failing part (a scanner, a submitter) never stops the daemon; onFail
// (optional) is told of each failure.
func Supervise(ctx context.Context, log zerolog.Logger, name string, run func(context.Context) error, onFail func(part string, err error)) error {
	wait := SuperviseFirst
	for {
		err := run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("stopped")
		}
		log.Error().Err(err).Str("part", name).Dur("restart_in", wait).Msg("part failed; restarting")
		if onFail != nil {
			onFail(name, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, SuperviseMax)
	}
}
