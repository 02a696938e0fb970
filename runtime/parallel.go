package runtime

import (
	"sync"
	"sync/atomic"
)

// job is a unit of parallel work: run(c, lo, hi) processes items [lo, hi)
// on participant c (participants run concurrently, each running its pieces
// one after another; c < threads indexes per-participant scratch). Jobs are
// structs kept in the per-call scratch, so dispatching one never allocates.
type job interface {
	run(c, lo, hi int)
}

// batch is the shared state of one parallel call: the next unclaimed item
// and the helpers still running. It lives in the per-call scratch.
type batch struct {
	next atomic.Int64
	wg   sync.WaitGroup
}

// task asks a worker to join a parallel call as participant c.
type task struct {
	j               job
	c               int
	b               *batch
	n, grain, parts int
}

// workers is a fixed pool of goroutines shared by every forward pass of a
// model. The caller of parallel works on the job itself and waits for the
// helpers it woke, so a busy pool slows a call down but never deadlocks it.
type workers struct {
	threads int
	tasks   chan task
	done    chan struct{}
}

func newWorkers(threads int) *workers {
	w := &workers{threads: threads, tasks: make(chan task, 64*threads), done: make(chan struct{})}
	for i := 1; i < threads; i++ {
		go w.loop()
	}
	return w
}

func (w *workers) loop() {
	for {
		select {
		case t := <-w.tasks:
			drain(t.j, t.c, t.b, t.n, t.grain, t.parts)
			t.b.wg.Done()
		case <-w.done:
			return
		}
	}
}

func (w *workers) close() { close(w.done) }

// parallel splits [0, n) into pieces whose boundaries are multiples of
// grain (except the end) and runs them on up to threads participants, the
// caller included. Pieces are claimed dynamically and shrink as the work
// runs out (guided self-scheduling: each claims 1/(2·participants) of what
// is left, at least one grain), so the participants finish within about one
// grain of each other, and a core that is busy with something else (or a
// helper that wakes late) leaves its share to the others instead of holding
// up the whole call. b must be idle; it is reused across calls to avoid
// allocation.
func (w *workers) parallel(j job, n, grain int, b *batch) {
	grain = max(grain, 1)
	parts := max(1, min(w.threads, (n+grain-1)/grain))
	if parts <= 1 {
		if n > 0 {
			j.run(0, 0, n)
		}
		return
	}
	b.next.Store(0)
	for c := 1; c < parts; c++ {
		b.wg.Add(1)
		w.tasks <- task{j: j, c: c, b: b, n: n, grain: grain, parts: parts}
	}
	drain(j, 0, b, n, grain, parts)
	b.wg.Wait()
}

// drain claims and runs pieces of j as participant c until none is left.
func drain(j job, c int, b *batch, n, grain, parts int) {
	for {
		lo := int(b.next.Load())
		if lo >= n {
			return
		}
		size := ((n-lo)/(2*parts) + grain - 1) / grain * grain
		hi := min(n, lo+max(grain, size))
		if b.next.CompareAndSwap(int64(lo), int64(hi)) {
			j.run(c, lo, hi)
		}
	}
}
