package dl

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlcompiler/dlc/ir"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tNewline
	tIdent  // conv1, features.0.weight (dotted names are one token)
	tInt    // 42
	tFloat  // 1e-5, 0.5
	tString // "lenet.safetensors"
	tPunct  // ( ) [ ] { } , : ; = | + - * / ...
)

type token struct {
	kind tokKind
	text string // the identifier, punctuation or literal text; a string's value
	pos  ir.Pos
}

func (t token) is(p string) bool { return t.kind == tPunct && t.text == p }

// describe names a token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tNewline:
		return "end of line"
	case tIdent:
		return strconv.Quote(t.text)
	case tString:
		return "string " + strconv.Quote(t.text)
	case tInt, tFloat:
		return "number " + t.text
	}
	return "'" + t.text + "'"
}

// lexer splits a source into tokens. Newlines end statements, except
// inside ( ) and [ ], after a token that cannot end a statement (| , = :
// and arithmetic operators), and before a line that starts with |, so
// that a pipeline may continue on the next line.
type lexer struct {
	src   []byte
	file  string
	off   int
	line  int
	lineS int // offset of the current line's start
	depth int // ( and [ nesting
	last  token
	errs  *errs
}

func (lx *lexer) pos() ir.Pos {
	return ir.Pos{File: lx.file, Line: lx.line, Col: lx.off - lx.lineS + 1}
}

func (lx *lexer) errorf(pos ir.Pos, format string, args ...any) {
	lx.errs.add(pos, fmt.Sprintf(format, args...))
}

func isLetter(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// skipSpace skips blanks and comments on the current line.
func (lx *lexer) skipSpace() {
	for lx.off < len(lx.src) {
		switch c := lx.src[lx.off]; {
		case c == ' ' || c == '\t' || c == '\r':
			lx.off++
		case c == '#':
			for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
				lx.off++
			}
		default:
			return
		}
	}
}

// continues reports whether a newline after the last token does not end
// the statement.
func (lx *lexer) continues() bool {
	if lx.depth > 0 {
		return true
	}
	if lx.last.kind == tPunct {
		switch lx.last.text {
		case "|", ",", "=", ":", "+", "-", "*", "/":
			return true
		}
	}
	// scan has skipped blank and comment lines: is the next line's first
	// token a |?
	return lx.off < len(lx.src) && lx.src[lx.off] == '|'
}

func (lx *lexer) next() token {
	t := lx.scan()
	if t.kind != tNewline {
		lx.last = t
	}
	return t
}

func (lx *lexer) scan() token {
	for {
		lx.skipSpace()
		if lx.off >= len(lx.src) {
			return token{kind: tEOF, pos: lx.pos()}
		}
		if lx.src[lx.off] != '\n' {
			break
		}
		pos := lx.pos()
		// Take every following blank and comment line at once, so that
		// each byte is looked at once.
		for lx.off < len(lx.src) && lx.src[lx.off] == '\n' {
			lx.off++
			lx.line++
			lx.lineS = lx.off
			lx.skipSpace()
		}
		if !lx.continues() {
			return token{kind: tNewline, text: "\n", pos: pos}
		}
	}
	pos := lx.pos()
	start := lx.off
	c := lx.src[lx.off]
	switch {
	case isLetter(c):
		for {
			for lx.off < len(lx.src) && (isLetter(lx.src[lx.off]) || isDigit(lx.src[lx.off])) {
				lx.off++
			}
			// A dot followed by a name or index continues a dotted name.
			if lx.off+1 < len(lx.src) && lx.src[lx.off] == '.' && (isLetter(lx.src[lx.off+1]) || isDigit(lx.src[lx.off+1])) {
				lx.off++
				continue
			}
			break
		}
		return token{kind: tIdent, text: string(lx.src[start:lx.off]), pos: pos}
	case isDigit(c) || c == '.' && lx.off+1 < len(lx.src) && isDigit(lx.src[lx.off+1]):
		return lx.number(pos)
	case c == '.' && lx.off+2 < len(lx.src) && lx.src[lx.off+1] == '.' && lx.src[lx.off+2] == '.':
		lx.off += 3 // the ellipsis of x[..., :3]
		return token{kind: tPunct, text: "...", pos: pos}
	case c == '"':
		return lx.str(pos)
	}
	switch c {
	case '(', '[':
		lx.depth++
	case ')', ']':
		if lx.depth > 0 {
			lx.depth--
		}
	case '{', '}', ',', ':', ';', '=', '|', '+', '-', '*', '/':
	default:
		r, size := utf8.DecodeRune(lx.src[lx.off:])
		lx.off += size
		if r == utf8.RuneError && size <= 1 {
			lx.errorf(pos, "invalid UTF-8 byte 0x%02x", c)
		} else {
			lx.errorf(pos, "unexpected character %q", r)
		}
		return lx.scan()
	}
	lx.off++
	return token{kind: tPunct, text: string(c), pos: pos}
}

