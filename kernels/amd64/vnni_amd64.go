package amd64

import (
	"sync"
	"unsafe"
)

//go:generate go run gen_vnni.go

// AVX512VNNI is the AVX-512 VNNI implementation: QMatMul with one scale per
// row runs on EVEX VPDPBUSD over 512-bit registers (4 rows × 8 columns per
// accumulator block, vnni_amd64.s); everything else is AVX2's. Use it only
// when the CPU has AVX-512F/BW/VL and AVX-512 VNNI and the OS saves the
// ZMM and opmask state (kernels.Get("avx512vnni") checks).
type AVX512VNNI struct{ AVX2 }

// Name returns "avx512vnni".
func (AVX512VNNI) Name() string { return "avx512vnni" }

// Grain returns 8, the column group of the 512-bit kernel.
func (AVX512VNNI) Grain() int { return vnni512.cols }

// QMatMul implements kernels.Kernels.QMatMul, bit-identical to generic:
// per-row scales with k a multiple of 16 and n ≥ 8 run the VPDPBUSD
// kernel, other shapes AVX2's kernels.
func (a AVX512VNNI) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if !vnni512.qmatmul(dst, ldd, x, xs, w, ws, bias, m, n, k, block) {
		a.AVX2.QMatMul(dst, ldd, x, xs, w, ws, bias, m, n, k, block)
	}
}

// AVXVNNI is the AVX-VNNI implementation (CPUs with VEX VPDPBUSD but no
// AVX-512, such as Alder Lake and later clients): QMatMul with one scale
// per row runs on VPDPBUSD over 256-bit registers (2 rows × 4 columns per
// accumulator block); everything else is AVX2's.
type AVXVNNI struct{ AVX2 }

// Name returns "avxvnni".
func (AVXVNNI) Name() string { return "avxvnni" }

// Grain returns 4, the column group of the 256-bit kernel.
func (AVXVNNI) Grain() int { return vnni256.cols }

// QMatMul implements kernels.Kernels.QMatMul, bit-identical to generic:
// per-row scales with k a multiple of 16 and n ≥ 4 run the VPDPBUSD
// kernel, other shapes AVX2's kernels.
func (a AVXVNNI) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if !vnni256.qmatmul(dst, ldd, x, xs, w, ws, bias, m, n, k, block) {
		a.AVX2.QMatMul(dst, ldd, x, xs, w, ws, bias, m, n, k, block)
	}
}

// vnniPack builds the activation panel of a kernel call; see vnni_amd64.s.
//
//go:noescape
func vnniPack(xp *int8, corrx *int32, xsx *float32, x *int8, xs *float32, ldx, h, rows, k int)

// vnniKernel is the signature of the generated kernels: nc columns (a
// multiple of the variant's cols) of w against a panel of h valid rows.
type vnniKernel func(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)

//go:noescape
func vnni512_1(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)

//go:noescape
func vnni512_2(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)

//go:noescape
func vnni512_3(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)

//go:noescape
func vnni256_1(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)

//go:noescape
func vnni256_2(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)

//go:noescape
func vnni256_3(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)

// vnniVariant is one register width of the VPDPBUSD kernels.
type vnniVariant struct {
	rows    int           // rows per register (row group)
	cols    int           // columns per accumulator block
	kernels [4]vnniKernel // by number of row groups, 1..3
}

var (
	vnni512 = vnniVariant{rows: 4, cols: 8, kernels: [4]vnniKernel{nil, vnni512_1, vnni512_2, vnni512_3}}
	vnni256 = vnniVariant{rows: 2, cols: 4, kernels: [4]vnniKernel{nil, vnni256_1, vnni256_2, vnni256_3}}
)

// vnniMaxGroups is the most row groups one kernel call holds in registers.
const vnniMaxGroups = 3

// vnniScratch is the per-call activation panel and its per-row corrections
// and scales (four copies each, one per column of a 128-bit lane).
type vnniScratch struct {
	panel []int8
	corrx []int32
	xsx   []float32
}

var vnniPool = sync.Pool{New: func() any { return new(vnniScratch) }}

// qmatmul runs QMatMul on the variant's kernels and reports true, or
// reports false (doing nothing) for shapes it does not take: blocked
// scales, k not a multiple of 16, n below one column block.
//
// Rows are cut into panels of at most vnniMaxGroups row groups, of nearly
// equal size; the last panel's rows past m are zero in the panel and never
// stored. For each panel every column block of w streams past; when cols
// does not divide n the last block moves back to n-cols (same operations,
// so the same bits).
func (v *vnniVariant) qmatmul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) bool {
	if m <= 0 || k <= 0 || block != k || k%16 != 0 || n < v.cols || ldd < n {
		return false
	}
	// Bounds checks: the assembly reads and writes exactly these ranges.
	_, _ = x[m*k-1], w[n*k-1]
	_, _ = xs[m-1], ws[n-1]
	_ = dst[(m-1)*ldd+n-1]
	var bp *float32
	if bias != nil {
		_ = bias[n-1]
		bp = &bias[0]
	}
	groups := (m + v.rows - 1) / v.rows
	panels := (groups + vnniMaxGroups - 1) / vnniMaxGroups
	s := vnniPool.Get().(*vnniScratch)
	prows := min(groups, vnniMaxGroups) * v.rows
	xp := s.buffers(prows, k)
	nfull := n / v.cols * v.cols
	g0 := 0
	for p := 0; p < panels; p++ {
		t := (groups - g0) / (panels - p) // sizes differ by at most one
		i0 := g0 * v.rows
		h := min(m-i0, t*v.rows)
		vnniPack(xp, &s.corrx[0], &s.xsx[0], &x[i0*k], &xs[i0], k, h, t*v.rows, k)
		f := v.kernels[t]
		f(&dst[i0*ldd], ldd, xp, k, &w[0], nfull, &s.xsx[0], &s.corrx[0], &ws[0], bp, h)
		if j := n - v.cols; nfull < n {
			var bj *float32
			if bp != nil {
				bj = &bias[j]
			}
			f(&dst[i0*ldd+j], ldd, xp, k, &w[j*k], v.cols, &s.xsx[0], &s.corrx[0], &ws[j], bj, h)
		}
		g0 += t
	}
	vnniPool.Put(s)
	return true
}

// buffers sizes the scratch for a panel of rows rows of k values and
// returns the panel's first byte, 64-byte aligned so that no panel load
// crosses a cache line.
func (s *vnniScratch) buffers(rows, k int) *int8 {
	if len(s.panel) < rows*k+64 {
		s.panel = make([]int8, rows*k+64)
	}
	if len(s.corrx) < 4*rows {
		s.corrx = make([]int32, 4*rows)
		s.xsx = make([]float32, 4*rows)
	}
	off := (64 - int(uintptr(unsafe.Pointer(&s.panel[0]))&63)) & 63
	return &s.panel[off]
}
