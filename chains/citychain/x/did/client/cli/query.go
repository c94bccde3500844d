package cli

import (
	"strconv"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/gogoproto/proto"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

func queryCommand(use, short string, args cobra.PositionalArgs, run func(types.QueryClient, *cobra.Command, []string) (proto.Message, error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, args []string) error {
		ctx, err := client.GetClientQueryContext(cmd)
		if err != nil {
			return err
		}
		res, err := run(types.NewQueryClient(ctx), cmd, args)
		if err != nil {
			return err
		}
		return ctx.PrintProto(res)
	}}
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}

// QueryCmd returns the `query did` commands.
func QueryCmd() *cobra.Command {
	root := &cobra.Command{Use: types.ModuleName, Short: "Query DIDs, attestations, deliveries and the inbox", RunE: client.ValidateCmd}
	root.AddCommand(
		queryCommand("document DID", "A DID document", cobra.ExactArgs(1), func(q types.QueryClient, cmd *cobra.Command, a []string) (proto.Message, error) {
			return q.DID(cmd.Context(), &types.QueryDIDRequest{Did: a[0]})
		}),
		queryCommand("attestation ID", "An attestation issued on this chain", cobra.ExactArgs(1), func(q types.QueryClient, cmd *cobra.Command, a []string) (proto.Message, error) {
			return q.Attestation(cmd.Context(), &types.QueryAttestationRequest{Id: a[0]})
		}),
		queryCommand("foreign-attestation ORIGIN-CHAIN ID", "An attestation received from another city", cobra.ExactArgs(2), func(q types.QueryClient, cmd *cobra.Command, a []string) (proto.Message, error) {
			return q.ForeignAttestation(cmd.Context(), &types.QueryForeignAttestationRequest{OriginChainId: a[0], Id: a[1]})
		}),
		queryCommand("delivery CHANNEL SEQUENCE", "What became of a packet sent from here", cobra.ExactArgs(2), func(q types.QueryClient, cmd *cobra.Command, a []string) (proto.Message, error) {
			seq, err := strconv.ParseUint(a[1], 10, 64)
			if err != nil {
				return nil, err
			}
			return q.Delivery(cmd.Context(), &types.QueryDeliveryRequest{Channel: a[0], Sequence: seq})
		}),
		queryCommand("inbox [SERVICE-TYPE]", "Received service messages", cobra.MaximumNArgs(1), func(q types.QueryClient, cmd *cobra.Command, a []string) (proto.Message, error) {
			req := &types.QueryInboxRequest{}
			if len(a) == 1 {
				req.ServiceType = a[0]
			}
			return q.Inbox(cmd.Context(), req)
		}),
		queryCommand("trusted-issuers [CREDENTIAL-TYPE]", "The trusted-issuer registry", cobra.MaximumNArgs(1), func(q types.QueryClient, cmd *cobra.Command, a []string) (proto.Message, error) {
			req := &types.QueryTrustedIssuersRequest{}
			if len(a) == 1 {
				req.CredentialType = a[0]
			}
			return q.TrustedIssuers(cmd.Context(), req)
		}),
		queryCommand("cities", "The city registry: which client speaks for which city chain", cobra.NoArgs, func(q types.QueryClient, cmd *cobra.Command, _ []string) (proto.Message, error) {
			return q.Cities(cmd.Context(), &types.QueryCitiesRequest{})
		}),
		queryCommand("city CHAIN-ID", "The client registered for a city chain", cobra.ExactArgs(1), func(q types.QueryClient, cmd *cobra.Command, a []string) (proto.Message, error) {
			return q.City(cmd.Context(), &types.QueryCityRequest{ChainId: a[0]})
		}),
		queryCommand("hubs", "The registered cities marked as hubs (their forwarded packets are accepted)", cobra.NoArgs, func(q types.QueryClient, cmd *cobra.Command, _ []string) (proto.Message, error) {
			return q.Hubs(cmd.Context(), &types.QueryHubsRequest{})
		}),
		queryCommand("params", "Module parameters", cobra.NoArgs, func(q types.QueryClient, cmd *cobra.Command, _ []string) (proto.Message, error) {
			return q.Params(cmd.Context(), &types.QueryParamsRequest{})
		}),
	)
	return root
}
