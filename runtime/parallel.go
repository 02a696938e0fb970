package runtime

import (
	goruntime "runtime"
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

// batch is the shared state of one parallel call: the job and its shape,
// the next unclaimed item and the helpers still running (counted twice:
// pending for the caller's spin, wg for its blocking wait). It lives in the
// per-call scratch and is reused by the next call, whose generation gen
// tells a late helper's task from a current one.
type batch struct {
	j               job
	n, grain, parts int
	gen             uint64
	next            atomic.Int64
	pending         atomic.Int32
	wg              sync.WaitGroup
	// slots[c] is gen<<2 | state of helper participant c's task: queued
	// until the helper claims it (running) or the caller, done with the
	// work, withdraws it (revoked).
	slots []atomic.Uint64
}

const (
	slotQueued  = 1
	slotRunning = 2
	slotRevoked = 3
)

// claim reports whether the helper may run its task of generation gen as
// participant c: false for a task of an earlier call or one the caller
// withdrew.
func (b *batch) claim(c int, gen uint64) bool {
	return b.slots[c].CompareAndSwap(gen<<2|slotQueued, gen<<2|slotRunning)
}

// revoke withdraws participant c's task if its helper has not claimed it,
// and then counts the helper as done.
func (b *batch) revoke(c int, gen uint64) {
	if b.slots[c].CompareAndSwap(gen<<2|slotQueued, gen<<2|slotRevoked) {
		b.pending.Add(-1)
		b.wg.Done()
	}
}

// task asks a worker to join the parallel call b (generation gen) as
// participant c.
type task struct {
	b   *batch
	c   int
	gen uint64
}

// workers is a fixed pool of goroutines shared by every forward pass of a
// model. The caller of parallel works on the job itself and waits only for
// the helpers that joined, so a busy pool never holds a call up for longer
// than the pieces those helpers claimed.
type workers struct {
	threads int
	spin    bool // busy-wait before blocking; false when there are fewer Ps than threads
	tasks   chan task
	done    chan struct{}
}

func newWorkers(threads int) *workers {
	w := &workers{threads: threads, tasks: make(chan task, 64*threads), done: make(chan struct{})}
	// A spinning goroutine holds its P: with fewer Ps than threads it
	// would only delay the goroutine it waits for.
	w.spin = goruntime.GOMAXPROCS(0) >= threads
	for i := 1; i < threads; i++ {
		go w.loop()
	}
	return w
}

// Helpers and callers busy-wait a little before blocking. A forward pass
// makes a parallel call every few hundred microseconds; without the spin
// each one would put the helper thread to sleep and wake it again, which on
// a virtual machine (an idle vCPU halts) costs tens to hundreds of
// microseconds per call — longer than a piece of a batch-1 matrix product
// on the VNNI kernels, so a helper woken per call arrives after the caller
// has claimed everything. helperSpin bounds a helper's wait for its next
// task (non-blocking channel receives, about 1.5 ms in all, longer than
// the gap between two calls of a forward pass), callerSpin the caller's
// wait for its helpers' last pieces (atomic loads, about 0.3 ms). After the
// last call of a forward pass the helpers spin that long and then block,
// so an idle model burns no CPU.
const (
	helperSpin = 1 << 17
	callerSpin = 1 << 17
)

func (w *workers) loop() {
	for {
		t, ok := w.next()
		if !ok {
			return
		}
		if !t.b.claim(t.c, t.gen) {
			continue
		}
		t.b.drain(t.c)
		t.b.pending.Add(-1)
		t.b.wg.Done()
	}
}

// next returns the next task, spinning for a while before blocking; false
// once the pool is closed.
func (w *workers) next() (task, bool) {
	for i := 0; w.spin && i < helperSpin; i++ {
		select {
		case t := <-w.tasks:
			return t, true
		default:
		}
	}
	select {
	case t := <-w.tasks:
		return t, true
	case <-w.done:
		return task{}, false
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
// up the whole call. A helper that has not picked up its task when the
// caller runs out of pieces is withdrawn, so a call never waits for a
// wake-up that can no longer help. b must be idle; it is reused across calls to avoid
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
	b.j, b.n, b.grain, b.parts = j, n, grain, parts
	b.next.Store(0)
	b.pending.Store(int32(parts - 1))
	b.wg.Add(parts - 1)
	if len(b.slots) < parts {
		b.slots = make([]atomic.Uint64, w.threads) // once per batch
	}
	b.gen++
	gen := b.gen
	for c := 1; c < parts; c++ {
		b.slots[c].Store(gen<<2 | slotQueued)
	}
	for c := 1; c < parts; c++ {
		select {
		case w.tasks <- task{b: b, c: c, gen: gen}:
		default: // every helper far behind: the caller does the share
			b.revoke(c, gen)
		}
	}
	b.drain(0)
	// Nothing is left to claim: a helper that has not picked up its task
	// yet (asleep, or its thread descheduled) would only make the caller
	// wait for its wake-up, so withdraw it; the helper drops it later.
	for c := 1; c < parts; c++ {
		b.revoke(c, gen)
	}
	for i := 0; w.spin && i < callerSpin && b.pending.Load() != 0; i++ {
	}
	b.wg.Wait()
}

// drain claims and runs pieces of the job as participant c until none is
// left.
func (b *batch) drain(c int) {
	for {
		lo := int(b.next.Load())
		if lo >= b.n {
			return
		}
		size := ((b.n-lo)/(2*b.parts) + b.grain - 1) / b.grain * b.grain
		hi := min(b.n, lo+max(b.grain, size))
		if b.next.CompareAndSwap(int64(lo), int64(hi)) {
			b.j.run(c, lo, hi)
		}
	}
}
