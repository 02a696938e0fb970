package server

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Work is counted in encoder passes: one text (or token list) is 1, one
// image imageWork. A classify request brings labels × templates texts (when
// its label set is not cached) plus its images.
const imageWork = 2

// Budget defaults (Config.MaxRequestPixels, MaxWork, HeavyWork).
const (
	defaultRequestPixels = 100_000_000
	defaultMaxWork       = 20_000
	defaultHeavyWork     = 256
	// textChunk is how many texts one encoder call takes when a request's
	// texts are encoded in pieces, checking its context between them.
	textChunk = 32
	// freeAfterPixels: after a request that decoded this many pixels, the
	// heap it grew is handed back to the operating system.
	freeAfterPixels = 16_000_000
	// collectAfterPixels: after decoding and preprocessing an image this
	// large, a request with more images to decode collects garbage first.
	collectAfterPixels = 4_000_000
)

func (c *Config) budgetDefaults() {
	if c.MaxRequestPixels <= 0 {
		c.MaxRequestPixels = max(defaultRequestPixels, c.MaxPixels)
	}
	if c.MaxWork <= 0 {
		c.MaxWork = defaultMaxWork
	}
	if c.HeavyWork <= 0 {
		c.HeavyWork = defaultHeavyWork
	}
}

// budget is the server's work-weighted admission state.
type budget struct {
	// heavy holds one token per heavy request computing: at most
	// MaxConcurrent-1 (at least 1), so light requests always find a slot
	// when there are two or more.
	heavy chan struct{}
	// lastFree rate-limits debug.FreeOSMemory (unix nanoseconds).
	lastFree atomic.Int64
	freeMu   sync.Mutex
}

func newBudget(maxConcurrent int) *budget {
	return &budget{heavy: make(chan struct{}, max(1, maxConcurrent-1))}
}

// checkWork refuses a request whose work exceeds MaxWork.
func (s *Server) checkWork(work int) error {
	if work > s.cfg.MaxWork {
		return &httpError{http.StatusRequestEntityTooLarge, fmt.Errorf("request needs %d encoder passes (texts, images×%d, labels×templates), more than the %d allowed (serve -max-work)", work, imageWork, s.cfg.MaxWork)}
	}
	return nil
}

// computeWork is compute for a request bringing work encoder passes: above
// HeavyWork it must first take one of the heavy tokens (waiting like any
// queued request), so heavy requests never hold every slot.
func (s *Server) computeWork(ctx context.Context, work int, f func() error) error {
	if err := s.checkWork(work); err != nil {
		return err
	}
	if work <= s.cfg.HeavyWork {
		return s.compute(ctx, f)
	}
	select {
	case s.budget.heavy <- struct{}{}:
	default:
		t := time.NewTimer(s.cfg.QueueTimeout)
		select {
		case s.budget.heavy <- struct{}{}:
			t.Stop()
		case <-t.C:
			s.metrics.rejected.Add(1)
			return errBusy
		case <-ctx.Done():
			t.Stop()
			return ctxErr(ctx)
		}
	}
	var owner atomic.Bool // who releases the token: f once started, else us
	release := func() { <-s.budget.heavy }
	err := s.compute(ctx, func() error {
		if owner.CompareAndSwap(false, true) {
			defer release()
		}
		return f()
	})
	if owner.CompareAndSwap(false, true) {
		release() // f never started
	}
	return err
}

// checkPixels reads the declared size of every image (headers only, no
// pixel is decoded) and refuses the request when they add up to more than
// MaxRequestPixels. It returns the total.
func (s *Server) checkPixels(data [][]byte) (int64, error) {
	var total int64
	for i, b := range data {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			continue // Decode reports it with the image's number
		}
		if cfg.Width <= 0 || cfg.Height <= 0 {
			continue // Decode refuses it
		}
		// One image over MaxPixels is refused by Decode, before decoding.
		total += min(int64(cfg.Width)*int64(cfg.Height), s.cfg.MaxPixels+1)
		if total > s.cfg.MaxRequestPixels {
			return 0, &httpError{http.StatusRequestEntityTooLarge, fmt.Errorf("images 0 to %d declare %d pixels, more than the %d allowed per request (serve -max-request-pixels)", i, total, s.cfg.MaxRequestPixels)}
		}
	}
	return total, nil
}

// afterLargeRequest returns the memory a request that decoded pixels
// pixels grew the heap by to the operating system, at most once a second:
// Go's scavenger would keep it for minutes otherwise, and a board serving
// one large request should not hold gigabytes afterwards.
func (s *Server) afterLargeRequest(pixels int64) {
	if pixels < freeAfterPixels {
		return
	}
	now := time.Now().UnixNano()
	last := s.budget.lastFree.Load()
	if now-last < int64(time.Second) || !s.budget.lastFree.CompareAndSwap(last, now) {
		return
	}
	go func() {
		s.budget.freeMu.Lock()
		defer s.budget.freeMu.Unlock()
		debug.FreeOSMemory()
	}()
}

// embedTextsCtx returns the model's EmbedTexts encoding in chunks of
// textChunk, stopping between chunks once ctx ends, so that a request past
// its deadline or abandoned by its client gives up its slot within one
// chunk instead of finishing thousands of prompts nobody reads.
func (s *Server) embedTextsCtx(ctx context.Context) func([]string) ([][]float32, error) {
	return func(texts []string) ([][]float32, error) {
		out := make([][]float32, 0, len(texts))
		for start := 0; start < len(texts); start += textChunk {
			if ctx.Err() != nil {
				s.metrics.stopped.Add(1)
				return nil, ctxErr(ctx)
			}
			embs, err := s.embedTexts(ctx, texts[start:min(start+textChunk, len(texts))])
			if err != nil {
				return nil, err
			}
			out = append(out, embs...)
		}
		return out, nil
	}
}
