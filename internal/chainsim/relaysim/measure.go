package relaysim

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is this process's use of the machine at one moment (the relayer side of a simulation whose
// chains are served by another process).
type Process struct {
	At         time.Time
	CPU        time.Duration // user + system since the process started
	RSSKB      int64         // resident set (VmRSS)
	HeapAlloc  uint64        // live heap and not yet swept
	Goroutines int
	FDs        int
	// MachineBusy, MachineTotal are /proc/stat's busy and total jiffies over all CPUs.
	MachineBusy, MachineTotal int64
}

// Sample reads this process's figures.
func Sample() Process {
	p := Process{At: time.Now(), CPU: selfCPU(), RSSKB: statusKB("VmRSS:"), Goroutines: runtime.NumGoroutine(), FDs: countFDs()}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.HeapAlloc = ms.HeapAlloc
	p.MachineBusy, p.MachineTotal = machineCPU()
	return p
}

// CoreFraction is the CPU this process used between a and b, as a fraction of one core.
func CoreFraction(a, b Process) float64 {
	return (b.CPU - a.CPU).Seconds() / b.At.Sub(a.At).Seconds()
}

// MachineBusyFraction is how busy all the machine's CPUs were between a and b (0..1).
func MachineBusyFraction(a, b Process) float64 {
	if b.MachineTotal <= a.MachineTotal {
		return 0
	}
	return float64(b.MachineBusy-a.MachineBusy) / float64(b.MachineTotal-a.MachineTotal)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func statusKB(key string) int64 {
	bz, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(bz), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return -1
}

func countFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// machineCPU is the busy and total jiffies of all CPUs (/proc/stat's first line).
func machineCPU() (busy, total int64) {
	bz, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(bz), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}
