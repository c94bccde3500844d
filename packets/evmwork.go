package packets

import (
	"encoding/json"
	"fmt"
)

// KindEvmAttestation is the work kind of an attestation (or its newer status) of an EVM city, to be
// proven from the city's registry contract into a Cosmos city through the city's city-qbft client.
const KindEvmAttestation = "evm-attestation"

// EvmWork is one EVM attestation to bring to a Cosmos city. It carries only references: the submitter
// reads the attestation and its proofs again at a header its light client verified, so nothing in a
// work item is trusted (a forged item is at worst a refused or wasted proof).
type EvmWork struct {
	V    int    `json:"v"`
	Kind string `json:"kind"`
	// City is the EVM city's chain id; To is the Cosmos chain and Client the city-qbft client on it.
	City   string `json:"city"`
	To     string `json:"to"`
	Client string `json:"client"`
	// ID is the attestation id (64 hex characters).
	ID string `json:"id"`
	// Block is the EVM block of the event (proofs come from a verified header at or above it).
	Block uint64 `json:"block"`
	// StatusSeq is the issuer sequence of the status change the event announced (0: the issue).
	StatusSeq uint64 `json:"status_seq"`
	// ObservedUnixNano is when the scanner saw the event.
	ObservedUnixNano int64 `json:"observed_unix_nano"`
}

// MsgID is the de-duplication id: <city>/<id>/<status-seq>/<block>/evm-attestation.
//
// The status sequence comes from an unauthenticated log, so it cannot name a status change alone: a
// forged log announcing the next sequence would take the id of the real change to come, and JetStream
// would drop the real one as a duplicate. The block pins it: a log's block is at most the newest
// verified header when the scanner takes it (evm.Client.Logs refuses any other), and the submitter
// proves at that block or above, so an item with block B delivers at least the status the registry
// held at B. A real change after B has its own block in its id; a real change at or before B is
// delivered by the item with B. A status recheck's item takes the sequence and block of the proven
// status word, the same id as the real change's log.
func (w *EvmWork) MsgID() string {
	return fmt.Sprintf("%s/%s/%d/%d/%s", w.City, w.ID, w.StatusSeq, w.Block, KindEvmAttestation)
}

// Subject is cityrelay.work.<to>.evm:<client>.evm-attestation: the submitters serving that client on
// To share it.
func (w *EvmWork) Subject() string { return EvmWorkSubject(w.To, w.Client) }

// EvmWorkSubject is the subject of EVM attestation work for client on chain to.
func EvmWorkSubject(to, client string) string {
	return WorkSubject(to, "evm:"+client, KindEvmAttestation)
}

// EvmConsumerName is the durable consumer of the submitters of client on chain to.
func EvmConsumerName(to, client string) string { return ConsumerName(to, "evm", client) }

// Encode writes the work item.
func (w *EvmWork) Encode() ([]byte, error) {
	w.V, w.Kind = Version, KindEvmAttestation
	if err := w.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// DecodeEvm reads an EVM work item strictly (as Decode does).
func DecodeEvm(bz []byte) (*EvmWork, error) {
	var w EvmWork
	if err := decodeStrict(bz, &w, func() int { return w.V }); err != nil {
		return nil, err
	}
	if err := w.validate(); err != nil {
		return nil, err
	}
	return &w, nil
}

func (w *EvmWork) validate() error {
	switch {
	case w.Kind != KindEvmAttestation:
		return fmt.Errorf("%w: kind %q", ErrBadWork, w.Kind)
	case w.City == "" || w.To == "" || w.Client == "" || w.City == w.To:
		return fmt.Errorf("%w: city %q to %q client %q", ErrBadWork, w.City, w.To, w.Client)
	case len(w.ID) != 64 || !isLowerHex(w.ID):
		return fmt.Errorf("%w: attestation id %q", ErrBadWork, w.ID)
	case w.Block == 0:
		return fmt.Errorf("%w: block 0", ErrBadWork)
	}
	return nil
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
