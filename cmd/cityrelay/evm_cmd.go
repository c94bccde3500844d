package main

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	"github.com/cityrelay/cityrelay/relayer/config"
	"github.com/cityrelay/cityrelay/relayer/evmrelay"
)

// evmClientCmd is `cityrelay tx evm-client CITY CHAIN`.
func evmClientCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "evm-client CITY CHAIN",
		Short: "Create the city-qbft client of an EVM city on a Cosmos city and record it in the config",
		Long: `Create, on the Cosmos city CHAIN, the city-qbft light client of the EVM city CITY (a section
[evm_cities.CITY] of the config) from the newest header its QBFT light client verified, pinning the
registry contract's address and code hash. The client id is saved as the delivery's client_id.
Nothing proven through the client is accepted until CHAIN's city registry admin registers it:
  citychaind tx did register-city CITY <client-id> --from <registry-admin>`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			city, chain := args[0], args[1]
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			ec, ok := cfg.EvmCities[city]
			if !ok {
				return fmt.Errorf("evm city %s is not in the config: add an [evm_cities.%s] section", city, city)
			}
			rt := openRuntime(cmd, cfg, false)
			defer rt.Close()
			src, err := rt.EvmCity(cmd.Context(), city)
			if err != nil {
				return err
			}
			dest, err := rt.Chain(chain)
			if err != nil {
				return err
			}
			p := evmrelay.ClientParams{City: city, EvmChainID: ec.EvmChainID, Registry: common.HexToAddress(ec.Registry),
				TrustingPeriod: ec.TrustingPeriod.Duration}
			if ec.RegistryCodeHash != "" {
				p.CodeHash = common.HexToHash(ec.RegistryCodeHash)
			}
			id, err := evmrelay.CreateClient(cmd.Context(), src, dest, p)
			if err != nil {
				return err
			}
			recordDelivery(ec, chain, id)
			if err := cfg.Save(configPath()); err != nil {
				return fmt.Errorf("client %s created, but saving the config failed: %w", id, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "client %s of %s created on %s (saved as evm_cities.%s.deliver)\nnext, %s's registry admin: citychaind tx did register-city %s %s --from <registry-admin>\n",
				id, city, chain, city, chain, city, id)
			return nil
		},
	}
}

// recordDelivery sets the client of chain in the city's deliveries (adding the delivery if missing).
func recordDelivery(ec *config.EvmCity, chain, clientID string) {
	for i := range ec.Deliver {
		if ec.Deliver[i].Chain == chain {
			ec.Deliver[i].ClientID = clientID
			return
		}
	}
	ec.Deliver = append(ec.Deliver, config.EvmDelivery{Chain: chain, ClientID: clientID})
}
