package dl

import (
	"bytes"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// maxErrors is how many errors Load reports before it gives up.
const maxErrors = 10

// Error is one problem in a .dl file, at a source position.
type Error struct {
	Pos ir.Pos
	Msg string
	// Line is the source line Pos points into (without its newline), shown
	// under the message with a caret; empty when unknown.
	Line string
}

// Error formats the error as
//
//	lenet.dl:12:7: dense fc1: want 400 inputs, got 256 from flatten_1 [1,256]
//	    | fc1: dense(120)
//	    |      ^
//
// The caret line copies the source's tabs so that it lines up.
func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line != "" && e.Pos.Col > 0 {
		b.WriteString("\n    | ")
		b.WriteString(e.Line)
		b.WriteString("\n    | ")
		col := 1
		for _, r := range e.Line {
			if col >= e.Pos.Col {
				break
			}
			if r == '\t' {
				b.WriteByte('\t')
			} else {
				b.WriteByte(' ')
			}
			col += len(string(r))
		}
		b.WriteByte('^')
	}
	return b.String()
}

// ErrorList is every error found in a file, in the order found. Load and
// LoadFile return a non-empty *ErrorList when they fail.
type ErrorList []*Error

// Error joins the errors with newlines.
func (l *ErrorList) Error() string {
	var b strings.Builder
	for i, e := range *l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// errs collects errors against one source text.
type errs struct {
	file string
	src  []byte
	list ErrorList
	// full is set once maxErrors have been reported.
	full bool
}

func newErrs(file string, src []byte) *errs { return &errs{file: file, src: src} }

// line returns source line n (1-based) without its line ending.
func (e *errs) line(n int) string {
	src := e.src
	for ; n > 1; n-- {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return ""
		}
		src = src[i+1:]
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		src = src[:i]
	}
	return strings.TrimSuffix(string(src), "\r")
}

// add records an error; the message is used as is.
func (e *errs) add(pos ir.Pos, msg string) {
	if e.full {
		return
	}
	if len(e.list) == maxErrors {
		e.full = true
		e.list = append(e.list, &Error{Pos: ir.Pos{File: e.file}, Msg: "too many errors"})
		return
	}
	line := ""
	if pos.Line >= 1 {
		line = e.line(pos.Line)
		if len(line) > 200 {
			line = "" // a caret under a very long line helps nobody
		}
	}
	pos.File = e.file
	e.list = append(e.list, &Error{Pos: pos, Msg: msg, Line: line})
}

func (e *errs) err() error {
	if len(e.list) == 0 {
		return nil
	}
	l := e.list
	return &l
}
