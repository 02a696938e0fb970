package amd64

import (
	"sync"
	"unsafe"
)

// widen12 sign-extends 12 weight rows (ldw bytes apart) over kc values of k
// into the panel layout qmm1x12 reads; see qmm12_amd64.s.
//
//go:noescape
func widen12(wp *int16, w *int8, ldw, kc int)

// qmm1x12 runs one k-chunk of m activation rows against one 12-column
// panel; see qmm12_amd64.s for the algorithm and the flags.
//
//go:noescape
func qmm1x12(dst *float32, ldd int, x *int8, ldx int, xs *float32, wp *int16, ws *float32, bias *float32, part *int32, m, kc, flags int, w *int8, ldw int, pf *int8, pfkc, pfrow, pftotal int)

const (
	qmmFirst = 1 << iota // the chunk starts the sums
	qmmLast              // the chunk ends them: run the epilogue
	qmmWiden             // the first row builds the panel from w
)

// Tuning of the widening kernel (see docs/KERNELS.md for the measurements).
var (
	// qmm12MinRows is the smallest m that pays for widening the weights
	// once per call; smaller m runs qmm2x4.
	qmm12MinRows = 4
	// qmm12Chunk is the longest k-chunk: the int16 panel of one chunk
	// (12·chunk·2 bytes) stays in the 32 KiB L1 data cache.
	qmm12Chunk = 768

	qmm12FusedWiden = true
)

// qmmScratch is the per-call working memory of qmm12: the widened weight
// panel and, when k is cut into chunks, the int32 accumulators of every row.
type qmmScratch struct {
	wp   []int16
	part []int32
}

var qmmPool = sync.Pool{New: func() any { return new(qmmScratch) }}

// panel returns a 32-byte aligned pointer to n int16 of s.wp, growing it if
// needed (aligned stores and loads never cross a cache line).
func (s *qmmScratch) panel(n int) *int16 {
	if len(s.wp) < n+16 {
		s.wp = make([]int16, n+16)
	}
	off := (32 - int(uintptr(unsafe.Pointer(&s.wp[0]))&31)) & 31 / 2
	return &s.wp[off]
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

// qmm12 computes QMatMul for block == k with the widening kernel. The
// caller guarantees m ≥ 1, n ≥ 12, k a positive multiple of 16, ldd ≥ n and
// slices long enough for the shape (already checked). The last 12-column
// panel moves back to n-12 when 12 does not divide n; it recomputes a few
// outputs with the same operations, so the same bits.
func qmm12(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k int) {
	kc := qmm12Chunks(k)
	s := qmmPool.Get().(*qmmScratch)
	wp := s.panel(12 * kc)
	if len(s.part) < 96*m {
		s.part = make([]int32, 96*m)
	}
	pp := &s.part[0]
	for j0 := 0; j0 < n; j0 += 12 {
		j := min(j0, n-12)
		var bp *float32
		if bias != nil {
			bp = &bias[j]
		}
		for c0 := 0; c0 < k; c0 += kc {
			c := min(kc, k-c0)
			flags := 0
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
				pfrow = (pftotal + m - 1) / m
			}
			if qmm12FusedWiden {
				flags |= qmmWiden
			} else {
				widen12(wp, &w[j*k+c0], k, c)
			}
			qmm1x12(&dst[j], ldd, &x[c0], k, &xs[0], wp, &ws[j], bp, pp, m, c, flags, &w[j*k+c0], k, pf, pfkc, pfrow, pftotal)
		}
	}
	qmmPool.Put(s)
}
