package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/dlcompiler/dlc/compiler"
	"github.com/dlcompiler/dlc/frontend/dl"
	"github.com/dlcompiler/dlc/weights"
)

// importONNX reads the ONNX model at path and writes it as the .dl file
// out, with its weights beside it (model.safetensors for model.dl). Both
// files are replaced atomically, the weights first, so that the .dl never
// names weights that are not there. The written model is loaded again to
// check that it parses and binds its weights; a one-line summary goes to
// stderr.
func importONNX(path, out string, stderr io.Writer) error {
	if !strings.EqualFold(filepath.Ext(path), ".onnx") {
		return &usageError{fmt.Sprintf("%s: dlc import reads an .onnx file", path)}
	}
	if !strings.EqualFold(filepath.Ext(out), ".dl") {
		return &usageError{fmt.Sprintf("-o %s: the output must be a .dl file", out)}
	}
	g, err := compiler.Load(path, compiler.LoadOptions{})
	if err != nil {
		return err
	}
	wname := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out)) + ".safetensors"
	wpath := filepath.Join(filepath.Dir(out), wname)
	src, tensors, err := dl.Format(g, wname)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	src = append([]byte(fmt.Sprintf("# Imported from %s by dlc import.\n", filepath.Base(path))), src...)
	if len(tensors) > 0 {
		if err := weights.WriteSafetensors(wpath, tensors, map[string]string{"source": filepath.Base(path)}); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(out, src); err != nil {
		return err
	}
	h, err := dl.LoadFile(out, dl.Options{})
	if err != nil {
		return fmt.Errorf("internal error: the written model does not load:\n%v", err)
	}
	var elems int
	for _, t := range tensors {
		elems += t.Len()
	}
	msg := fmt.Sprintf("dlc import: %s -> %s (%d nodes, %d inputs, %d outputs)", path, out, len(h.Nodes), len(h.Inputs), len(h.Outputs))
	if len(tensors) > 0 {
		msg += fmt.Sprintf(", %s (%d tensors, %s parameters)", wpath, len(tensors), count(int64(elems)))
	}
	fmt.Fprintln(stderr, msg)
	return nil
}
