package devnet

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/chains/cosmos"
)

// SendAttestations issues n certificates with the chain's sample issuer (about its sample citizen)
// and sends each on channel, in txs of at most 50, through cl (a client with the admin key). seq is
// the issuer's last issuer sequence, advanced here. It returns the packets' sequences and the height
// of the last tx: load for tests and benchmarks.
func (c *Chain) SendAttestations(ctx context.Context, cl *cosmos.Client, channel string, seq *uint64, n int) ([]uint64, int64, error) {
	var seqs []uint64
	var height int64
	for n > 0 {
		k := min(n, 50)
		n -= k
		now := time.Now().Unix()
		var msgs []sdk.Msg
		for range k {
			*seq++
			digest := bytes.Repeat([]byte{byte(*seq), byte(*seq >> 8)}, 16)
			sb := didtypes.AttestationSignBytes(c.ChainID, c.Issuer.DID, c.Issuer.Method, c.Citizen.DID, "certificate", digest, now-5, now+3600, *seq)
			sig, err := c.Issuer.Sign(sb)
			if err != nil {
				return nil, 0, err
			}
			msgs = append(msgs, &didtypes.MsgIssueAttestation{Submitter: c.Admin.Address, IssuerDid: c.Issuer.DID, IssuerMethod: c.Issuer.Method,
				SubjectDid: c.Citizen.DID, CredentialType: "certificate", Digest: digest, ValidFrom: now - 5, ValidUntil: now + 3600,
				IssuerSeq: *seq, Signature: sig},
				&didtypes.MsgSendAttestation{Sender: c.Admin.Address, SourceChannel: channel, AttestationId: didtypes.AttestationID(sb)})
		}
		res, err := cl.Send(ctx, msgs...)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: send %d attestations: %w", c.ChainID, k, err)
		}
		got := 0
		for _, ev := range res.Events {
			if ev.Type != channeltypes.EventTypeSendPacket {
				continue
			}
			for _, a := range ev.Attributes {
				if a.Key == channeltypes.AttributeKeySequence {
					s, err := strconv.ParseUint(a.Value, 10, 64)
					if err != nil {
						return nil, 0, fmt.Errorf("%s: send_packet sequence %q: %w", c.ChainID, a.Value, err)
					}
					seqs = append(seqs, s)
					got++
				}
			}
		}
		if got != k {
			return nil, 0, fmt.Errorf("%s: %d send_packet events for %d attestations", c.ChainID, got, k)
		}
		height = res.Height
	}
	return seqs, height, nil
}
