package amd64

import "math"

// The float work of the avx512vnni tier, where 16 float32 (8 float64) lanes
// per Z register pay on the towers (docs/KERNELS.md has the profile):
// MatMul (attention's products), Softmax, QuickGELU, LayerNorm, Quantize.
// Each runs every element in assembly, the last ones through an opmask, so
// none takes generic's path. Softmax, QuickGELU, LayerNorm and Quantize do
// per lane the operations of the AVX2 routines (Quantize and QuickGELU's
// assembly part equal avx2's bit for bit; Softmax and LayerNorm differ from
// them only in the order of their float64 sums); MatMul has its own tiles
// and reduction order, within the same tolerance. GELU (exact erf; no CLIP
// tower uses it), MatMulF16, Dot, Add and Scale stay avx2's.

// QuickGELU implements kernels.Kernels.QuickGELU with quickGELU512 (within
// 2 ulp of generic, like AVX2's).
func (AVX512VNNI) QuickGELU(x []float32) {
	if len(x) > 0 {
		quickGELU512(&x[0], len(x))
	}
}

// Softmax implements kernels.Kernels.Softmax as AVX2.Softmax does, with
// the maximum and the exponentials on Z registers.
func (a AVX512VNNI) Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := maxF32x16(&x[0], len(x))
	sum := softmaxExp512(&x[0], len(x), mx)
	a.Scale(x, float32(1/sum))
}

// MatMul implements kernels.Kernels.MatMul with 4×4 tiles of 16-lane FMA
// accumulators (sgemm512_amd64.s), within the same 1e-5·Σ|a·b| of generic
// as AVX2's. Shapes below one tile (m or n < 4) go to AVX2.MatMul.
func (a AVX512VNNI) MatMul(dst []float32, ldd int, x []float32, lda int, w []float32, ldb int, bias []float32, m, n, k int) {
	if m < 4 || n < 4 || k < 1 || ldd < n {
		a.AVX2.MatMul(dst, ldd, x, lda, w, ldb, bias, m, n, k)
		return
	}
	_, _, _ = x[(m-1)*lda+k-1], w[(n-1)*ldb+k-1], dst[(m-1)*ldd+n-1]
	sgemm4x4z(&dst[0], ldd, &x[0], lda, &w[0], ldb, biasPtr(bias, n), m, n, k)
}

// LayerNorm implements kernels.Kernels.LayerNorm with AVX2.LayerNorm's
// arithmetic (float64 statistics, float32 scale and shift) in eight
// float64 lanes per Z register; only the order of the two sums differs
// from generic.
func (AVX512VNNI) LayerNorm(dst, x, gamma, beta []float32, eps float32) {
	n := len(x)
	if n == 0 {
		return
	}
	dst, gamma, beta = dst[:n], gamma[:n], beta[:n]
	mean := ln512Sum(&x[0], n) / float64(n)
	ss := ln512SumSq(&x[0], n, mean)
	inv := 1 / math.Sqrt(ss/float64(n)+float64(eps))
	ln512Apply(&dst[0], &x[0], &gamma[0], &beta[0], n, mean, inv)
}

// Quantize implements kernels.Kernels.Quantize, bit-identical to generic:
// AVX2.Quantize's two passes on Z registers over whole blocks; a block
// whose maximum is zero, NaN, infinite, or so small that 127/amax
// overflows takes the generic path.
func (a AVX512VNNI) Quantize(dst []int8, scales []float32, x []float32, block int) {
	if block <= 0 {
		a.AVX2.Quantize(dst, scales, x, block)
		return
	}
	for b := 0; b*block < len(x); b++ {
		xb := x[b*block : (b+1)*block]
		qb := dst[b*block : (b+1)*block]
		bits := absMax512(&xb[0], block)
		amax := math.Float32frombits(bits)
		inv := 127 / amax
		if bits == 0 || bits >= 0x7f800000 || math.IsInf(float64(inv), 0) {
			a.Kernels.Quantize(qb, scales[b:b+1], xb, block)
			continue
		}
		scales[b] = amax / 127
		quantize512(&qb[0], &xb[0], block, inv)
	}
}
