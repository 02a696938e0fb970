package amd64

import (
	"sync"
	"unsafe"
)

//go:generate go run gen_vnni.go

// AVX512VNNI is the AVX-512 VNNI implementation: QMatMul with one scale per
// row runs on EVEX VPDPBUSD over 512-bit registers (4 rows × 8 columns per
// accumulator block, vnni_amd64.s); MatMul, Softmax, QuickGELU, LayerNorm
// and Quantize run on 512-bit registers too (avx512_amd64.go); everything
// else is AVX2's. Use it only
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

// vnniScratch is the per-call activation panels and their per-row
// corrections and scales (four copies each, one per column of a 128-bit
// lane), all panels of a call one after another.
type vnniScratch struct {
	panel  []int8
	corrx  []int32
	xsx    []float32
	panels []vnniPanel
}

// vnniPanel is one panel of a call: its first row (also its first row in
// the scratch), valid rows and row groups.
type vnniPanel struct{ i0, h, t int }

var vnniPool = sync.Pool{New: func() any { return new(vnniScratch) }}

// qmatmul runs QMatMul on the variant's kernels and reports true, or
// reports false (doing nothing) for shapes it does not take: blocked
// scales, k not a multiple of 16, n below one column block.
//
// Rows are cut into panels of at most vnniMaxGroups row groups, of nearly
// equal size; the last panel's rows past m are zero in the panel and never
// stored. Every panel is packed once per call. The columns are then taken
// in blocks whose weights (vnniWeightBlock bytes) stay in L2 while every
// panel streams past them, so a caller hands over whole column ranges
// (BlocksWeights) and the activations are packed once, not once per
// cache-sized slice of the weights. When cols does not divide n the last
// block moves back to n-cols (same operations, so the same bits).
func (v *vnniVariant) qmatmul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) bool {
	if m <= 0 || k <= 0 || block != k || k%16 != 0 || n < v.cols || ldd < n {
		return false
	}
	// Bounds checks: the assembly reads and writes exactly these ranges.
	_, _ = x[m*k-1], w[n*k-1]
	_, _ = xs[m-1], ws[n-1]
	_ = dst[(m-1)*ldd+n-1]
	groups := (m + v.rows - 1) / v.rows
	panels := (groups + vnniMaxGroups - 1) / vnniMaxGroups
	s := vnniPool.Get().(*vnniScratch)
	xp := s.buffers(groups*v.rows, k)
	ps := s.panels[:0]
	g0 := 0
	for p := 0; p < panels; p++ {
		t := (groups - g0) / (panels - p) // sizes differ by at most one
		i0 := g0 * v.rows
		pn := vnniPanel{i0: i0, h: min(m-i0, t*v.rows), t: t}
		vnniPack(&xp[i0*k], &s.corrx[4*i0], &s.xsx[4*i0], &x[i0*k], &xs[i0], k, pn.h, t*v.rows, k)
		ps = append(ps, pn)
		g0 += t
	}
	s.panels = ps
	run := func(j, nc int) {
		var bj *float32
		if bias != nil {
			bj = &bias[j]
		}
		for _, pn := range ps {
			v.kernels[pn.t](&dst[pn.i0*ldd+j], ldd, &xp[pn.i0*k], k, &w[j*k], nc, &s.xsx[4*pn.i0], &s.corrx[4*pn.i0], &ws[j], bj, pn.h)
		}
	}
	nfull := n / v.cols * v.cols
	step := max(v.cols, vnniWeightBlock/k/v.cols*v.cols)
	for j := 0; j < nfull; j += step {
		run(j, min(step, nfull-j))
	}
	if nfull < n {
		run(n-v.cols, v.cols)
	}
	vnniPool.Put(s)
	return true
}

// vnniWeightBlock bounds the weights one column block keeps in L2 while
// every row panel passes (about a quarter of a 1 MiB L2, leaving room for
// the packed activations).
const vnniWeightBlock = 256 << 10

// buffers sizes the scratch for panels of rows rows of k values in all
// and returns their bytes, 64-byte aligned so that no panel load crosses a
// cache line.
func (s *vnniScratch) buffers(rows, k int) []int8 {
	if len(s.panel) < rows*k+64 {
		s.panel = make([]int8, rows*k+64)
	}
	if len(s.corrx) < 4*rows {
		s.corrx = make([]int32, 4*rows)
		s.xsx = make([]float32, 4*rows)
	}
	off := (64 - int(uintptr(unsafe.Pointer(&s.panel[0]))&63)) & 63
	return s.panel[off : off+rows*k]
}

// BlocksWeights reports whether QMatMul runs the VPDPBUSD kernel, which
// blocks the weights for L2 itself (kernels.WeightBlocker).
func (AVX512VNNI) BlocksWeights(k, block int) bool { return block == k && k%16 == 0 }

// BlocksWeights reports whether QMatMul runs the VPDPBUSD kernel, which
// blocks the weights for L2 itself (kernels.WeightBlocker).
func (AVXVNNI) BlocksWeights(k, block int) bool { return block == k && k%16 == 0 }
