package keeper_test

import (
	"crypto/ed25519"
	"regexp"
	"strings"
	"testing"

	errorsmod "cosmossdk.io/errors"
	sdk "github.com/cosmos/cosmos-sdk/types"
	capabilitytypes "github.com/cosmos/ibc-go/modules/capability/types"
	clienttypes "github.com/cosmos/ibc-go/v8/modules/core/02-client/types"
	channeltypes "github.com/cosmos/ibc-go/v8/modules/core/04-channel/types"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// closedChannel is IBC core with the did channel's capability but the channel closed: SendPacket
// refuses as ibc-go does, with a registered error that carries a stack (errorsmod).
type closedChannel struct{ noIBC }

func (closedChannel) SendPacket(_ sdk.Context, _ *capabilitytypes.Capability, port, channel string, _ clienttypes.Height, _ uint64, _ []byte) (uint64, error) {
	return 0, errorsmod.Wrapf(channeltypes.ErrInvalidChannelState, "channel is not OPEN (got STATE_CLOSED), port-id: %s, channel-id: %s", port, channel)
}

func (closedChannel) GetCapability(sdk.Context, string) (*capabilitytypes.Capability, bool) {
	return capabilitytypes.NewCapability(1), true
}

// sourceFrame is what errorsmod appends to an error formatted with %v (or wrapped by fmt.Errorf's
// %w): " [file.go:123]" or a path.
var sourceFrame = regexp.MustCompile(`\.go:\d+|\[[^\]]*/[^\]]*\]`)

// TestRefusalsArePlain: a refusal of every message type of x/did reaches the tx log (ABCIInfo, as
// baseapp writes it without trace) as plain text: its reason and registered code, no Go source frame
// or path, no newline. The refusals of the three send messages come from IBC core's SendPacket (a
// closed channel), whose error the module wraps.
func TestRefusalsArePlain(t *testing.T) {
	k, ctx, _ := receiverWithIBC(t, closedChannel{}, closedChannel{})
	o := newOriginOn(t, k, ctx)
	id := o.mustIssue("key-1", 1)
	if err := o.setStatus(id, "key-1", types.ATTESTATION_STATUS_SUSPENDED, 2); err != nil {
		t.Fatal(err)
	}
	sm := types.ServiceMessage{ServiceType: "parking.permit", SenderDid: o.did, SenderMethod: "key-1", OriginChainId: "seoul-1",
		DestinationChainId: "bucheon-1", Nonce: 1, Expiry: o.ctx.BlockTime().Unix() + 600, Payload: []byte(`{"zone":3}`)}
	sm.Signature = types.SignEd25519(o.keys["key-1"], sm.SignBytes())
	method := types.MethodInput{Id: "key-3", Type: types.KEY_TYPE_ED25519, PublicKey: o.keys["key-1"].Public().(ed25519.PublicKey)}

	for _, tc := range []struct {
		msg  string
		want *errorsmod.Error
		run  func() error
	}{
		{"MsgCreateDID", types.ErrDIDExists, func() error {
			_, err := o.ms.CreateDID(o.ctx, &types.MsgCreateDID{Controller: o.ctrl, Suffix: "office", Methods: []types.MethodInput{method}})
			return err
		}},
		{"MsgAddKey", types.ErrUnauthorized, func() error {
			_, err := o.ms.AddKey(o.ctx, &types.MsgAddKey{Controller: strangerAddr(), Did: o.did, Method: method})
			return err
		}},
		{"MsgRevokeKey", types.ErrKeyNotFound, func() error {
			_, err := o.ms.RevokeKey(o.ctx, &types.MsgRevokeKey{Controller: o.ctrl, Did: o.did, MethodId: "key-9"})
			return err
		}},
		{"MsgDeactivateDID", types.ErrUnauthorized, func() error {
			_, err := o.ms.DeactivateDID(o.ctx, &types.MsgDeactivateDID{Controller: strangerAddr(), Did: o.did})
			return err
		}},
		{"MsgIssueAttestation", types.ErrSequenceGap, func() error { _, err := o.issue("key-1", 9); return err }},
		{"MsgSetAttestationStatus", types.ErrStaleSequence, func() error {
			return o.setStatus(id, "key-1", types.ATTESTATION_STATUS_REVOKED, 2)
		}},
		{"MsgSetTrustedIssuer", types.ErrUnauthorized, func() error {
			_, err := o.ms.SetTrustedIssuer(o.ctx, &types.MsgSetTrustedIssuer{Admin: strangerAddr(), CredentialType: "residency-card", IssuerDid: o.did, Trusted: true})
			return err
		}},
		{"MsgSendAttestation", channeltypes.ErrInvalidChannelState, func() error {
			_, err := o.ms.SendAttestation(o.ctx, &types.MsgSendAttestation{Sender: strangerAddr(), SourceChannel: "channel-0", AttestationId: id})
			return err
		}},
		{"MsgSendRevocation", channeltypes.ErrInvalidChannelState, func() error {
			_, err := o.ms.SendRevocation(o.ctx, &types.MsgSendRevocation{Sender: strangerAddr(), SourceChannel: "channel-0", AttestationId: id})
			return err
		}},
		{"MsgSendServiceMessage", channeltypes.ErrInvalidChannelState, func() error {
			_, err := o.ms.SendServiceMessage(o.ctx, &types.MsgSendServiceMessage{Sender: strangerAddr(), SourceChannel: "channel-0", Message: sm})
			return err
		}},
		{"MsgRegisterCity", types.ErrUnauthorized, func() error {
			_, err := o.ms.RegisterCity(o.ctx, &types.MsgRegisterCity{Admin: strangerAddr(), ChainId: "busan-1", ClientId: "07-tendermint-4"})
			return err
		}},
		{"MsgRemoveCity", types.ErrUnauthorized, func() error {
			_, err := o.ms.RemoveCity(o.ctx, &types.MsgRemoveCity{Admin: strangerAddr(), ChainId: "wego-1"})
			return err
		}},
		{"MsgSubmitEvmAttestation", types.ErrCityNotRegistered, func() error {
			_, err := o.ms.SubmitEvmAttestation(o.ctx, &types.MsgSubmitEvmAttestation{Submitter: strangerAddr(), ClientId: "09-city-qbft-9"})
			return err
		}},
		{"MsgControllerRevokeAttestation", types.ErrAttestationNotFound, func() error {
			_, err := o.ms.ControllerRevokeAttestation(o.ctx, &types.MsgControllerRevokeAttestation{Controller: o.ctrl, AttestationId: strings.Repeat("0", 64)})
			return err
		}},
		{"MsgRevokeLeakedKey", types.ErrKeyNotFound, func() error {
			_, err := o.ms.RevokeLeakedKey(o.ctx, &types.MsgRevokeLeakedKey{Controller: o.ctrl, Did: o.did, MethodId: "key-9", Limit: 10})
			return err
		}},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("accepted, want a refusal")
			}
			codespace, code, log := errorsmod.ABCIInfo(err, false)
			if codespace != tc.want.Codespace() || code != tc.want.ABCICode() {
				t.Errorf("refused with %s/%d, want %s/%d: %s", codespace, code, tc.want.Codespace(), tc.want.ABCICode(), log)
			}
			if sourceFrame.MatchString(log) || strings.Contains(log, "\n") {
				t.Errorf("the tx log carries Go source text: %q", log)
			}
			t.Logf("%s refused: %s", tc.msg, log)
		})
	}
}
