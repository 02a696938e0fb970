package amd64

import (
	"math"

	"github.com/clipinfer/clipinfer/kernels/generic"
	"github.com/clipinfer/clipinfer/quant"
)

// AVX2 is the AVX2+FMA+F16C implementation. Methods it does not override
// are the generic ones. Use it only when the CPU has those features
// (kernels.Get("avx2") checks).
type AVX2 struct {
	generic.Kernels
}

// Name returns "avx2".
func (AVX2) Name() string { return "avx2" }

// Grain returns 12, the column group of the widening QMatMul kernels.
func (AVX2) Grain() int { return 12 }

// QMatMul implements kernels.Kernels.QMatMul; the result is bit-identical
// to generic for every block size. x and w must hold values in [-127, 127]
// (what Quantize produces): -128 is outside the range of the sign-trick
// kernel. Three assembly kernels share the work (docs/KERNELS.md has the
// measurements behind the choice):
//
//   - per-row scales (block == k), k a multiple of 16, n ≥ 12: the int16
//     widening kernels — qmmXS (activation panel, weights streamed) when
//     k ≤ 1024 or m ≤ 3, else qmm12 (weight panel, activations streamed);
//     m == 2 runs qmm2x4, which is faster there;
//   - everything else with k, block ≥ 32, n ≥ 4 and block dividing k: the
//     2×4 sign-trick kernel qmm2x4;
//   - smaller shapes: generic.
func (a AVX2) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if m <= 0 || n <= 0 || k <= 0 || block <= 0 || k%block != 0 || ldd < n {
		a.Kernels.QMatMul(dst, ldd, x, xs, w, ws, bias, m, n, k, block)
		return
	}
	nb := k / block
	// Bounds checks: the assembly reads and writes exactly these ranges.
	_, _ = x[m*k-1], w[n*k-1]
	_, _ = xs[m*nb-1], ws[n*nb-1]
	_ = dst[(m-1)*ldd+n-1]
	if bias != nil {
		_ = bias[n-1]
	}
	if nb == 1 && k%16 == 0 && n >= 12 && m != 2 {
		if k <= 1024 || m <= 3 {
			qmmXS(dst, ldd, x, xs, w, ws, bias, m, n, k)
		} else {
			qmm12(dst, ldd, x, xs, w, ws, bias, m, n, k)
		}
		return
	}
	if n < 4 || k < 32 || block < 32 {
		a.Kernels.QMatMul(dst, ldd, x, xs, w, ws, bias, m, n, k, block)
		return
	}
	bp := biasPtr(bias, n)
	if m == 1 {
		// One row: run the 2-row tile with both rows reading row 0 and
		// writing dst row 0 (same operations, so the same bits).
		qmm2x4(&dst[0], 0, &x[0], 0, &xs[0], 0, &w[0], &ws[0], bp, 2, n, k, block, nb)
		return
	}
	qmm2x4(&dst[0], ldd, &x[0], k, &xs[0], nb, &w[0], &ws[0], bp, m, n, k, block, nb)
}

// Quantize implements kernels.Kernels.Quantize, bit-identical to generic:
// the block maximum and the scaling run in assembly; a block whose maximum
// is zero, NaN, infinite, or so small that 127/amax overflows takes the
// generic path, as do the last len%8 elements of a block.
func (a AVX2) Quantize(dst []int8, scales []float32, x []float32, block int) {
	if block <= 0 {
		a.Kernels.Quantize(dst, scales, x, block)
		return
	}
	for b := 0; b*block < len(x); b++ {
		xb := x[b*block : (b+1)*block]
		qb := dst[b*block : (b+1)*block]
		n8 := block &^ 7
		bits := uint32(0)
		if n8 > 0 {
			bits = absMaxBits(&xb[0], n8)
		}
		for _, v := range xb[n8:] {
			bits = max(bits, math.Float32bits(v)&^(1<<31))
		}
		amax := math.Float32frombits(bits)
		inv := 127 / amax
		if bits == 0 || bits >= 0x7f800000 || math.IsInf(float64(inv), 0) {
			a.Kernels.Quantize(qb, scales[b:b+1], xb, block)
			continue
		}
		scales[b] = amax / 127
		if n8 > 0 {
			quantize8(&qb[0], &xb[0], n8, inv)
		}
		for i := n8; i < block; i++ {
			qb[i] = int8(max(-127, min(127, math.RoundToEven(float64(xb[i]*inv)))))
		}
	}
}

// Dot implements kernels.Kernels.Dot (eight-lane FMA accumulation).
func (AVX2) Dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	b = b[:len(a)]
	n8 := len(a) &^ 7
	var s float32
	if n8 > 0 {
		s = dotF32(&a[0], &b[0], n8)
	}
	for i := n8; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

// Add implements kernels.Kernels.Add; bit-identical to generic.
func (AVX2) Add(dst, x []float32) {
	x = x[:len(dst)]
	n8 := len(dst) &^ 7
	if n8 > 0 {
		addF32(&dst[0], &x[0], n8)
	}
	for i := n8; i < len(dst); i++ {
		dst[i] += x[i]
	}
}

// Scale implements kernels.Kernels.Scale; bit-identical to generic.
func (AVX2) Scale(x []float32, s float32) {
	n8 := len(x) &^ 7
	if n8 > 0 {
		scaleF32(&x[0], n8, s)
	}
	for i := n8; i < len(x); i++ {
		x[i] *= s
	}
}

