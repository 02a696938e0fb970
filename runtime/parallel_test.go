package runtime

import (
	"fmt"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordJob counts how often each item runs and checks each piece.
type recordJob struct {
	grain   int
	n       int
	threads int
	counts  []atomic.Int32
	mu      sync.Mutex
	bad     []string
}

func (j *recordJob) run(c, lo, hi int) {
	if c < 0 || c >= j.threads || lo < 0 || hi > j.n || lo >= hi || lo%j.grain != 0 || (hi != j.n && hi%j.grain != 0) {
		j.mu.Lock()
		j.bad = append(j.bad, fmt.Sprintf("c=%d [%d,%d)", c, lo, hi))
		j.mu.Unlock()
	}
	for i := lo; i < hi; i++ {
		j.counts[i].Add(1)
	}
}

// TestParallelCoversEveryItemOnce: every item runs exactly once, on a
// participant index below threads, in pieces aligned to grain, for sizes
// around the grain and thread counts up to 4; repeated calls reuse the
// batch.
func TestParallelCoversEveryItemOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 4} {
		w := newWorkers(threads)
		var b batch
		for _, grain := range []int{1, 12, 48} {
			for _, n := range []int{0, 1, 5, 11, 12, 13, 47, 48, 49, 96, 100, 768, 3072} {
				name := fmt.Sprintf("threads=%d/grain=%d/n=%d", threads, grain, n)
				for rep := 0; rep < 3; rep++ {
					j := &recordJob{grain: grain, n: n, threads: threads, counts: make([]atomic.Int32, n)}
					w.parallel(j, n, grain, &b)
					require.Empty(t, j.bad, name)
					for i := range j.counts {
						require.EqualValues(t, 1, j.counts[i].Load(), "%s: item %d", name, i)
					}
				}
			}
		}
		w.close()
	}
}

// TestParallelUsesEveryThread: with enough work each participant gets
// some of it (the caller and the helpers all claim pieces).
func TestParallelUsesEveryThread(t *testing.T) {
	if goruntime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two Ps: with one, the caller may claim every piece before the helper runs")
	}
	w := newWorkers(2)
	defer w.close()
	var b batch
	var seen [2]atomic.Bool
	j := jobFunc(func(c, lo, hi int) {
		seen[c].Store(true)
		for i := lo; i < hi; i++ {
			spin(2000)
		}
	})
	// On a loaded machine the helper may not be scheduled before the
	// caller has claimed every piece of a call, so keep calling (for a
	// bounded time) until both have run.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		w.parallel(j, 64, 1, &b)
		if seen[0].Load() && seen[1].Load() {
			break
		}
	}
	assert.True(t, seen[0].Load(), "caller ran no piece")
	assert.True(t, seen[1].Load(), "helper ran no piece")
}

type jobFunc func(c, lo, hi int)

func (f jobFunc) run(c, lo, hi int) { f(c, lo, hi) }

var spinSink atomic.Int64

// spin burns a little CPU so a piece takes long enough for the helper to
// wake up and claim the next one.
func spin(n int) {
	s := int64(0)
	for i := range n {
		s += int64(i ^ (i >> 3))
	}
	spinSink.Add(s)
}

// TestParallelDoesNotWaitForBusyHelper: when the helper is held up (here
// inside another call's piece), a call whose work the caller finished alone
// returns without waiting for it, and the helper drops the withdrawn task
// once it is free.
func TestParallelDoesNotWaitForBusyHelper(t *testing.T) {
	w := newWorkers(2)
	defer w.close()
	helperIn, release := make(chan struct{}), make(chan struct{})
	var first batch
	firstDone := make(chan struct{})
	go func() {
		defer close(firstDone)
		w.parallel(jobFunc(func(c, lo, hi int) {
			if c == 1 {
				close(helperIn)
				<-release
				return
			}
			<-helperIn
		}), 2, 1, &first)
	}()
	<-helperIn
	var b batch
	j := &recordJob{grain: 1, n: 64, threads: 2, counts: make([]atomic.Int32, 64)}
	done := make(chan struct{})
	go func() { w.parallel(j, 64, 1, &b); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("parallel waited for a helper that never started its task")
	}
	require.Empty(t, j.bad)
	for i := range j.counts {
		require.EqualValues(t, 1, j.counts[i].Load(), "item %d", i)
	}
	close(release)
	<-firstDone
	// the pool still works, with the helper back
	j2 := &recordJob{grain: 1, n: 64, threads: 2, counts: make([]atomic.Int32, 64)}
	w.parallel(j2, 64, 1, &b)
	for i := range j2.counts {
		require.EqualValues(t, 1, j2.counts[i].Load(), "item %d", i)
	}
}

// TestParallelOwnersKeepTheirShare: each participant starts on the front
// of its own contiguous share, so the same participant computes the same
// items in every call (the caller always the first piece); every piece of
// a helper that started in time lies in its share unless the caller had
// finished its own and took from the back.
func TestParallelOwnersKeepTheirShare(t *testing.T) {
	w := newWorkers(2)
	defer w.close()
	var b batch
	for rep := 0; rep < 20; rep++ {
		var mu sync.Mutex
		first := map[int][2]int{}
		w.parallel(jobFunc(func(c, lo, hi int) {
			mu.Lock()
			if _, ok := first[c]; !ok {
				first[c] = [2]int{lo, hi}
			}
			mu.Unlock()
			spin(20000)
		}), 96, 8, &b)
		require.Equal(t, [2]int{0, 24}, first[0], "the caller's first piece: half of its share [0, 48)")
		if p, ok := first[1]; ok && p[0] < 48 {
			t.Fatalf("the helper's first piece %v is not in its share [48, 96)", p)
		}
	}
}
