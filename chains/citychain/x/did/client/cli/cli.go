// Package cli holds the `tx did` and `query did` commands of citychaind.
package cli

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

const (
	flagKeyType    = "key-type"
	flagPubKey     = "pubkey"
	flagMethodID   = "method-id"
	flagSigningKey = "signing-key-file"
	flagSignature  = "signature"
	flagSeq        = "issuer-seq"
	flagDigest     = "digest"
	flagValidFrom  = "valid-from"
	flagValidUntil = "valid-until"
	flagTimeout    = "timeout-timestamp"
	flagFromHeight = "from-height"
	flagLimit      = "limit"
	flagTo         = "to"
	flagVia        = "via"
)

func keyType(s string) (types.KeyType, error) {
	switch strings.ToLower(s) {
	case "ed25519":
		return types.KEY_TYPE_ED25519, nil
	case "secp256k1":
		return types.KEY_TYPE_SECP256K1, nil
	}
	return 0, fmt.Errorf("--%s %q: use ed25519 or secp256k1", flagKeyType, s)
}

func methodInput(cmd *cobra.Command) (types.MethodInput, error) {
	kt, _ := cmd.Flags().GetString(flagKeyType)
	t, err := keyType(kt)
	if err != nil {
		return types.MethodInput{}, err
	}
	pubHex, _ := cmd.Flags().GetString(flagPubKey)
	pub, err := hex.DecodeString(pubHex)
	if err != nil {
		return types.MethodInput{}, fmt.Errorf("--%s: %w", flagPubKey, err)
	}
	id, _ := cmd.Flags().GetString(flagMethodID)
	return types.MethodInput{Id: id, Type: t, PublicKey: pub}, nil
}

func addMethodFlags(cmd *cobra.Command) {
	cmd.Flags().String(flagKeyType, "ed25519", "key type: ed25519 or secp256k1")
	cmd.Flags().String(flagPubKey, "", "public key, hex (ed25519: 32 bytes; secp256k1: 33 bytes compressed)")
	cmd.Flags().String(flagMethodID, "key-1", "verification method id")
}

// signature returns --signature, or signs signBytes with the key in --signing-key-file (hex private
// key; its type from --key-type).
func signature(cmd *cobra.Command, signBytes []byte) ([]byte, error) {
	if s, _ := cmd.Flags().GetString(flagSignature); s != "" {
		return hex.DecodeString(s)
	}
	path, _ := cmd.Flags().GetString(flagSigningKey)
	if path == "" {
		return nil, fmt.Errorf("give --%s or --%s; the signing bytes are %x", flagSignature, flagSigningKey, signBytes)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	priv, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("signing key file must hold a hex private key: %w", err)
	}
	kt, _ := cmd.Flags().GetString(flagKeyType)
	t, err := keyType(kt)
	if err != nil {
		return nil, err
	}
	if t == types.KEY_TYPE_ED25519 {
		if len(priv) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("ed25519 private key must be %d bytes", ed25519.PrivateKeySize)
		}
		return types.SignEd25519(ed25519.PrivateKey(priv), signBytes), nil
	}
	sk, err := crypto.ToECDSA(priv)
	if err != nil {
		return nil, fmt.Errorf("secp256k1 private key: %w", err)
	}
	return types.SignSecp256k1(sk, signBytes), nil
}

func addSignFlags(cmd *cobra.Command) {
	cmd.Flags().String(flagSignature, "", "signature, hex (otherwise --signing-key-file)")
	cmd.Flags().String(flagSigningKey, "", "file with the hex private key of the verification method")
	cmd.Flags().String(flagKeyType, "ed25519", "type of the signing key: ed25519 or secp256k1")
}

func broadcast(cmd *cobra.Command, msg sdk.Msg) error {
	ctx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return err
	}
	return tx.GenerateOrBroadcastTxCLI(ctx, cmd.Flags(), msg)
}

func txCommand(use, short string, args cobra.PositionalArgs, build func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, args []string) error {
		ctx, err := client.GetClientTxContext(cmd)
		if err != nil {
			return err
		}
		msg, err := build(cmd, ctx.GetFromAddress().String(), args)
		if err != nil {
			return err
		}
		return broadcast(cmd, msg)
	}}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// TxCmd returns the `tx did` commands.
