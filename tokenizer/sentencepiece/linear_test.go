//go:build linux || darwin

package sentencepiece

import (
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLongInputIsLinear encodes inputs of 64 KiB and 2 MiB (one long
// word, English, CJK with emoji) and checks that the CPU time grows far
// slower than a quadratic encoder's would: 32× the input may take at most
// 160× the CPU time (a quadratic encoder would take about 1000×; the slack
// covers BPE's n·log n heap, cache misses on the larger arrays and the
// garbage collector). CPU time, not wall time, because the machines that
// run the tests are shared.
func TestLongInputIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs take a few seconds")
	}
	for _, name := range []string{"unigram_nfkc_1k", "bpe_identity_bytefb"} {
		m := loadModel(t, name)
		for _, unit := range []string{"a", "the quick brown fox ", "日本語😀"} {
			small := strings.Repeat(unit, (64<<10)/len(unit))
			large := strings.Repeat(unit, (2<<20)/len(unit))
			d1 := cpuEncode(m, small)
			d32 := cpuEncode(m, large)
			t.Logf("%s %q: 64 KiB %v, 2 MiB %v CPU", name, unit, d1, d32)
			assert.Less(t, d32, 160*d1+50*time.Millisecond, "%s %q", name, unit)
		}
	}
}

func cpuEncode(m *Model, s string) time.Duration {
	runtime.GC()
	before := cpuTime()
	if len(m.Encode(s)) == 0 {
		panic("no ids")
	}
	return cpuTime() - before
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