func (lx *lexer) number(pos ir.Pos) token {
	start := lx.off
	float := false
	for lx.off < len(lx.src) && isDigit(lx.src[lx.off]) {
		lx.off++
	}
	if lx.off < len(lx.src) && lx.src[lx.off] == '.' {
		float = true
		lx.off++
		for lx.off < len(lx.src) && isDigit(lx.src[lx.off]) {
			lx.off++
		}
	}
	if lx.off < len(lx.src) && (lx.src[lx.off] == 'e' || lx.src[lx.off] == 'E') {
		e := lx.off + 1
		if e < len(lx.src) && (lx.src[e] == '+' || lx.src[e] == '-') {
			e++
		}
		if e < len(lx.src) && isDigit(lx.src[e]) {
			float = true
			lx.off = e
			for lx.off < len(lx.src) && isDigit(lx.src[lx.off]) {
				lx.off++
			}
		}
	}
	text := string(lx.src[start:lx.off])
	if lx.off < len(lx.src) && isLetter(lx.src[lx.off]) {
		for lx.off < len(lx.src) && (isLetter(lx.src[lx.off]) || isDigit(lx.src[lx.off])) {
			lx.off++
		}
		lx.errorf(pos, "malformed number %q", string(lx.src[start:lx.off]))
	}
	if float {
		return token{kind: tFloat, text: text, pos: pos}
	}
	return token{kind: tInt, text: text, pos: pos}
}

func (lx *lexer) str(pos ir.Pos) token {
	var b strings.Builder
	lx.off++ // opening quote
	for {
		if lx.off >= len(lx.src) || lx.src[lx.off] == '\n' {
			lx.errorf(pos, "string is not terminated")
			return token{kind: tString, text: b.String(), pos: pos}
		}
		c := lx.src[lx.off]
		switch c {
		case '"':
			lx.off++
			return token{kind: tString, text: b.String(), pos: pos}
		case '\\':
			if lx.off+1 < len(lx.src) {
				switch e := lx.src[lx.off+1]; e {
				case '"', '\\':
					b.WriteByte(e)
					lx.off += 2
					continue
				case 'n':
					b.WriteByte('\n')
					lx.off += 2
					continue
				case 't':
					b.WriteByte('\t')
					lx.off += 2
					continue
				}
			}
			lx.errorf(ir.Pos{File: lx.file, Line: lx.line, Col: lx.off - lx.lineS + 1}, `unknown escape in string (use \" \\ \n or \t)`)
			lx.off++
		default:
			r, size := utf8.DecodeRune(lx.src[lx.off:])
			if r == utf8.RuneError && size <= 1 {
				lx.errorf(ir.Pos{File: lx.file, Line: lx.line, Col: lx.off - lx.lineS + 1}, "invalid UTF-8 in string")
			} else {
				b.WriteRune(r)
			}
			lx.off += size
		}
	}
}
