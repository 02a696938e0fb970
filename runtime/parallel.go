package runtime

import (
	"math"
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
// each participant's share of the items, and the helpers still running
// (counted twice: pending for the caller's spin, wg for its blocking
// wait). It lives in the per-call scratch and is reused by the next call,
// whose generation gen tells a late helper's task from a current one.
type batch struct {
	j            job
	grain, parts int
	gen          uint64
	pending      atomic.Int32
	wg           sync.WaitGroup
	// shares[c] is the part of participant c's share not yet claimed,
	// front<<32 | back: its owner claims pieces from the front, a
	// participant done with its own share takes them from the back.
	shares []paddedShare
	// slots[c] is gen<<2 | state of helper participant c's task: queued
	// until the helper claims it (running) or the caller, done with the
	// work, withdraws it (revoked).
	slots []atomic.Uint64
}

// paddedShare keeps each participant's counter on its own cache line.
type paddedShare struct {
	atomic.Uint64
	_ [56]byte
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
// model; helper c (1 ≤ c < threads) is always participant c, so the share
// of a product's columns or rows it computes is the same in every call and
// stays in its core's cache for the next step. The caller of parallel
// works on the job itself and waits only for the helpers that joined, so a
// busy pool never holds a call up for longer than the pieces those helpers
// claimed.
type workers struct {
	threads int
	spin    bool        // busy-wait before blocking; false when there are fewer Ps than threads
	tasks   []chan task // by participant; tasks[0] is unused (the caller)
	done    chan struct{}
}

func newWorkers(threads int) *workers {
	w := &workers{threads: threads, tasks: make([]chan task, threads), done: make(chan struct{})}
	// A spinning goroutine holds its P: with fewer Ps than threads it
	// would only delay the goroutine it waits for.
	w.spin = goruntime.GOMAXPROCS(0) >= threads
	for c := 1; c < threads; c++ {
		w.tasks[c] = make(chan task, 64)
		go w.loop(w.tasks[c])
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

func (w *workers) loop(tasks chan task) {
	for {
		t, ok := w.next(tasks)
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
func (w *workers) next(tasks chan task) (task, bool) {
	for i := 0; w.spin && i < helperSpin; i++ {
		select {
		case t := <-tasks:
			return t, true
		default:
		}
	}
	select {
	case t := <-tasks:
		return t, true
	case <-w.done:
		return task{}, false
	}
}

func (w *workers) close() { close(w.done) }

// parallel splits [0, n) into pieces whose boundaries are multiples of
// grain (except the end) and runs them on up to threads participants, the
// caller included. Each participant owns an equal contiguous share and
// claims pieces from its front (half of what is left, at least one grain),
// so on an idle machine every participant computes the same items in every
// call and finds the data of its share's earlier steps in its own cache. A
// participant done with its share takes pieces from the back of the others'
// (half of what is left there), so a core that is busy with something else
// (or a helper that wakes late) leaves its work to the others instead of
// holding up the whole call. A helper that has not picked up its task when
// the caller runs out of pieces is withdrawn, so a call never waits for a
// wake-up that can no longer help. b must be idle; it is reused across
// calls to avoid allocation.
func (w *workers) parallel(j job, n, grain int, b *batch) {
	grain = max(grain, 1)
	units := (n + grain - 1) / grain
	parts := max(1, min(w.threads, units))
	if parts <= 1 {
		if n > 0 {
			j.run(0, 0, n)
		}
		return
	}
	if uint64(n) > math.MaxUint32 { // the shares hold 32-bit bounds
		panic("runtime: parallel call over 2³² items")
	}
	b.j, b.grain, b.parts = j, grain, parts
	if len(b.slots) < parts {
		b.slots = make([]atomic.Uint64, w.threads) // once per batch
		b.shares = make([]paddedShare, w.threads)
	}
	for c := 0; c < parts; c++ {
		lo, hi := min(n, c*units/parts*grain), min(n, (c+1)*units/parts*grain)
		b.shares[c].Store(uint64(lo)<<32 | uint64(hi))
	}
	b.pending.Store(int32(parts - 1))
	b.wg.Add(parts - 1)
	b.gen++
	gen := b.gen
	for c := 1; c < parts; c++ {
		b.slots[c].Store(gen<<2 | slotQueued)
	}
	for c := 1; c < parts; c++ {
		select {
		case w.tasks[c] <- task{b: b, c: c, gen: gen}:
		default: // the helper far behind: the others do its share
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

// drain runs pieces of the job as participant c until none is left: its
// own share from the front, then the others' from the back.
func (b *batch) drain(c int) {
	for b.claim1(c, c, true) {
	}
	for v := 1; v < b.parts; v++ {
		for b.claim1(c, (c+v)%b.parts, false) {
		}
	}
}

// claim1 claims one piece of participant owner's share for participant c,
// from the front or the back, and runs it; false when the share is empty.
func (b *batch) claim1(c, owner int, front bool) bool {
	sh := &b.shares[owner]
	for {
		v := sh.Load()
		lo, hi := int(v>>32), int(v&(1<<32-1))
		if lo >= hi {
			return false
		}
		size := ((hi-lo)/2 + b.grain - 1) / b.grain * b.grain
		size = max(b.grain, size)
		var plo, phi int
		var nv uint64
		if front {
			plo, phi = lo, min(hi, lo+size)
			nv = uint64(phi)<<32 | uint64(hi)
		} else {
			// Keep piece boundaries on grain multiples counted from
			// the start (hi itself may be the ragged end n).
			phi = hi
			plo = max(lo, (hi-size+b.grain-1)/b.grain*b.grain)
			nv = uint64(lo)<<32 | uint64(plo)
		}
		if sh.CompareAndSwap(v, nv) {
			b.j.run(c, plo, phi)
			return true
		}
	}
}
