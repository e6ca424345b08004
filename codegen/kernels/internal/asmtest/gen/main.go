// Command gen writes the generated files of package asmtest (run by go
// generate in its directory): kernels.AsmTestFiles.
package main

import (
	"fmt"
	"os"

	"github.com/dlcompiler/dlc/codegen/kernels"
)

func main() {
	files, err := kernels.AsmTestFiles()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for name, b := range files {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
