package train

import (
	"os"
	"strconv"
	"strings"
)

// cpuSeconds is the CPU time used so far by this process and, for the
// compiled engine, by its training program: what an epoch costs on a
// machine shared with other work, where wall time says little. The
// program's time comes from /proc (Linux), this process's from getrusage
// (Unix); elsewhere they count as 0.
func (t *Trainer) cpuSeconds() float64 {
	s := selfCPU()
	if e, ok := t.engine.(*compiledEngine); ok && e.cmd.Process != nil {
		s += procCPU(e.cmd.Process.Pid)
	}
	return s
}

// procCPU reads utime + stime of a process from /proc/PID/stat, in
// seconds (clock ticks of 1/100 s, Linux's USER_HZ).
func procCPU(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return (u + st) / 100
}
