// Package light keeps one CometBFT light client per chain the relayer serves.
//
// "Trusted" means: a header is used only after the light client verified it, by skipping
// verification (trust level 1/3) from a trusted header that came from the operator's config (trust
// height and hash) or, when the operator explicitly asked with --trust-latest, from the chain's
// latest header at first start. Verified headers are kept in a store on disk under the relayer's
// home, so a restart resumes from them and needs no trust options. Every header that goes into a
// MsgUpdateClient and every app hash a proof is checked against comes from here.
//
// Witnesses: after verifying a header, the client asks every witness for the header at the same
// height. A witness that serves a different one is a divergence: the client refuses the header with
// ErrDivergence, writes both headers as evidence (a JSON file under the evidence directory) and logs
// the event, for later misbehaviour submission. It then halts (ErrHalted): cometbft had already
// stored the header, so the stored headers from that height up are forgotten, a halt file
// (HaltFile) is written in the store directory, and every verification fails from then on, across
// restarts, until an operator removes the file. Every witness is asked, and what each answered last
// (agrees, no answer, diverged, with the height, time and evidence file) is kept for the daemon's
// console and metrics: Client.Witnesses, Client.Divergences. What they report names a witness by
// scheme://host:port only (RedactURL): an RPC address's user info, path or query may hold an API key.
//
// Proofs: an ICS-23 proof of a store value read at height h is checked against the app hash in the
// verified header at h+1 (VerifyMembership, VerifyNonMembership, VerifyProofAgainstAppHash).
package light
