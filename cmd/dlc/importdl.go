package main

import (
	"fmt"
	"io"
)

func importONNX(path, out string, stderr io.Writer) error {
	return fmt.Errorf("dlc import: not implemented yet")
}
