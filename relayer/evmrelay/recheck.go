package evmrelay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/ethereum/go-ethereum/common"
	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/encoding/protowire"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/contracts"
	"github.com/cityrelay/cityrelay/packets"
)

// recheckChunk is how many status slots one eth_getProof asks for.
const recheckChunk = 256

// ErrBadRecord: Dest's node answered with a record that does not decode or is not the city's.
var ErrBadRecord = errors.New("bad foreign record")

// recheckEvery runs Recheck at start and then every StatusRecheck until ctx ends.
func (b *Bridge) recheckEvery(ctx context.Context) error {
	for {
		if _, _, err := b.Recheck(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(b.StatusRecheck):
		}
	}
}

// Recheck proves again, at a fresh verified header, the registry's status[id] of every record of the
// EVM city that Dest holds as delivered through a city-qbft client, is not revoked (final) and is
// still within its validity window, and publishes a work item for each whose proven status or status
// sequence differs from the record's: whatever the EVM nodes' logs withheld reaches Dest within one
// StatusRecheck. It returns the records checked and the changes published.
//
// The work item of a change found here has the same de-duplication id as the one its StatusChanged
// log gives (city/id/status_seq/block, with the sequence and block the proven status word holds):
// a change the scanner has published already is not queued twice.
//
// The record list is Dest's node's answer, unproven: a lying Cosmos node can hide records from the
// recheck (never make Dest accept anything); the scanner still relays their logs.
func (b *Bridge) Recheck(ctx context.Context) (checked, changed int, err error) {
	b.defaults()
	recs, err := ForeignRecords(ctx, b.Dest, b.City)
	if err != nil {
		return 0, 0, fmt.Errorf("records of %s on %s: %w", b.City, b.Dest.ChainID(), err)
	}
	now := time.Now().Unix()
	var due []*didtypes.ForeignAttestation
	for i := range recs {
		r := &recs[i]
		if r.ClientId != "" && r.Attestation.Status != didtypes.ATTESTATION_STATUS_REVOKED && r.Attestation.ValidUntil > now {
			due = append(due, r)
		}
	}
	defer func() {
		if err == nil && b.OnRecheck != nil {
			b.OnRecheck(checked, changed)
		}
	}()
	if len(due) == 0 {
		b.Log.Debug().Int("records", len(recs)).Msg("evm status recheck: no record to re-prove")
		return 0, 0, nil
	}
	vh, err := b.Source.Latest(ctx)
	if err != nil {
		b.onVerifyError(ctx, err)
		return 0, 0, fmt.Errorf("verify latest header of %s: %w", b.City, err)
	}
	for start := 0; start < len(due); start += recheckChunk {
		chunk := due[start:min(start+recheckChunk, len(due))]
		ids := make([][32]byte, len(chunk))
		slots := make([]common.Hash, len(chunk))
		for i, r := range chunk {
			if ids[i], err = contracts.ParseID(r.Attestation.Id); err != nil {
				return checked, changed, fmt.Errorf("%w: %v", ErrBadRecord, err)
			}
			slots[i] = contracts.StatusSlot(ids[i])
		}
		rp, err := b.Source.RegistryProof(ctx, vh, slots)
		if err != nil {
			return checked, changed, fmt.Errorf("prove the status of %d records at block %d of %s: %w", len(chunk), vh.Height, b.City, err)
		}
		for i, r := range chunk {
			checked++
			a := &r.Attestation
			log := b.Log.With().Str("id", a.Id).Uint64("evm_height", vh.Height).Logger()
			word, err := contracts.DecodeStatusWord(rp.Slots[i].Value)
			if err == nil && !contracts.ValidStatus(word.Status) {
				err = fmt.Errorf("status %d", word.Status)
			}
			if err != nil {
				// The proof is checked: the registry itself holds this. It never writes such a word.
				log.Error().Err(err).Msg("evm status recheck: the registry's proven status of a record on the Cosmos city is not a status; skipped")
				continue
			}
			if word.Seq == a.StatusSeq && didtypes.AttestationStatus(word.Status) == a.Status {
				continue
			}
			if word.Seq < a.StatusSeq {
				// The record was proven at a newer header than this light client's (another relayer).
				log.Debug().Uint64("proven_seq", word.Seq).Uint64("record_seq", a.StatusSeq).Msg("evm status recheck: the record is newer than the proof")
				continue
			}
			block := word.Block
			if block == 0 {
				block = vh.Height
			}
			w := &packets.EvmWork{City: b.City, To: b.Dest.ChainID(), Client: b.Client, ID: a.Id, Block: block, StatusSeq: word.Seq,
				ObservedUnixNano: time.Now().UnixNano()}
			if err := b.publishWork(ctx, w); err != nil {
				return checked, changed, err
			}
			changed++
			log.Warn().Str("record_status", a.Status.String()).Uint64("record_seq", a.StatusSeq).
				Str("proven_status", didtypes.AttestationStatus(word.Status).String()).Uint64("proven_seq", word.Seq).Uint64("status_block", word.Block).
				Msg("evm status recheck: the registry's status differs from the Cosmos city's record; delivery queued")
		}
	}
	b.Log.Info().Int("checked", checked).Int("changed", changed).Uint64("evm_height", vh.Height).Msg("evm status recheck done")
	return checked, changed, nil
}

