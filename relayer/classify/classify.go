// Package classify names what a city's IBC packet carries (a DID attestation, a revocation, a
// service message of some type, an ICS-20 transfer, something else), for routing, filters, metrics
// and the attestation index. The work queue (package packets) knows nothing of DIDs: the daemon hands
// Describe to the pipeline as its packets.Classifier.
package classify

import (
	"encoding/json"
	"slices"
	"strings"

	transfertypes "github.com/cosmos/ibc-go/v8/modules/apps/transfer/types"

	didtypes "github.com/cityrelay/cityrelay/chains/citychain/x/did/types"
	"github.com/cityrelay/cityrelay/packets"
)

// Describe is a packets.Classifier.
var _ packets.Classifier = Describe

// Classes of packet data, for routing, filters and metrics.
const (
	ClassAttestation = "attestation"
	ClassRevocation  = "revocation"
	ClassService     = "service" // reported as service:<type>
	ClassICS20       = "ics20"
	ClassOther       = packets.ClassOther
	ClassInvalid     = "invalid" // a did packet that does not decode: still relayed, the receiver refuses it
)

// Classify names what a packet carries from its source port and data. It never fails: data it does
// not understand is "other" (or "invalid" on the did port).
func Classify(port string, data []byte) string {
	class, _ := Describe(port, data)
	return class
}

// Describe is Classify, and the attestation id a did packet carries: the attestation's id for an
// attestation, the id of the attestation whose status changes for a revocation, "" otherwise. The
// data is decoded once for both.
func Describe(port string, data []byte) (class, attestationID string) {
	switch port {
	case didtypes.PortID:
		d, err := didtypes.DecodePacketData(data)
		if err != nil {
			return ClassInvalid, ""
		}
		switch p := d.Packet.(type) {
		case *didtypes.DIDPacketData_Attestation:
			attestationID = p.Attestation.Attestation.Id
		case *didtypes.DIDPacketData_Revocation:
			attestationID = p.Revocation.AttestationId
		}
		return d.Kind(), attestationID
	case transfertypes.PortID:
		var ft transfertypes.FungibleTokenPacketData
		if err := json.Unmarshal(data, &ft); err != nil || ft.ValidateBasic() != nil {
			return ClassOther, ""
		}
		return ClassICS20, ""
	}
	return ClassOther, ""
}

// ServiceTypes are the service types a metric names by default (metrics.service_types replaces the
// list): any other type is counted as ClassServiceOther.
var ServiceTypes = []string{"mileage.transfer", "mvote.ballot", "parking.permit", "donation.record"}

// ClassServiceOther is the metric class of a service message whose type is not a known one.
const ClassServiceOther = ClassService + ":other"

// MetricClass bounds a class for a metric label. The service type in service:<type> is chosen by
// whoever sends the message (any DID holder, or a lying node): a label per type would let a stranger
// grow the relayer's and Prometheus's series without bound. The fixed classes are kept, service:<type>
// only for a type in known (ServiceTypes when known is nil), service:other for any other type, and
// anything else is "other".
func MetricClass(class string, known map[string]bool) string {
	switch class {
	case ClassAttestation, ClassRevocation, ClassICS20, ClassOther, ClassInvalid:
		return class
	}
	typ, ok := strings.CutPrefix(class, ClassService+":")
	if !ok {
		return ClassOther
	}
	if known == nil {
		if slices.Contains(ServiceTypes, typ) {
			return class
		}
		return ClassServiceOther
	}
	if known[typ] {
		return class
	}
	return ClassServiceOther
}
