package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/contracts"
)

// trickle is the citizen activity after the story: one thing every tick, so the console's overview,
// packet search and verify card have something live to show. In every eight ticks: two attestations
// issued in Seoul and sent to Bucheon and the member city, four service messages, one revocation of
// an earlier attestation (never the newest), one residency card issued in Gimpo's registry contract.
type trickle struct {
	story *story
	gimpo *gimpoCity
	out   io.Writer
	start time.Time
	log   zerolog.Logger

	tick   int
	issued []string // attestation ids not revoked yet, oldest first
	done   struct{ attestations, messages, revocations, evm, failed int }
}

// trickleCredentials are the credential types the civil office issues (trusted in genesis).
var trickleCredentials = []string{"residency-card", "business-licence", "certificate"}

// trickleMessages are the service messages the citizen sends, in turn.
var trickleMessages = []struct{ typ, dest, payload string }{
	{"parking.permit", Bucheon, `{"zone":"C-%d","valid_days":7}`},
	{"mileage.transfer", Member, `{"points":%d00,"to":"did:city:wego-1:kim-minji"}`},
	{"donation.record", Bucheon, `{"campaign":"winter-shelter","amount_krw":%d000}`},
	{"mvote.ballot", Member, `{"poll":"library-hours-%d","choice":"extend"}`},
}

// run does one thing every every until ctx ends.
func (t *trickle) run(ctx context.Context, every time.Duration) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		what, note, err := t.next(ctx)
		if ctx.Err() != nil {
			return
		}
		mark := "ok"
		if err != nil {
			mark, note = "FAILED", err.Error()
			t.done.failed++
			t.log.Warn().Err(err).Str("what", what).Msg("demo trickle step failed; the demo goes on")
		}
		fmt.Fprintf(t.out, "[%7s] %-6s %-40s %s\n", time.Since(t.start).Round(time.Second), mark, what, note)
	}
}

// next does the tick's thing and says what it did.
func (t *trickle) next(ctx context.Context) (what, note string, err error) {
	i := t.tick
	t.tick++
	switch {
	case i%4 == 0:
		typ := trickleCredentials[(i/4)%len(trickleCredentials)]
		what = "issue " + typ + " -> " + Bucheon + ", " + Member
		id, h, err := t.story.issue(ctx, typ, Bucheon, Member)
		if err != nil {
			return what, "", err
		}
		t.issued = append(t.issued, id)
		t.done.attestations++
		return what, fmt.Sprintf("at %s height %d; verify on %s or %s with origin %s and id %s", Seoul, h, Bucheon, Member, Seoul, id), nil
	case i%8 == 2 && len(t.issued) > 1: // the newest attestation stays valid to verify
		id := t.issued[0]
		what = "revoke " + shortID(id)
		h, seq, err := t.story.revoke(ctx, id, Bucheon, Member)
		if err != nil {
			return what, "", err
		}
		t.issued = t.issued[1:]
		t.done.revocations++
		return what, fmt.Sprintf("issuer_seq %d at %s height %d, sent to %s and %s", seq, Seoul, h, Bucheon, Member), nil
	case i%8 == 6 && t.gimpo != nil:
		what = "issue residency-card in " + Gimpo + "'s registry"
		digest := make([]byte, 32)
		_, _ = rand.Read(digest)
		att, err := t.gimpo.city.Issue(didtypes.FormatDID(Gimpo, fmt.Sprintf("resident-%d", i)), "residency-card", digest, 365*24*time.Hour)
		if err != nil {
			return what, "", err
		}
		t.done.evm++
		return what, fmt.Sprintf("id %s at block %d, delivered to %s through %s", shortID(contracts.IDHex(att.ID)), att.Block, Bucheon, t.gimpo.clientID), nil
	default:
		m := trickleMessages[t.done.messages%len(trickleMessages)]
		what = "send " + m.typ + " -> " + m.dest
		sent, h, err := t.story.sendService(ctx, m.typ, m.dest, fmt.Sprintf(m.payload, i))
		if err != nil {
			return what, "", err
		}
		t.done.messages++
		return what, fmt.Sprintf("%s/%d at %s height %d", sent.channel, sent.seq, Seoul, h), nil
	}
}

// counts says what the trickle did.
func (t *trickle) counts() string {
	c := t.done
	return fmt.Sprintf("the trickle issued %d attestations, sent %d service messages and %d revocations, issued %d cards in %s (%d steps failed)",
		c.attestations, c.messages, c.revocations, c.evm, Gimpo, c.failed)
}
