package dl

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dlcompiler/dlc/ir"
)

// Parameters missing from the weights file are collected while lowering
// goes on (as without a weights file) and reported together, each with
// the file's tensor it most likely is: the same name but for one index,
// with the shape wanted, nearest by index. nn.Sequential numbers every
// item, relu and pooling included, so one layer left out of a seq moves
// every later name by one; when the suggestions agree on such a shift,
// the message says so.

// missingParam is a parameter the weights file lacks.
type missingParam struct {
	call   *call
	disp   string // the name, with the file's name when renamed
	file   string // the name looked up in the file
	suffix string
	shape  ir.Shape
}

// indexCand is a file tensor whose name differs from a wanted one in one
// numeric part.
type indexCand struct {
	name      string
	prefix    string // the parts before the differing index
	index     int    // the wanted name's index there
	diff      int    // the file's index minus the wanted one
	sameShape bool
}

// indexCands lists the file tensors named like name but for one index,
// best first: the wanted shape, then the nearest index.
func (l *lowerer) indexCands(name string, shape ir.Shape) []indexCand {
	if l.wfile == nil || len(l.wfile.Tensors) > 10000 {
		return nil
	}
	parts := strings.Split(name, ".")
	var out []indexCand
	for k, t := range l.wfile.Tensors {
		kp := strings.Split(k, ".")
		if len(kp) != len(parts) || k == name {
			continue
		}
		at := -1
		for i := range kp {
			if kp[i] != parts[i] {
				if at >= 0 {
					at = -2
					break
				}
				at = i
			}
		}
		if at < 0 {
			continue
		}
		a, err1 := strconv.Atoi(parts[at])
		b, err2 := strconv.Atoi(kp[at])
		if err1 != nil || err2 != nil {
			continue
		}
		same := ir.Shape(t.Shape).Equal(shape)
		out = append(out, indexCand{name: k, prefix: strings.Join(parts[:at], "."), index: a, diff: b - a, sameShape: same})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.sameShape != b.sameShape {
			return a.sameShape
		}
		if abs(a.diff) != abs(b.diff) {
			return abs(a.diff) < abs(b.diff)
		}
		return a.diff > b.diff
	})
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// nearestParam is the file tensor most likely meant for name (with the
// wanted shape only, if sameShape), or "".
func (l *lowerer) nearestParam(name string, shape ir.Shape, sameShape bool) (string, *indexCand) {
	cs := l.indexCands(name, shape)
	if len(cs) == 0 || sameShape && !cs[0].sameShape {
		return "", nil
	}
	return cs[0].name, &cs[0]
}

// reportMissing reports every parameter missing from the weights file in
// one error, at the first one's layer.
func (l *lowerer) reportMissing() {
	if len(l.missing) == 0 {
		return
	}
	// The shift most suggestions agree on decides ties (features.2.bias
	// is as near to features.1.bias as to features.3.bias).
	cands := make([][]indexCand, len(l.missing))
	votes := map[int]int{}
	for i, m := range l.missing {
		cands[i] = l.indexCands(m.file, m.shape)
		for _, c := range cands[i] {
			if c.sameShape != cands[i][0].sameShape || abs(c.diff) != abs(cands[i][0].diff) {
				break
			}
			votes[c.diff]++
		}
	}
	shift, best := 0, 0
	for d, n := range votes {
		if n > best || n == best && d > shift {
			shift, best = d, n
		}
	}
	var items, sugg []string
	agree, from, prefix := true, -1, ""
	for i, m := range l.missing {
		item := ""
		var pick *indexCand
		for j := range cands[i] {
			c := &cands[i][j]
			if c.sameShape != cands[i][0].sameShape || abs(c.diff) != abs(cands[i][0].diff) {
				break
			}
			if pick == nil || c.diff == shift {
				pick = c
			}
		}
		switch {
		case pick != nil:
			item += " (did you mean " + pick.name + "?)"
			if from < 0 || pick.prefix == prefix && pick.index < from {
				from = pick.index
			}
			agree = agree && pick.diff == shift && (prefix == "" || prefix == pick.prefix)
			prefix = pick.prefix
		default:
			item += l.suffixHint(m)
			agree = false
		}
		items = append(items, m.disp+item)
		sugg = append(sugg, item)
	}
	hint := ""
	if agree && len(l.missing) >= 2 && shift != 0 {
		what := fmt.Sprintf("%d higher", shift)
		guess := "a layer missing"
		if shift < 0 {
			what, guess = fmt.Sprintf("%d lower", -shift), "a layer too many"
		}
		hint = fmt.Sprintf("; the file's numbers under %s are %s: is there %s before %s.%d? (nn.Sequential numbers every item, relu and pooling included)", prefix, what, guess, prefix, from)
	}
	first := l.missing[0]
	if len(items) == 1 {
		l.report(first.call.errorf("%s is not in %s%s%s", first.disp, l.wname, sugg[0], hint))
		return
	}
	const show = 20
	more := ""
	if len(items) > show {
		more = fmt.Sprintf(" and %d more", len(items)-show)
		items = items[:show]
	}
	l.report(first.call.errorf("%d parameters are not in %s: %s%s%s", len(l.missing), l.wname, strings.Join(items, ", "), more, hint))
}

// suffixHint suggests a file tensor with the same last part (weight,
// bias ...) and a name close to the missing one's.
func (l *lowerer) suffixHint(m missingParam) string {
	var cands []string
	if len(l.wfile.Tensors) <= 10000 {
		for k := range l.wfile.Tensors {
			if strings.HasSuffix(k, "."+m.suffix) || k == m.suffix {
				cands = append(cands, k)
			}
		}
		sort.Strings(cands)
	}
	return didYouMean(m.file, cands)
}
