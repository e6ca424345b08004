package main

import (
	"io"
)

var importCmd = &command{
	name:    "import",
	summary: "Turn an ONNX file into a readable .dl file and a safetensors weights file.",
	usage:   "[flags] model.onnx -o model.dl",
	example: `  dlc import resnet.onnx -o resnet.dl     # also writes resnet.safetensors`,
}

func init() { importCmd.run = runImport }

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags(importCmd, stdout)
	out := fs.String("o", "", "write the .dl model to `FILE`; the weights go beside it as FILE.safetensors")
	path, err := parseModel(importCmd, fs, args, stdout)
	if err != nil {
		return err
	}
	if *out == "" {
		return &usageError{"no output file: give -o model.dl"}
	}
	return importONNX(path, *out, stderr)
}