func TxCmd() *cobra.Command {
	root := &cobra.Command{Use: types.ModuleName, Short: "DID and attestation transactions", RunE: client.ValidateCmd}

	create := txCommand("create-did SUFFIX", "Create did:city:<chain-id>:SUFFIX controlled by --from", cobra.ExactArgs(1),
		func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			m, err := methodInput(cmd)
			if err != nil {
				return nil, err
			}
			return &types.MsgCreateDID{Controller: from, Suffix: args[0], Methods: []types.MethodInput{m}}, nil
		})
	addMethodFlags(create)

	addKey := txCommand("add-key DID", "Add a verification method to a DID", cobra.ExactArgs(1),
		func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			m, err := methodInput(cmd)
			if err != nil {
				return nil, err
			}
			return &types.MsgAddKey{Controller: from, Did: args[0], Method: m}, nil
		})
	addMethodFlags(addKey)

	revokeKey := txCommand("revoke-key DID METHOD-ID", "Revoke a verification method", cobra.ExactArgs(2),
		func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			return &types.MsgRevokeKey{Controller: from, Did: args[0], MethodId: args[1]}, nil
		})

	deactivate := txCommand("deactivate DID", "Deactivate a DID for good", cobra.ExactArgs(1),
		func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			return &types.MsgDeactivateDID{Controller: from, Did: args[0]}, nil
		})

	issue := txCommand("issue-attestation ISSUER-DID METHOD-ID SUBJECT-DID CREDENTIAL-TYPE", "Issue an attestation signed by the issuer's key",
		cobra.ExactArgs(4), func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			ctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return nil, err
			}
			digest, err := hexFlag(cmd, flagDigest)
			if err != nil {
				return nil, err
			}
			from64, _ := cmd.Flags().GetInt64(flagValidFrom)
			until, _ := cmd.Flags().GetInt64(flagValidUntil)
			seq, _ := cmd.Flags().GetUint64(flagSeq)
			sb := types.AttestationSignBytes(ctx.ChainID, args[0], args[1], args[2], args[3], digest, from64, until, seq)
			sig, err := signature(cmd, sb)
			if err != nil {
				return nil, err
			}
			return &types.MsgIssueAttestation{Submitter: from, IssuerDid: args[0], IssuerMethod: args[1], SubjectDid: args[2],
				CredentialType: args[3], Digest: digest, ValidFrom: from64, ValidUntil: until, IssuerSeq: seq, Signature: sig}, nil
		})
	issue.Flags().String(flagDigest, "", "salted digest of the off-chain credential, hex (16-64 bytes)")
	issue.Flags().Int64(flagValidFrom, 0, "validity start, unix seconds")
	issue.Flags().Int64(flagValidUntil, 0, "validity end, unix seconds")
	issue.Flags().Uint64(flagSeq, 0, "issuer sequence: exactly one above the issuer DID's last (query did did ISSUER-DID)")
	addSignFlags(issue)

	setStatus := txCommand("set-status ATTESTATION-ID METHOD-ID active|revoked|suspended", "Change an attestation's status, signed by its issuer",
		cobra.ExactArgs(3), func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			ctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return nil, err
			}
			status, ok := map[string]types.AttestationStatus{"active": types.ATTESTATION_STATUS_ACTIVE,
				"revoked": types.ATTESTATION_STATUS_REVOKED, "suspended": types.ATTESTATION_STATUS_SUSPENDED}[args[2]]
			if !ok {
				return nil, fmt.Errorf("status %q: use active, revoked or suspended", args[2])
			}
			issuer, _ := cmd.Flags().GetString("issuer")
			seq, _ := cmd.Flags().GetUint64(flagSeq)
			sig, err := signature(cmd, types.RevocationSignBytes(ctx.ChainID, args[0], issuer, args[1], status, seq))
			if err != nil {
				return nil, err
			}
			return &types.MsgSetAttestationStatus{Submitter: from, AttestationId: args[0], IssuerMethod: args[1],
				NewStatus: status, IssuerSeq: seq, Signature: sig}, nil
		})
	setStatus.Flags().String("issuer", "", "issuer DID (part of the signing bytes)")
	setStatus.Flags().Uint64(flagSeq, 0, "issuer sequence: exactly one above the issuer DID's last")
	addSignFlags(setStatus)

	trust := txCommand("set-trusted-issuer CREDENTIAL-TYPE ISSUER-DID true|false", "Change the trusted-issuer registry (registry admin only)",
		cobra.ExactArgs(3), func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			trusted, err := strconv.ParseBool(args[2])
			if err != nil {
				return nil, fmt.Errorf("trusted: %w", err)
			}
			return &types.MsgSetTrustedIssuer{Admin: from, CredentialType: args[0], IssuerDid: args[1], Trusted: trusted}, nil
		})

	registerCity := txCommand("register-city CHAIN-ID CLIENT-ID", "Recognise CLIENT-ID as the one client that speaks for the city chain CHAIN-ID (registry admin only; check the client's trust root out of band first)",
		cobra.ExactArgs(2), func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			return &types.MsgRegisterCity{Admin: from, ChainId: args[0], ClientId: args[1]}, nil
		})

	removeCity := txCommand("remove-city CHAIN-ID", "Stop recognising a city: packets on channels over its client are refused (registry admin only)",
		cobra.ExactArgs(1), func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			return &types.MsgRemoveCity{Admin: from, ChainId: args[0]}, nil
		})

	registerHub := txCommand("register-hub CHAIN-ID", "Mark the registered city CHAIN-ID as a hub: packets it forwards for its members are accepted (registry admin only)",
		cobra.ExactArgs(1), func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			return &types.MsgRegisterHub{Admin: from, ChainId: args[0]}, nil
		})

	removeHub := txCommand("remove-hub CHAIN-ID", "Take the hub role from CHAIN-ID: packets it forwards are refused (registry admin only)",
		cobra.ExactArgs(1), func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			return &types.MsgRemoveHub{Admin: from, ChainId: args[0]}, nil
		})

	// channelAndID reads [CHANNEL] ATTESTATION-ID: through a hub (--via) the channel may be left out
	// (the did channel of the hub's registered client).
	channelAndID := func(cmd *cobra.Command, args []string) (channel, id, to, via string, err error) {
		to, _ = cmd.Flags().GetString(flagTo)
		via, _ = cmd.Flags().GetString(flagVia)
		if (to == "") != (via == "") {
			return "", "", "", "", fmt.Errorf("--to and --via go together: a destination is reached through a hub")
		}
		if len(args) == 1 {
			if via == "" {
				return "", "", "", "", fmt.Errorf("give CHANNEL ATTESTATION-ID, or ATTESTATION-ID with --to and --via")
			}
			return "", args[0], to, via, nil
		}
		return args[0], args[1], to, via, nil
	}
	routeFlags := func(cmd *cobra.Command) {
		cmd.Flags().String(flagTo, "", "destination member city, reached through the hub --via")
		cmd.Flags().String(flagVia, "", "hub city chain that checks and forwards the packet to --to")
	}

	sendAtt := txCommand("send-attestation [CHANNEL] ATTESTATION-ID", "Send an attestation to another city over a did channel, or through a hub (--to CITY --via HUB)",
		cobra.RangeArgs(1, 2), func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			t, _ := cmd.Flags().GetUint64(flagTimeout)
			channel, id, to, via, err := channelAndID(cmd, args)
			if err != nil {
				return nil, err
			}
			return &types.MsgSendAttestation{Sender: from, SourceChannel: channel, AttestationId: id, TimeoutTimestamp: t,
				DestinationChainId: to, ViaChainId: via}, nil
		})
	sendAtt.Flags().Uint64(flagTimeout, 0, "timeout, unix nanoseconds (default: block time + 10 minutes)")
	routeFlags(sendAtt)

	sendRev := txCommand("send-revocation [CHANNEL] ATTESTATION-ID", "Send an attestation's current status to another city, or through a hub (--to CITY --via HUB)",
		cobra.RangeArgs(1, 2), func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			t, _ := cmd.Flags().GetUint64(flagTimeout)
			channel, id, to, via, err := channelAndID(cmd, args)
			if err != nil {
				return nil, err
			}
			return &types.MsgSendRevocation{Sender: from, SourceChannel: channel, AttestationId: id, TimeoutTimestamp: t,
				DestinationChainId: to, ViaChainId: via}, nil
		})
	sendRev.Flags().Uint64(flagTimeout, 0, "timeout, unix nanoseconds (default: block time + 10 minutes)")
	routeFlags(sendRev)

	sendSvc := txCommand("send-service-message CHANNEL DESTINATION-CHAIN SERVICE-TYPE SENDER-DID METHOD-ID NONCE EXPIRY PAYLOAD",
		"Send a signed service message (e.g. mileage.transfer) to another city", cobra.ExactArgs(8),
		func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			ctx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return nil, err
			}
			nonce, err := strconv.ParseUint(args[5], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("nonce: %w", err)
			}
			expiry, err := strconv.ParseInt(args[6], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("expiry: %w", err)
			}
			m := types.ServiceMessage{ServiceType: args[2], SenderDid: args[3], SenderMethod: args[4], OriginChainId: ctx.ChainID,
				DestinationChainId: args[1], Nonce: nonce, Expiry: expiry, Payload: []byte(args[7])}
			sb := m.SignBytes()
			if m.Signature, err = signature(cmd, sb); err != nil {
				return nil, err
			}
			m.MsgId = types.MessageID(sb)
			t, _ := cmd.Flags().GetUint64(flagTimeout)
			via, _ := cmd.Flags().GetString(flagVia)
			channel := args[0]
			if channel == "-" {
				if via == "" {
					return nil, fmt.Errorf("channel \"-\" is for a message through a hub: give --via")
				}
				channel = ""
			}
			return &types.MsgSendServiceMessage{Sender: from, SourceChannel: channel, Message: m, TimeoutTimestamp: t, ViaChainId: via}, nil
		})
	sendSvc.Flags().String(flagVia, "", "hub city chain that checks the message and forwards it to DESTINATION-CHAIN (CHANNEL \"-\": the hub's did channel)")
	sendSvc.Flags().Uint64(flagTimeout, 0, "timeout, unix nanoseconds (default: block time + 10 minutes)")
	addSignFlags(sendSvc)

	controllerRevoke := txCommand("controller-revoke ATTESTATION-ID",
		"Revoke an attestation as the controller of its issuer DID (--from): no issuer key or sequence needed; revoked is final",
		cobra.ExactArgs(1), func(_ *cobra.Command, from string, args []string) (sdk.Msg, error) {
			return &types.MsgControllerRevokeAttestation{Controller: from, AttestationId: args[0]}, nil
		})

	leaked := txCommand("revoke-leaked-key DID METHOD-ID",
		"After a key leak: revoke the key and the attestations it signed from --from-height on, at most --limit per tx; "+
			"send again while the answer says more remain (controller only)",
		cobra.ExactArgs(2), func(cmd *cobra.Command, from string, args []string) (sdk.Msg, error) {
			h, _ := cmd.Flags().GetInt64(flagFromHeight)
			limit, _ := cmd.Flags().GetUint32(flagLimit)
			return &types.MsgRevokeLeakedKey{Controller: from, Did: args[0], MethodId: args[1], FromHeight: h, Limit: limit}, nil
		})
	leaked.Flags().Int64(flagFromHeight, 0, "revoke what the key signed at or after this height (0: everything it signed)")
	leaked.Flags().Uint32(flagLimit, 0, fmt.Sprintf("attestations to revoke in this tx (0: the maximum, %d)", types.MaxLeakRevocationsPerTx))

	root.AddCommand(create, addKey, revokeKey, deactivate, issue, setStatus, trust, registerCity, removeCity, sendAtt, sendRev, sendSvc,
		controllerRevoke, leaked, registerHub, removeHub)
	return root
}

func hexFlag(cmd *cobra.Command, name string) ([]byte, error) {
	s, _ := cmd.Flags().GetString(name)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", name, err)
	}
	return b, nil
}