// F16ToF32 implements kernels.Kernels.F16ToF32 with F16C (exact).
func (AVX2) F16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n8 := len(src) &^ 7
	if n8 > 0 {
		f16ToF32(&dst[0], &src[0], n8)
	}
	for i := n8; i < len(src); i++ {
		dst[i] = quant.HalfToFloat(src[i])
	}
}

// MatMul implements kernels.Kernels.MatMul with 3×3 FMA register tiles.
// Shapes smaller than one tile (m or n < 3, k < 8) use one Dot per output.
func (a AVX2) MatMul(dst []float32, ldd int, x []float32, lda int, w []float32, ldb int, bias []float32, m, n, k int) {
	if m <= 0 || n <= 0 {
		return
	}
	if m < 3 || n < 3 || k < 8 || ldd < n {
		for i := 0; i < m; i++ {
			xr := x[i*lda : i*lda+k]
			out := dst[i*ldd : i*ldd+n]
			for j := range out {
				s := a.Dot(xr, w[j*ldb:j*ldb+k])
				if bias != nil {
					s += bias[j]
				}
				out[j] = s
			}
		}
		return
	}
	_, _, _ = x[(m-1)*lda+k-1], w[(n-1)*ldb+k-1], dst[(m-1)*ldd+n-1]
	sgemm3x3(&dst[0], ldd, &x[0], lda, &w[0], ldb, biasPtr(bias, n), m, n, k)
}

// MatMulF16 implements kernels.Kernels.MatMulF16: MatMul's tiles with the
// b rows converted by VCVTPH2PS as they are loaded.
func (a AVX2) MatMulF16(dst []float32, ldd int, x []float32, lda int, w []uint16, ldb int, bias []float32, m, n, k int) {
	if m <= 0 || n <= 0 {
		return
	}
	if m < 3 || n < 3 || k < 8 || ldd < n {
		a.Kernels.MatMulF16(dst, ldd, x, lda, w, ldb, bias, m, n, k)
		return
	}
	_, _, _ = x[(m-1)*lda+k-1], w[(n-1)*ldb+k-1], dst[(m-1)*ldd+n-1]
	sgemm3x3h(&dst[0], ldd, &x[0], lda, &w[0], ldb, biasPtr(bias, n), m, n, k)
}

// biasPtr returns &bias[0] after checking that bias has n elements, or nil.
func biasPtr(bias []float32, n int) *float32 {
	if bias == nil {
		return nil
	}
	_ = bias[n-1]
	return &bias[0]
}

// LayerNorm implements kernels.Kernels.LayerNorm with generic's arithmetic
// (float64 statistics, float32 scale and shift) in float64 vector lanes;
// only the order of the two sums differs from generic.
func (AVX2) LayerNorm(dst, x, gamma, beta []float32, eps float32) {
	n := len(x)
	if n == 0 {
		return
	}
	dst, gamma, beta = dst[:n], gamma[:n], beta[:n]
	n4 := n &^ 3
	var sum float64
	if n4 > 0 {
		sum = lnSum(&x[0], n4)
	}
	for _, v := range x[n4:] {
		sum += float64(v)
	}
	mean := sum / float64(n)
	var ss float64
	if n4 > 0 {
		ss = lnSumSq(&x[0], n4, mean)
	}
	for _, v := range x[n4:] {
		d := float64(v) - mean
		ss += d * d
	}
	inv := 1 / math.Sqrt(ss/float64(n)+float64(eps))
	if n4 > 0 {
		lnApply(&dst[0], &x[0], &gamma[0], &beta[0], n4, mean, inv)
	}
	for i := n4; i < n; i++ {
		dst[i] = float32((float64(x[i])-mean)*inv)*gamma[i] + beta[i]
	}
}

// Softmax implements kernels.Kernels.Softmax: the maximum by VMAXPS (a NaN
// anywhere makes every result NaN whichever maximum comes out, as in
// generic), the exponentials in float32 lanes (exp32_amd64.s, a few ulps),
// the sum in float64, the final scaling in float32 as in generic.
func (a AVX2) Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	n8 := len(x) &^ 7
	mx := x[0]
	if n8 > 0 {
		mx = maxF32(&x[0], n8)
	}
	for _, v := range x[n8:] {
		mx = max(mx, v)
	}
	var sum float64
	if n8 > 0 {
		sum = softmaxExp32(&x[0], n8, mx)
	}
	for i := n8; i < len(x); i++ {
		e := math.Exp(float64(x[i] - mx))
		x[i] = float32(e)
		sum += e
	}
	a.Scale(x, float32(1/sum))
}

// GELU implements kernels.Kernels.GELU (exact-erf form) with a float64
// erfc approximation of relative error < 2e-10 (see math_amd64.s).
func (a AVX2) GELU(x []float32) {
	n4 := len(x) &^ 3
	if n4 > 0 {
		gelu(&x[0], n4)
	}
	a.Kernels.GELU(x[n4:])
}

// QuickGELU implements kernels.Kernels.QuickGELU with the float32 exp of
// exp32_amd64.s (within 2 ulp of generic's float64 arithmetic); the last
// len(x) mod 8 values go to generic.
func (a AVX2) QuickGELU(x []float32) {
	n8 := len(x) &^ 7
	if n8 > 0 {
		quickGELU32(&x[0], n8)
	}
	a.Kernels.QuickGELU(x[n8:])
}
