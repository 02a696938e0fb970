package cputime

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Spinning advances the thread's CPU time (within a generous wall-clock
// bound, whatever else the machine runs); sleeping barely does.
func TestThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c0, w0 := Thread(), time.Now()
	for Thread()-c0 < 10*time.Millisecond && time.Since(w0) < 10*time.Second {
	}
	assert.GreaterOrEqual(t, Thread()-c0, 10*time.Millisecond, "CPU time while spinning")
	c1 := Thread()
	time.Sleep(50 * time.Millisecond)
	assert.Less(t, Thread()-c1, 25*time.Millisecond, "CPU time while asleep")
}
