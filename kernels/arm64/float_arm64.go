package arm64

import "unsafe"

// ftile is the argument block of the MatMul tile kernels in float_arm64.s
// (offsets through go_asm.h); it mirrors qtile without the scales.
type ftile struct {
	a     [4]*float32       // start of the first tile's rows of a
	b     [4]unsafe.Pointer // start of columns j0..j0+3 of b (float32 or half)
	dst   *float32          // dst[i0][j0]
	ldd   uintptr           // bytes between rows of dst
	bias  *float32          // the 4 columns' bias (zeros for none)
	tiles uintptr           // row tiles in this call, ≥ 1
	k4    uintptr           // k / 4
	krem  uintptr           // k mod 4
	aadj  uintptr           // added to a pointers after a tile: (4·lda - k)·4
	rows  uintptr           // rows to store in each tile, 1-4
	cols  uintptr           // columns to store, 1-4
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
// precision) one column tile at a time, like qmatmul. b points at b[0];
// the caller has checked that b holds (n-1)·ldb+k elements, and m, n, k ≥ 1.
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

	var colBias [4]float32
	t := ftile{
		ldd:  uintptr(ldd) * 4,
		k4:   uintptr(k / 4),
		krem: uintptr(k % 4),
		aadj: uintptr((4*lda - k) * 4),
		bias: &colBias[0],
	}
	full, edge := m/4, m%4
	for j0 := 0; j0 < n; j0 += 4 {
		t.cols = uintptr(min(4, n-j0))
		for c := range 4 {
			j := min(j0+c, n-1)
			t.b[c] = unsafe.Add(b, j*ldb*esize)
			colBias[c] = 0
			if bias != nil {
				colBias[c] = bias[j]
			}
		}
		if full > 0 {
			for r := range 4 {
				t.a[r] = &a[r*lda]
			}
			t.dst, t.tiles, t.rows = &dst[j0], uintptr(full), 4
			runFTile(half, &t)
		}
		if edge > 0 {
			i0 := 4 * full
			for r := range 4 {
				t.a[r] = &a[min(i0+r, m-1)*lda]
			}
			t.dst, t.tiles, t.rows = &dst[i0*ldd+j0], 1, uintptr(edge)
			runFTile(half, &t)
		}
	}
}
