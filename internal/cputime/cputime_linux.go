package cputime

import (
	"time"

	"golang.org/x/sys/unix"
)

// Thread returns the CPU time (user + system) the calling OS thread has
// used. A caller measuring a goroutine's work locks it to its thread
// (runtime.LockOSThread) for the span it measures.
func Thread() time.Duration {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}
