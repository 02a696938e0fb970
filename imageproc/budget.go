package imageproc

import (
	"context"
	"sync"
)

// Budget bounds the bytes of decoded pixels that the loads sharing it hold
// at once. A load that does not fit waits until enough is released; loads
// that fit go ahead even while a larger one waits, so small images keep
// flowing past a large one. A single image larger than the whole budget
// runs once nothing else holds any of it. A Budget is safe for concurrent
// use.
type Budget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	limit int64
	used  int64
	peak  int64
}

// NewBudget returns a budget of limit bytes (at least 1).
func NewBudget(limit int64) *Budget {
	b := &Budget{limit: max(limit, 1)}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Limit returns the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Peak returns the most bytes held at once so far.
func (b *Budget) Peak() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Acquire waits until n bytes fit in the budget (or nothing is held, for
// n larger than the budget) and takes them; it returns ctx's error if ctx
// ends first.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	if n <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			b.mu.Lock()
			b.cond.Broadcast()
			b.mu.Unlock()
		})
		defer stop()
	}
	for b.used > 0 && b.used+n > b.limit {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.cond.Wait()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return nil
}

// Release returns n bytes taken by Acquire.
func (b *Budget) Release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.cond.Broadcast()
	b.mu.Unlock()
}
