package amd64

import (
	"sync"
	"unsafe"
)

// qmm1x12 runs one k-chunk of m activation rows against one 12-column
// weight panel; see qmm12_amd64.s for the algorithm and the flags.
//
//go:noescape
func qmm1x12(dst *float32, ldd int, x *int8, ldx int, xs *float32, wp *int16, ws *float32, bias *float32, part *int32, m, kc, flags int, w *int8, ldw int, pf *int8, pfkc, pfrow, pftotal int)

const (
	qmmFirst = 1 << iota // the chunk starts the sums
	qmmLast              // the chunk ends them: run the epilogue
	qmmWiden             // the first row builds the panel from w
)

const (
	// qmm12Chunk is the longest k-chunk: the int16 panel of one chunk
	// (12·chunk·2 bytes) stays in the 32 KiB L1 data cache.
	qmm12Chunk = 768
	// qmm12BlockBytes bounds the activation bytes (rows × k) one pass over
	// the panels reads, so that they stay in L2 between panels.
	qmm12BlockBytes = 256 << 10
)

// qmmScratch is the per-call working memory of the widening kernels: an
// int16 panel and the int32 accumulators of its rows.
type qmmScratch struct {
	wp   []int16
	part []int32
}

var qmmPool = sync.Pool{New: func() any { return new(qmmScratch) }}

// panel returns a 32-byte aligned pointer to n int16 of s.wp, growing it if
// needed (aligned loads and stores never cross a cache line).
func (s *qmmScratch) panel(n int) *int16 {
	if len(s.wp) < n+16 {
		s.wp = make([]int16, n+16)
	}
	off := (32 - int(uintptr(unsafe.Pointer(&s.wp[0]))&31)) & 31 / 2
	return &s.wp[off]
}

// accumulators returns s.part with at least n elements.
func (s *qmmScratch) accumulators(n int) *int32 {
	if len(s.part) < n {
		s.part = make([]int32, n)
	}
	return &s.part[0]
}

// qmm12Chunks returns the chunk length for k: k itself when it fits,
// otherwise equal chunks (multiples of 16) of at most qmm12Chunk.
func qmm12Chunks(k int) int {
	if k <= qmm12Chunk {
		return k
	}
	nc := (k + qmm12Chunk - 1) / qmm12Chunk
	return ((k+nc-1)/nc + 15) &^ 15
}

// qmm12 computes QMatMul for block == k with the weight-panel kernel. The
// caller guarantees m ≥ 1, n ≥ 12, k a positive multiple of 16, ldd ≥ n and
// slices long enough for the shape (already checked). Rows are taken in
// blocks of at most qmm12BlockBytes of x; within a block, each 12-column
// panel and k-chunk is one qmm1x12 call. The last panel moves back to n-12
// when 12 does not divide n; it recomputes a few outputs with the same
// operations, so the same bits.
func qmm12(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k int) {
	kc := qmm12Chunks(k)
	s := qmmPool.Get().(*qmmScratch)
	wp := s.panel(12 * kc)
	rows := max(1, qmm12BlockBytes/k)
	nblocks := (m + rows - 1) / rows
	rows = (m + nblocks - 1) / nblocks
	pp := s.accumulators(96 * rows)
	for i0 := 0; i0 < m; i0 += rows {
		mb := min(rows, m-i0)
		for j0 := 0; j0 < n; j0 += 12 {
			j := min(j0, n-12)
			var bp *float32
			if bias != nil {
				bp = &bias[j]
			}
			for c0 := 0; c0 < k; c0 += kc {
				c := min(kc, k-c0)
				flags := qmmWiden
				if c0 == 0 {
					flags |= qmmFirst
				}
				if c0+c == k {
					flags |= qmmLast
				}
				// The next chunk, whose weights are prefetched meanwhile.
				nj, nc0 := j, c0+kc
				if nc0 >= k {
					nj, nc0 = min(j0+12, n-12), 0
				}
				var pf *int8
				pfkc, pfrow, pftotal := min(kc, k-nc0), 0, 0
				if j0+12 < n || nc0 > 0 {
					pf = &w[nj*k+nc0]
					pftotal = 12 * ((pfkc + 63) / 64)
					pfrow = (pftotal + mb - 1) / mb
				}
				qmm1x12(&dst[i0*ldd+j], ldd, &x[i0*k+c0], k, &xs[i0], wp, &ws[j], bp, pp, mb, c, flags, &w[j*k+c0], k, pf, pfkc, pfrow, pftotal)
			}
		}
	}
	qmmPool.Put(s)
}
