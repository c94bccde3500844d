// Command gen writes the Go package contracts's generated file from the solc artifacts of
// CityAttestationRegistry: the abigen (v2) bindings, registry.go. (The artifacts themselves are
// embedded by package contracts, from contracts/build.) It is go-ethereum's abigen used as a library, so the bindings follow the go-ethereum version in
// go.mod. scripts/contracts.sh runs it; run it by hand as
//
//	go run ./contracts/gen -in contracts/build -out contracts
package main

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/accounts/abi/abigen"
)

const (
	contract = "CityAttestationRegistry"
	pkg      = "contracts"
	header   = "// Bindings of contracts/" + contract + ".sol, written by contracts/gen from contracts/build/" +
		contract + ".{abi,bin}.\n// Regenerate with scripts/contracts.sh.\n\n"
)

func main() {
	in := flag.String("in", "contracts/build", "directory with the solc artifacts")
	out := flag.String("out", "contracts", "directory of the Go package to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	files := map[string][]byte{}
	for _, ext := range []string{".abi", ".bin", ".bin-runtime"} {
		b, err := os.ReadFile(filepath.Join(in, contract+ext))
		if err != nil {
			return err
		}
		files[ext] = b
	}
	for _, ext := range []string{".bin", ".bin-runtime"} {
		if _, err := hex.DecodeString(string(bytes.TrimSpace(files[ext]))); err != nil {
			return fmt.Errorf("%s%s is not hex: %w", contract, ext, err)
		}
	}

	code, err := abigen.BindV2([]string{contract}, []string{string(files[".abi"])},
		[]string{string(bytes.TrimSpace(files[".bin"]))}, pkg, nil, nil)
	if err != nil {
		return fmt.Errorf("abigen: %w", err)
	}

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "registry.go"), []byte(header+code), 0o644); err != nil {
		return err
	}
	return nil
}
