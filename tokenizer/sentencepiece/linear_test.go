//go:build linux || darwin

package sentencepiece

import (
	"math"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLongInputIsLinear encodes inputs of 64 KiB and 1 MiB (one long
// word, English, CJK with emoji) and checks that the CPU time grows far
// slower than a quadratic encoder's would: 16× the input may take at most
// 80× the CPU time (a quadratic encoder would take about 256×; the slack
// covers BPE's n·log n heap, cache misses on the larger arrays and the
// garbage collector). CPU time, not wall time, because the machines that
// run the tests are shared, and the least of three runs.
func TestLongInputIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs take a few seconds")
	}
	for _, name := range []string{"unigram_nfkc_1k", "bpe_identity_bytefb"} {
		m := loadModel(t, name)
		for _, unit := range []string{"a", "the quick brown fox ", "日本語😀"} {
			small := strings.Repeat(unit, (64<<10)/len(unit))
			large := strings.Repeat(unit, (1<<20)/len(unit))
			d1 := cpuEncode(m, small)
			d16 := cpuEncode(m, large)
			t.Logf("%s %q: 64 KiB %v, 1 MiB %v CPU", name, unit, d1, d16)
			assert.Less(t, d16, 80*d1+50*time.Millisecond, "%s %q", name, unit)
		}
	}
}

// cpuEncode is the least CPU time of three encodings of s: the minimum is
// what the work costs when nothing else disturbs it.
func cpuEncode(m *Model, s string) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		runtime.GC()
		before := cpuTime()
		if len(m.Encode(s)) == 0 {
			panic("no ids")
		}
		best = min(best, cpuTime()-before)
	}
	return best
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
