#!/usr/bin/env bash
# ab.sh BASE NEW [ROUNDS]: compare two builds of dlc's generated code.
# BASE and NEW are `go run ./bench -keep DIR` folders made from two
# checkouts (same models, so mNNo2 names the same model in both). It runs
# every -O2 test binary's benchmark from both folders alternately, ROUNDS
# times (default 5), each from its package folder (the benchmark reads
# testdata/selftest.bin), and prints the median ns/op of each side and
# new/base. bench.txt in either folder lists the models in mNN order.
set -euo pipefail
base=$1; new=$2; rounds=${3:-5}
for t in "$base"/m*o2.test; do
  b=$(basename "$t"); p=${b%.test}
  [ -x "$new/$b" ] || continue
  for r in $(seq "$rounds"); do
    for side in base new; do
      d=$base; [ "$side" = new ] && d=$new
      (cd "$d/$p" && "../$b" -test.run '^$' -test.bench . -test.benchtime 100ms 2>/dev/null |
        awk -v s="$side" -v m="$p" '/^Benchmark/ {print m, s, $3}' | head -1)
    done
  done
done | awk '
  { v[$1" "$2] = v[$1" "$2] " " $3; models[$1] = 1 }
  function median(str,   a, n, i, j, t) {
    n = split(str, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    for (m in models) if ((m" base") in v && (m" new") in v) {
      b = median(v[m" base"]); n = median(v[m" new"])
      printf "%-8s base %12.0f ns  new %12.0f ns  new/base %.2f\n", m, b, n, n / b
    }
  }' | sort
