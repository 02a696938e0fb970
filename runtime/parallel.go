package runtime

import "sync"

// job is a unit of parallel work: run(c, lo, hi) processes items [lo, hi)
// as chunk number c (chunks run concurrently; c indexes per-chunk scratch).
// Jobs are structs kept in the per-call scratch, so dispatching one never
// allocates.
type job interface {
	run(c, lo, hi int)
}

// task is one chunk of a job handed to a worker.
type task struct {
	j         job
	c, lo, hi int
	wg        *sync.WaitGroup
}

// workers is a fixed pool of goroutines shared by every forward pass of a
// model. The caller of parallel runs the first chunk itself and waits for
// the others, so a busy pool slows a call down but never deadlocks it.
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
			t.j.run(t.c, t.lo, t.hi)
			t.wg.Done()
		case <-w.done:
			return
		}
	}
}

func (w *workers) close() { close(w.done) }

// parallel splits [0, n) into at most threads chunks whose boundaries are
// multiples of grain (except the end) and runs them concurrently. wg must
// be idle; it is reused across calls to avoid allocation.
func (w *workers) parallel(j job, n, grain int, wg *sync.WaitGroup) {
	chunks := w.chunks(n, grain)
	if chunks <= 1 {
		if n > 0 {
			j.run(0, 0, n)
		}
		return
	}
	size := (n + chunks - 1) / chunks
	size = (size + grain - 1) / grain * grain
	c := 1
	for lo := size; lo < n; lo += size {
		wg.Add(1)
		w.tasks <- task{j: j, c: c, lo: lo, hi: min(lo+size, n), wg: wg}
		c++
	}
	j.run(0, 0, min(size, n))
	wg.Wait()
}

// chunks returns how many chunks parallel uses for n items.
func (w *workers) chunks(n, grain int) int {
	if grain < 1 {
		grain = 1
	}
	return max(1, min(w.threads, (n+grain-1)/grain))
}
