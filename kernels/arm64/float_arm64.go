package arm64

import "unsafe"

// ftile is the argument block of the MatMul tile kernels in float_arm64.s
// (offsets through go_asm.h); it mirrors qtile without the scales.
type ftile struct {
	a        [4]*float32       // start of rows i0..i0+3 of a
	b        [4]unsafe.Pointer // start of the first tile's columns of b (float32 or half)
	dst      *float32          // dst[i0][j0]
	ldd      uintptr           // bytes between rows of dst
	bias     *float32          // 4 floats per tile
	biasstep uintptr           // 16, or 0 for zeros
	tiles    uintptr           // column tiles in this call, ≥ 1
	k4       uintptr           // k / 4
	krem     uintptr           // k mod 4
	badj     uintptr           // added to b pointers after a tile: (4·ldb - k)·element size
	rows     uintptr           // rows to store, 1-4
	cols     uintptr           // columns to store in each tile, 1-4
}

//go:noescape
func fgemm(t *ftile)

//go:noescape
func fgemmF16(t *ftile)

//go:noescape
func dotF32(x, y *float32, n int) float32

//go:noescape
func addF32(dst, x *float32, n int)

//go:noescape
func scaleF32(x *float32, n int, s float32)

//go:noescape
func f16ToF32(dst *float32, src *uint16, n int)

func runFTile(half bool, t *ftile) {
	if half {
		fgemmF16(t)
	} else {
		fgemm(t)
	}
}

// fmatmul drives fgemm (half false, b float32) or fgemmF16 (b half
// precision) in panels of 4 rows, like qmatmul. b points at b[0]; the
// caller has checked that b holds (n-1)·ldb+k elements, and m, n, k ≥ 1.
func fmatmul(half bool, dst []float32, ldd int, a []float32, lda int, b unsafe.Pointer, ldb int, bias []float32, m, n, k int) {
	_ = a[(m-1)*lda+k-1]
	_ = dst[(m-1)*ldd+n-1]
	if bias != nil {
		_ = bias[n-1]
	}
	esize := 4
	if half {
		esize = 2
	}
	col := func(j int) unsafe.Pointer { return unsafe.Add(b, j*ldb*esize) }

	var zeros, edgeBias [4]float32
	t := ftile{
		ldd:  uintptr(ldd) * 4,
		k4:   uintptr(k / 4),
		krem: uintptr(k % 4),
		badj: uintptr((4*ldb - k) * esize),
	}
	full, edge := n/4, n%4
	for i0 := 0; i0 < m; i0 += 4 {
		for r := range 4 {
			t.a[r] = &a[min(i0+r, m-1)*lda]
		}
		t.rows = uintptr(min(4, m-i0))
		if full > 0 {
			for c := range 4 {
				t.b[c] = col(c)
			}
			t.dst, t.tiles, t.cols = &dst[i0*ldd], uintptr(full), 4
			t.bias, t.biasstep = &zeros[0], 0
			if bias != nil {
				t.bias, t.biasstep = &bias[0], 16
			}
			runFTile(half, &t)
		}
		if edge > 0 {
			j0 := 4 * full
			for c := range 4 {
				t.b[c] = col(min(j0+c, n-1))
				edgeBias[c] = 0
				if bias != nil && j0+c < n {
					edgeBias[c] = bias[j0+c]
				}
			}
			t.dst, t.tiles, t.cols = &dst[i0*ldd+j0], 1, uintptr(edge)
			t.bias, t.biasstep = &edgeBias[0], 0
			runFTile(half, &t)
		}
	}
}
