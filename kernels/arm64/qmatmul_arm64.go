package arm64

import (
	"sync"
	"unsafe"

	"github.com/clipinfer/clipinfer/kernels/generic"
)

// qtile is the argument block of the QMatMul tile kernels in
// qmatmul_arm64.s, which read it through the offsets in go_asm.h. One call
// covers 4 columns × 4·tiles rows; rows and columns past the matrix point
// at valid data and are simply not stored.
type qtile struct {
	x      [4]*int8    // start of the first tile's rows of x
	xs     [4]*float32 // their scales
	w      [4]*int8    // start of columns j0..j0+3 of w
	ws     [4]*float32 // their scales
	dst    *float32    // dst[i0][j0]
	ldd    uintptr     // bytes between rows of dst
	bias   *float32    // the 4 columns' bias (zeros for none)
	tiles  uintptr     // row tiles in this call, ≥ 1
	nb     uintptr     // blocks per row, ≥ 1
	chunks uintptr     // 16-byte chunks per block
	rem    uintptr     // bytes per block after the chunks, 0-15
	xadj   uintptr     // added to x pointers after a tile: 4k - nb·block
	xsadj  uintptr     // added to xs pointers after a tile: 12·nb
	rows   uintptr     // rows to store in each tile, 1-4
	cols   uintptr     // columns to store, 1-4
}

// The tile kernels. t must stay valid during the call; they write only
// dst columns 0..t.cols-1 of rows 0..4·t.tiles-1, and of the last tile's
// rows only the first t.rows.
//
//go:noescape
func qgemmNEON(t *qtile)

//go:noescape
func qgemmDot(t *qtile)

//go:noescape
func qgemmMMLA(t *qtile)

// The multiply step of a tile kernel.
const (
	macNEON = iota // SMULL/SMLAL2/SADALP
	macDot         // SDOT
	macMMLA        // SMMLA
)

// runQTile calls the tile kernel directly (a call through a func value
// would make t escape to the heap).
func runQTile(mac int, t *qtile) {
	switch mac {
	case macDot:
		qgemmDot(t)
	case macMMLA:
		qgemmMMLA(t)
	default:
		qgemmNEON(t)
	}
}

// qmatmul drives a tile kernel over dst one column tile (4 weight rows) at
// a time: one call for the row panels that fill whole tiles, one for the
// remaining m mod 4 rows.
func qmatmul(mac int, dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || block <= 0 || k/block == 0 {
		generic.Kernels{}.QMatMul(dst, ldd, x, xs, w, ws, bias, m, n, k, block)
		return
	}
	nb := k / block
	// The assembly reads exactly these ranges: check them here, so that a
	// short slice panics as generic's indexing would instead of reading
	// out of bounds.
	_, _, _, _ = x[m*k-1], w[n*k-1], xs[m*nb-1], ws[n*nb-1]
	_ = dst[(m-1)*ldd+n-1]
	if bias != nil {
		_ = bias[n-1]
	}

	var colBias [4]float32
	t := qtile{
		ldd:    uintptr(ldd) * 4,
		nb:     uintptr(nb),
		chunks: uintptr(block / 16),
		rem:    uintptr(block % 16),
		xadj:   uintptr(4*k - nb*block),
		xsadj:  uintptr(12 * nb),
		bias:   &colBias[0],
	}
	full, edge := m/4, m%4
	for j0 := 0; j0 < n; j0 += 4 {
		t.cols = uintptr(min(4, n-j0))
		for c := range 4 {
			j := min(j0+c, n-1)
			t.w[c], t.ws[c] = &w[j*k], &ws[j*nb]
			colBias[c] = 0
			if bias != nil {
				colBias[c] = bias[j]
			}
		}
		if full > 0 {
			for r := range 4 {
				t.x[r], t.xs[r] = &x[r*k], &xs[r*nb]
			}
			t.dst, t.tiles, t.rows = &dst[j0], uintptr(full), 4
			runQTile(mac, &t)
		}
		if edge > 0 {
			i0 := 4 * full
			for r := range 4 {
				i := min(i0+r, m-1)
				t.x[r], t.xs[r] = &x[i*k], &xs[i*nb]
			}
			t.dst, t.tiles, t.rows = &dst[i0*ldd+j0], 1, uintptr(edge)
			runQTile(mac, &t)
		}
	}
}

