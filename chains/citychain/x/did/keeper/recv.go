package keeper

import (
	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"
	ibctm "github.com/cosmos/ibc-go/v8/modules/light-clients/07-tendermint"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// counterpartyChainID is the chain id of the light client behind a did channel of this chain.
func (k Keeper) counterpartyChainID(ctx sdk.Context, channel string) (string, error) {
	_, cs, err := k.channels.GetChannelClientState(ctx, types.PortID, channel)
	if err != nil {
		return "", errorsmod.Wrapf(types.ErrInvalidChannel, "%s: %s", channel, err)
	}
	tm, ok := cs.(*ibctm.ClientState)
	if !ok {
		return "", errorsmod.Wrapf(types.ErrInvalidChannel, "%s is not backed by a 07-tendermint client", channel)
	}
	return tm.ChainId, nil
}

// checkOrigin is the first receiver check: the origin chain id in the packet must be the chain id of
// the light client behind the channel, or any connected chain could forge another city's attestations.
func (k Keeper) checkOrigin(ctx sdk.Context, packet channeltypes.Packet, origin string) error {
	chainID, err := k.counterpartyChainID(ctx, packet.DestinationChannel)
	if err != nil {
		return err
	}
	if origin != chainID {
		return errorsmod.Wrapf(types.ErrOriginMismatch, "packet claims origin %s, channel %s is a client of %s", origin, packet.DestinationChannel, chainID)
	}
	return nil
}

// checkSigned checks that key was valid at the source height and signed signBytes.
func checkSigned(key types.IssuerKey, sourceHeight int64, signBytes, sig []byte) error {
	if !key.ValidAt(sourceHeight) {
		return errorsmod.Wrapf(types.ErrKeyRevoked, "key created %d revoked %d, source height %d", key.CreatedHeight, key.RevokedHeight, sourceHeight)
	}
	return types.VerifySignature(key.Type, key.PublicKey, signBytes, sig)
}

// OnRecvPacket applies a did packet after every receiver check, in the order DESIGN.md gives. On
// error nothing has been written.
func (k Keeper) OnRecvPacket(ctx sdk.Context, packet channeltypes.Packet, data types.DIDPacketData) (types.AckResult, error) {
	switch p := data.Packet.(type) {
	case *types.DIDPacketData_Attestation:
		return k.recvAttestation(ctx, packet, p.Attestation)
	case *types.DIDPacketData_Revocation:
		return k.recvRevocation(ctx, packet, p.Revocation)
	case *types.DIDPacketData_ServiceMessage:
		return k.recvServiceMessage(ctx, packet, p.ServiceMessage)
	default:
		return types.AckResult{}, errorsmod.Wrap(types.ErrInvalidPacket, "no packet in the oneof")
	}
}

func (k Keeper) recvAttestation(ctx sdk.Context, packet channeltypes.Packet, p *types.AttestationPacket) (types.AckResult, error) {
	a := p.Attestation
	if err := k.checkOrigin(ctx, packet, a.OriginChainId); err != nil {
		return types.AckResult{}, err
	}
	signBytes := a.SignBytes()
	if err := checkSigned(p.IssuerKey, p.SourceHeight, signBytes, a.Signature); err != nil {
		return types.AckResult{}, err
	}
	if id := types.AttestationID(signBytes); id != a.Id {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrInvalidPacket, "attestation id %s does not match its signing bytes (%s)", a.Id, id)
	}
	if a.ValidFrom >= a.ValidUntil || a.ValidUntil <= ctx.BlockTime().Unix() {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrValidityWindow, "[%d, %d) at block time %d", a.ValidFrom, a.ValidUntil, ctx.BlockTime().Unix())
	}
	existing, found, err := k.GetForeignAttestation(ctx, a.OriginChainId, a.Id)
	if err != nil {
		return types.AckResult{}, err
	}
	a.Status, a.StatusSeq, a.StatusHeight = types.ATTESTATION_STATUS_ACTIVE, 0, 0
	if found {
		if !existing.Tombstone {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrAttestationExists, "%s/%s (received on %s)", a.OriginChainId, a.Id, existing.SourceChannel)
		}
		// A status change arrived first: the attestation takes the tombstone's newer status.
		if existing.Attestation.StatusSeq > a.IssuerSeq {
			ts := existing.Attestation
			a.Status, a.StatusSeq, a.StatusHeight, a.StatusMethod, a.StatusSignature = ts.Status, ts.StatusSeq, ts.StatusHeight, ts.StatusMethod, ts.StatusSignature
		}
	}
	f := types.ForeignAttestation{Attestation: a, SourceChannel: packet.DestinationChannel, SourceSequence: packet.Sequence, ReceivedHeight: ctx.BlockHeight()}
	if err := k.SetForeignAttestation(ctx, f); err != nil {
		return types.AckResult{}, err
	}
	return types.AckResult{Kind: types.KindAttestation, Ref: a.Id, Height: ctx.BlockHeight()}, nil
}

