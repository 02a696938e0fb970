package amd64

import (
	"sync"
	"unsafe"

	"github.com/clipinfer/clipinfer/kernels/generic"
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

// vnniPack fills rows of an activation panel; see vnni_amd64.s.
//
//go:noescape
func vnniPack(xp *int8, corrx *int32, xsx *float32, x *int8, xs *float32, ldx, h, rows, k, stride int)

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

// QPackSize implements kernels.QPacker: the bytes of the packed
// activations for the shapes the VPDPBUSD kernel takes, 0 for the others.
func (AVX512VNNI) QPackSize(m, k, block int) int { return vnni512.packSize(m, k, block) }

// QPack implements kernels.QPacker.
func (AVX512VNNI) QPack(p []byte, x []int8, xs []float32, m, k, block, lo, hi int) {
	vnni512.pack(p, x, xs, m, k, block, lo, hi)
}

// QMatMulPacked implements kernels.QPacker, bit-identical to generic's
// QMatMul on the activations QPack packed.
func (AVX512VNNI) QMatMulPacked(dst []float32, ldd int, p []byte, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	vnni512.matmulPacked(dst, ldd, p, w, ws, bias, m, n, k, block)
}

// QPackSize implements kernels.QPacker: the bytes of the packed
// activations for the shapes the VPDPBUSD kernel takes, 0 for the others.
func (AVXVNNI) QPackSize(m, k, block int) int { return vnni256.packSize(m, k, block) }

// QPack implements kernels.QPacker.
func (AVXVNNI) QPack(p []byte, x []int8, xs []float32, m, k, block, lo, hi int) {
	vnni256.pack(p, x, xs, m, k, block, lo, hi)
}

// QMatMulPacked implements kernels.QPacker, bit-identical to generic's
// QMatMul on the activations QPack packed.
func (AVXVNNI) QMatMulPacked(dst []float32, ldd int, p []byte, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	vnni256.matmulPacked(dst, ldd, p, w, ws, bias, m, n, k, block)
}

// Packed activations. The rows are cut into panels of at most
// vnniMaxGroups row groups, of nearly equal size (the panels of m rows are
// a function of m alone, so QPack and QMatMulPacked agree on them without
// storing them); the last panel's rows past m are zero and never stored.
// The buffer holds, from its first 64-byte aligned byte on, every panel
// one after another (panel rows × k bytes each; rows in the panel layout
// of vnni_amd64.s), then per row four copies of the correction 128·Σx
// (int32) and four of the scale xs (float32).

// vnniTakes reports whether the VPDPBUSD kernel computes this product shape:
// one scale per row, k a multiple of 16.
func vnniTakes(k, block int) bool { return k > 0 && block == k && k%16 == 0 }

// packRows is the number of rows the panels of m rows hold (m rounded up
// to a whole row group).
func (v *vnniVariant) packRows(m int) int { return (m + v.rows - 1) / v.rows * v.rows }

// packSize returns the bytes of the packed activations of m×k, or 0 for
// shapes the kernel does not take.
func (v *vnniVariant) packSize(m, k, block int) int {
	if m <= 0 || !vnniTakes(k, block) {
		return 0
	}
	r := v.packRows(m)
	return 63 + r*k + 2*4*4*r
}

// layout returns the panels, corrections and scales inside p (which holds
// packSize(m, k, k) bytes).
func (v *vnniVariant) layout(p []byte, m, k int) (xp []int8, corrx []int32, xsx []float32) {
	r := v.packRows(m)
	off := (64 - int(uintptr(unsafe.Pointer(&p[0]))&63)) & 63
	if len(p) < off+r*k+2*4*4*r {
		panic("kernels: packed activations shorter than QPackSize")
	}
	xp = unsafe.Slice((*int8)(unsafe.Pointer(&p[off])), r*k)
	corrx = unsafe.Slice((*int32)(unsafe.Pointer(&p[off+r*k])), 4*r)
	xsx = unsafe.Slice((*float32)(unsafe.Pointer(&p[off+r*k+4*4*r])), 4*r)
	return xp, corrx, xsx
}

// eachPanel calls f for each panel of m rows, in order, with its first
// row (also its first row in the buffer), its valid rows and its row
// groups; the panels' sizes differ by at most one row group.
func (v *vnniVariant) eachPanel(m int, f func(i0, h, t int)) {
	groups := v.packRows(m) / v.rows
	panels := (groups + vnniMaxGroups - 1) / vnniMaxGroups
	for pi, g0 := 0, 0; pi < panels; pi++ {
		t := (groups - g0) / (panels - pi)
		i0 := g0 * v.rows
		f(i0, min(m-i0, t*v.rows), t)
		g0 += t
	}
}

// pack packs rows [lo, hi) of x into p; the range that ends at m also
// zeroes the last panel's padding rows.
func (v *vnniVariant) pack(p []byte, x []int8, xs []float32, m, k, block, lo, hi int) {
	lo, hi = max(lo, 0), min(hi, m)
	if lo >= hi {
		return
	}
	if v.packSize(m, k, block) == 0 {
		panic("kernels: QPack on a shape QPackSize does not take")
	}
	if len(x) < m*k || len(xs) < m {
		panic("kernels: QPack activations shorter than m rows")
	}
	xp, corrx, xsx := v.layout(p, m, k)
	v.eachPanel(m, func(i0, h, t int) {
		stride := t * v.rows
		a, b := max(lo, i0), min(hi, i0+h)
		if a >= b {
			return
		}
		rows := b - a
		if b == m {
			rows = i0 + stride - a // and the padding
		}
		vnniPack(&xp[i0*k+(a-i0)*16], &corrx[4*a], &xsx[4*a], &x[a*k], &xs[a], k, b-a, rows, k, stride)
	})
}

// matmulPacked runs the kernels over the packed activations in p. The
// columns are taken in blocks whose weights (vnniWeightBlock bytes) stay
// in L2 while every panel streams past them, so a caller hands over whole
// column ranges (kernels.QPacker). When cols does not divide n the last
// block moves back to n-cols (same operations, so the same bits).
func (v *vnniVariant) matmulPacked(dst []float32, ldd int, p []byte, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if m <= 0 || n <= 0 {
		return
	}
	if ldd < n || v.packSize(m, k, block) == 0 {
		panic("kernels: QMatMulPacked on a shape QPackSize does not take")
	}
	// Bounds checks: the assembly reads and writes exactly these ranges,
	// and the slices' lengths say whether they are there.
	if len(w) < n*k || len(ws) < n || len(dst) < (m-1)*ldd+n || (bias != nil && len(bias) < n) {
		panic("kernels: QMatMulPacked operands shorter than the shape")
	}
	xp, corrx, xsx := v.layout(p, m, k)
	if n < v.cols {
		v.narrow(dst, ldd, xp, xsx, w, ws, bias, m, n, k)
		return
	}
	run := func(j, nc int) {
		var bj *float32
		if bias != nil {
			bj = &bias[j]
		}
		v.eachPanel(m, func(i0, h, t int) {
			v.kernels[t](&dst[i0*ldd+j], ldd, &xp[i0*k], k, &w[j*k], nc, &xsx[4*i0], &corrx[4*i0], &ws[j], bj, h)
		})
	}
	nfull := n / v.cols * v.cols
	step := max(v.cols, vnniWeightBlock/k/v.cols*v.cols)
	for j := 0; j < nfull; j += step {
		run(j, min(step, nfull-j))
	}
	if nfull < n {
		run(n-v.cols, v.cols)
	}
}

// narrow computes a product of fewer columns than one column block in
// plain Go from the packed activations, in generic's operations and order
// (the int32 sum of x·w, float32(sum)·(xs·ws), 0 + t, + bias).
func (v *vnniVariant) narrow(dst []float32, ldd int, xp []int8, xsx []float32, w []int8, ws []float32, bias []float32, m, n, k int) {
	v.eachPanel(m, func(i0, h, t int) {
		stride := t * v.rows
		for i := i0; i < i0+h; i++ {
			for j := 0; j < n; j++ {
				// Row i's 16-byte steps lie stride·16 bytes apart.
				var sum int32
				for s := 0; s < k/16; s++ {
					o := i0*k + s*stride*16 + (i-i0)*16
					sum += generic.DotI8(xp[o:o+16], w[j*k+s*16:])
				}
				var acc float32
				acc += float32(float32(sum) * (xsx[4*i] * ws[j]))
				if bias != nil {
					acc += bias[j]
				}
				dst[i*ldd+j] = acc
			}
		}
	})
}

// vnniPool holds the packing buffers of QMatMul calls.
var vnniPool = sync.Pool{New: func() any { return new([]byte) }}

// qmatmul runs QMatMul on the variant's kernels and reports true, or
// reports false (doing nothing) for shapes it does not take: blocked
// scales, k not a multiple of 16, n below one column block. It packs the
// activations once per call (QPack into a pooled buffer) and runs
// matmulPacked.
func (v *vnniVariant) qmatmul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) bool {
	size := v.packSize(m, k, block)
	if size == 0 || n < v.cols || ldd < n {
		return false
	}
	bp := vnniPool.Get().(*[]byte)
	if len(*bp) < size {
		*bp = make([]byte, size)
	}
	p := (*bp)[:size]
	v.pack(p, x, xs, m, k, block, 0, m)
	v.matmulPacked(dst, ldd, p, w, ws, bias, m, n, k, block)
	vnniPool.Put(bp)
	return true
}

// vnniWeightBlock bounds the weights one column block keeps in L2 while
// every row panel passes (about a quarter of a 1 MiB L2, leaving room for
// the packed activations).
const vnniWeightBlock = 256 << 10