// mtile is the argument block of qgemmMMLA8 (one 8-row × 4-column tile,
// one scale per row); see qmatmul_arm64.s.
type mtile struct {
	xp    *int8    // the panel: 4 row pairs, pair bytes apart
	pair  uintptr  // bytes per pair: 2k
	w     [4]*int8 // columns j0..j0+3 of w (repeated past n)
	xs    *float32 // 8 row scales (repeated past m)
	ws    *float32 // 4 column scales
	bias  *float32 // 4 biases (zeros for none)
	dst   *float32 // dst[i0][j0]
	ldd   uintptr  // bytes between rows of dst
	steps uintptr  // k/16
	rows  uintptr  // rows to store, 1-8
	cols  uintptr  // columns to store, 1-4
}

//go:noescape
func qgemmMMLA8(t *mtile)

// mmlaPanels holds the per-call activation panels of qmatmulMMLA8.
var mmlaPanels = sync.Pool{New: func() any { return new([]int8) }}

// qmatmulMMLA8 runs QMatMul with one scale per row (k a positive multiple
// of 16) on 8×4 SMMLA tiles and reports true, or reports false for other
// shapes. For each 8 rows it interleaves the activations into row pairs
// (8 bytes of one row, 8 of the next: SMMLA's operand layout) once, then
// streams every 4 weight columns past them. Rows past m repeat row m-1
// and columns past n repeat column n-1; they are computed but not stored.
func qmatmulMMLA8(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) bool {
	if m <= 0 || n <= 0 || k <= 0 || block != k || k%16 != 0 || ldd < n {
		return false
	}
	_, _, _, _ = x[m*k-1], w[n*k-1], xs[m-1], ws[n-1]
	_ = dst[(m-1)*ldd+n-1]
	if bias != nil {
		_ = bias[n-1]
	}
	bp := mmlaPanels.Get().(*[]int8)
	if len(*bp) < 8*k {
		*bp = make([]int8, 8*k)
	}
	xp := (*bp)[:8*k]
	var xs8 [8]float32
	var ws4, b4 [4]float32
	t := mtile{xp: &xp[0], pair: uintptr(2 * k), ldd: uintptr(ldd) * 4, steps: uintptr(k / 16), xs: &xs8[0], ws: &ws4[0], bias: &b4[0]}
	for i0 := 0; i0 < m; i0 += 8 {
		for r := 0; r < 8; r++ {
			i := min(i0+r, m-1)
			xs8[r] = xs[i]
			row := x[i*k : i*k+k]
			out := xp[(r/2)*2*k+(r%2)*8:]
			for c := 0; c < k; c += 8 {
				_, _ = out[2*c+7], row[c+7] // the 8-byte moves stay inside both
				*(*uint64)(unsafe.Pointer(&out[2*c])) = *(*uint64)(unsafe.Pointer(&row[c]))
			}
		}
		t.rows = uintptr(min(8, m-i0))
		for j0 := 0; j0 < n; j0 += 4 {
			for c := 0; c < 4; c++ {
				j := min(j0+c, n-1)
				t.w[c], ws4[c] = &w[j*k], ws[j]
				b4[c] = 0
				if bias != nil {
					b4[c] = bias[j]
				}
			}
			t.dst, t.cols = &dst[i0*ldd+j0], uintptr(min(4, n-j0))
			qgemmMMLA8(&t)
		}
	}
	mmlaPanels.Put(bp)
	return true
}