func (k Keeper) recvRevocation(ctx sdk.Context, packet channeltypes.Packet, p *types.RevocationPacket) (types.AckResult, error) {
	if err := k.checkOrigin(ctx, packet, p.OriginChainId); err != nil {
		return types.AckResult{}, err
	}
	if err := checkSigned(p.IssuerKey, p.SourceHeight, p.SignBytes(), p.Signature); err != nil {
		return types.AckResult{}, err
	}
	f, found, err := k.GetForeignAttestation(ctx, p.OriginChainId, p.AttestationId)
	if err != nil {
		return types.AckResult{}, err
	}
	if found {
		a := f.Attestation
		if a.IssuerDid != p.IssuerDid {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrUnauthorized, "%s was issued by %s, not %s", a.Id, a.IssuerDid, p.IssuerDid)
		}
		last := a.IssuerSeq
		if a.StatusSeq > last {
			last = a.StatusSeq
		}
		if p.IssuerSeq <= last {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrStaleSequence, "issuer_seq %d, last %d", p.IssuerSeq, last)
		}
		if !f.Tombstone && a.Status == types.ATTESTATION_STATUS_REVOKED {
			return types.AckResult{}, errorsmod.Wrapf(types.ErrInvalidStatus, "%s is revoked", a.Id)
		}
	} else {
		// The revocation came before its attestation: keep a tombstone that the attestation completes.
		f = types.ForeignAttestation{Tombstone: true, Attestation: types.Attestation{
			Id: p.AttestationId, OriginChainId: p.OriginChainId, IssuerDid: p.IssuerDid,
		}}
	}
	f.Attestation.Status, f.Attestation.StatusSeq, f.Attestation.StatusHeight = p.NewStatus, p.IssuerSeq, ctx.BlockHeight()
	f.Attestation.StatusMethod, f.Attestation.StatusSignature = p.IssuerMethod, p.Signature
	if f.Tombstone {
		f.SourceChannel, f.SourceSequence, f.ReceivedHeight = packet.DestinationChannel, packet.Sequence, ctx.BlockHeight()
	}
	if err := k.SetForeignAttestation(ctx, f); err != nil {
		return types.AckResult{}, err
	}
	return types.AckResult{Kind: types.KindRevocation, Ref: p.AttestationId, Height: ctx.BlockHeight()}, nil
}

func (k Keeper) recvServiceMessage(ctx sdk.Context, packet channeltypes.Packet, p *types.ServiceMessagePacket) (types.AckResult, error) {
	m := p.Message
	if err := k.checkOrigin(ctx, packet, m.OriginChainId); err != nil {
		return types.AckResult{}, err
	}
	signBytes := m.SignBytes()
	if err := checkSigned(p.SenderKey, p.SourceHeight, signBytes, m.Signature); err != nil {
		return types.AckResult{}, err
	}
	if id := types.MessageID(signBytes); id != m.MsgId {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrInvalidPacket, "msg id %s does not match its signing bytes (%s)", m.MsgId, id)
	}
	if m.DestinationChainId != ctx.ChainID() {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrWrongDestination, "for %s, this is %s", m.DestinationChainId, ctx.ChainID())
	}
	nonceKey := types.NonceKey(m.OriginChainId, m.SenderDid, m.Nonce)
	if used, err := k.has(ctx, nonceKey); err != nil {
		return types.AckResult{}, err
	} else if used {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrNonceUsed, "%s nonce %d from %s", m.SenderDid, m.Nonce, m.OriginChainId)
	}
	if m.Expiry <= ctx.BlockTime().Unix() {
		return types.AckResult{}, errorsmod.Wrapf(types.ErrExpired, "expired at %d, block time %d", m.Expiry, ctx.BlockTime().Unix())
	}
	if err := k.kv(ctx).Set(nonceKey, []byte{1}); err != nil {
		return types.AckResult{}, err
	}
	e := types.InboxEntry{Message: m, SourceChannel: packet.DestinationChannel, SourceSequence: packet.Sequence, ReceivedHeight: ctx.BlockHeight()}
	if err := k.set(ctx, types.InboxKey(m.OriginChainId, m.MsgId), &e); err != nil {
		return types.AckResult{}, err
	}
	return types.AckResult{Kind: types.KindService, Ref: m.MsgId, Height: ctx.BlockHeight()}, nil
}

// OnAcknowledgement records the outcome of a packet sent here.
func (k Keeper) OnAcknowledgement(ctx sdk.Context, packet channeltypes.Packet, ack channeltypes.Acknowledgement) error {
	d, found, err := k.GetDelivery(ctx, packet.SourceChannel, packet.Sequence)
	if err != nil {
		return err
	}
	if !found {
		k.Logger(ctx).Error("acknowledgement for an unknown delivery", "channel", packet.SourceChannel, "sequence", packet.Sequence)
		return nil
	}
	if ack.Success() {
		d.State = types.DELIVERY_STATE_DELIVERED
	} else {
		d.State, d.Error = types.DELIVERY_STATE_REJECTED, ack.GetError()
	}
	d.ResolvedHeight = ctx.BlockHeight()
	return k.SetDelivery(ctx, d)
}

// OnTimeout records that a packet sent here timed out. A timed-out packet can be sent again.
func (k Keeper) OnTimeout(ctx sdk.Context, packet channeltypes.Packet) error {
	d, found, err := k.GetDelivery(ctx, packet.SourceChannel, packet.Sequence)
	if err != nil {
		return err
	}
	if !found {
		k.Logger(ctx).Error("timeout for an unknown delivery", "channel", packet.SourceChannel, "sequence", packet.Sequence)
		return nil
	}
	d.State, d.ResolvedHeight = types.DELIVERY_STATE_TIMED_OUT, ctx.BlockHeight()
	return k.SetDelivery(ctx, d)
}
