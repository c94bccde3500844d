package packets

// ClassOther is the class of a packet no classifier understands.
const ClassOther = "other"

// Classifier names what a packet carries from its source port and data (Work.Class: for routing,
// filters and metrics) and the attestation id it carries, if any ("" for none; the pipeline indexes
// packets carrying one under it, see Attested). What a packet means is the application's business, not
// the work queue's: the caller hands its classifier in (the city's is classify.Describe in
// relayer/classify). A Classifier never fails: data it does not understand gets a class of its own.
type Classifier func(port string, data []byte) (class, attestationID string)

// Unclassified is the default Classifier: every packet is ClassOther and carries no attestation id.
func Unclassified(string, []byte) (class, attestationID string) { return ClassOther, "" }
