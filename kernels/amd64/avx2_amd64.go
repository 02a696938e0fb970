package amd64

import (
	"github.com/clipinfer/clipinfer/kernels/generic"
)

// AVX2 is the AVX2+FMA+F16C implementation. Methods it does not override
// are the generic ones. Use it only when the CPU has those features
// (kernels.Get("avx2") checks).
type AVX2 struct {
	generic.Kernels
}

// Name returns "avx2".
func (AVX2) Name() string { return "avx2" }

// QMatMul implements kernels.Kernels.QMatMul with 2×4 register tiles; the
// result is bit-identical to generic for every block size. x and w must hold
// values in [-127, 127] (what Quantize produces): -128 is outside the range
// the VPSIGNB/VPMADDUBSW step handles. Shapes below the vector width (k or
// block < 32, n < 4) and blocks that do not divide k run the generic code.
func (a AVX2) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if m <= 0 || n < 4 || k < 32 || block < 32 || k%block != 0 || ldd < n {
		a.Kernels.QMatMul(dst, ldd, x, xs, w, ws, bias, m, n, k, block)
		return
	}
	nb := k / block
	// Bounds checks: the assembly reads exactly these ranges.
	_, _ = x[m*k-1], w[n*k-1]
	_, _ = xs[m*nb-1], ws[n*nb-1]
	_ = dst[(m-1)*ldd+n-1]
	var bp *float32
	if bias != nil {
		_ = bias[n-1]
		bp = &bias[0]
	}
	if m == 1 {
		a.Kernels.QMatMul(dst, ldd, x, xs, w, ws, bias, m, n, k, block)
		return
	}
	qmm(&dst[0], ldd, &x[0], &xs[0], &w[0], &ws[0], bp, m, n, k, block, nb)
}

// qmm is the 2×4 kernel QMatMul uses (candidate a; see docs/KERNELS.md).
var qmm = qmm2x4a