// publishWork publishes w with its de-duplication id.
func (b *Bridge) publishWork(ctx context.Context, w *packets.EvmWork) error {
	bz, err := w.Encode()
	if err != nil {
		return err
	}
	msg := nats.NewMsg(w.Subject())
	msg.Data = bz
	msg.Header.Set(nats.MsgIdHdr, w.MsgID())
	if _, err := b.JS.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish %s: %w", w.MsgID(), err)
	}
	return nil
}

// ForeignRecords lists the records Dest's did store holds of attestations of origin (fatt/<origin>/…),
// through the store's prefix query (abci_query "/store/did/subspace"). The answer is unproven.
func ForeignRecords(ctx context.Context, dest Dest, origin string) ([]didtypes.ForeignAttestation, error) {
	if origin == "" || strings.Contains(origin, "/") {
		return nil, fmt.Errorf("%w: origin %q", ErrBadRecord, origin)
	}
	prefix := didtypes.ForeignAttestationKey(origin, "")
	res, err := dest.ABCIQuery(ctx, "/store/"+didtypes.StoreKey+"/subspace", prefix, 0, false)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	pairs, err := decodePairs(res.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: list %s on %s: %v", ErrBadRecord, prefix, dest.ChainID(), err)
	}
	out := make([]didtypes.ForeignAttestation, 0, len(pairs))
	for _, p := range pairs {
		var f didtypes.ForeignAttestation
		if err := proto.Unmarshal(p.Value, &f); err != nil {
			return nil, fmt.Errorf("%w: %q on %s: %v", ErrBadRecord, p.Key, dest.ChainID(), err)
		}
		if want := string(didtypes.ForeignAttestationKey(origin, f.Attestation.Id)); string(p.Key) != want || f.Attestation.OriginChainId != origin {
			return nil, fmt.Errorf("%w: %q on %s holds %s/%s", ErrBadRecord, p.Key, dest.ChainID(), f.Attestation.OriginChainId, f.Attestation.Id)
		}
		out = append(out, f)
	}
	return out, nil
}

// kvPair is one entry of a store's prefix query.
type kvPair struct{ Key, Value []byte }

// decodePairs decodes the answer of a "/subspace" store query: the store's kv.Pairs message
// (repeated Pair pairs = 1; Pair: bytes key = 1, bytes value = 2), whose Go type is internal to
// cosmossdk.io/store.
func decodePairs(bz []byte) ([]kvPair, error) {
	var out []kvPair
	for len(bz) > 0 {
		num, typ, n := protowire.ConsumeTag(bz)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		bz = bz[n:]
		if num != 1 || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, bz); n < 0 {
				return nil, protowire.ParseError(n)
			}
			bz = bz[n:]
			continue
		}
		msg, n := protowire.ConsumeBytes(bz)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		bz = bz[n:]
		var p kvPair
		for len(msg) > 0 {
			num, typ, n := protowire.ConsumeTag(msg)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			msg = msg[n:]
			if typ != protowire.BytesType || (num != 1 && num != 2) {
				if n = protowire.ConsumeFieldValue(num, typ, msg); n < 0 {
					return nil, protowire.ParseError(n)
				}
				msg = msg[n:]
				continue
			}
			v, n := protowire.ConsumeBytes(msg)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			msg = msg[n:]
			if num == 1 {
				p.Key = v
			} else {
				p.Value = v
			}
		}
		out = append(out, p)
	}
	return out, nil
}
