package packets

import (
	"encoding/json"

	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
)

// Classes of packet data, for routing, filters and metrics.
const (
	ClassAttestation = "attestation"
	ClassRevocation  = "revocation"
	ClassService     = "service" // reported as service:<type>
	ClassICS20       = "ics20"
	ClassOther       = "other"
	ClassInvalid     = "invalid" // a did packet that does not decode: still relayed, the receiver refuses it
)

// Classify names what a packet carries from its source port and data. It never fails: data it does
// not understand is "other" (or "invalid" on the did port).
func Classify(port string, data []byte) string {
	switch port {
	case didtypes.PortID:
		d, err := didtypes.DecodePacketData(data)
		if err != nil {
			return ClassInvalid
		}
		return d.Kind()
	case transfertypes.PortID:
		var ft transfertypes.FungibleTokenPacketData
		if err := json.Unmarshal(data, &ft); err != nil || ft.ValidateBasic() != nil {
			return ClassOther
		}
		return ClassICS20
	}
	return ClassOther
}
