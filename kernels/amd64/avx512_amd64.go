package amd64

// The float work of the avx512vnni tier: the routines where 16 float32
// lanes per Z register pay on the towers (docs/KERNELS.md has the profile).
// Each runs on every element, the last len mod 16 through an opmask, so no
// element takes generic's float64 path. Per lane they do exactly the
// operations of the AVX2 routines, so the results equal avx2's bit for bit
// where avx2 runs assembly (Softmax: up to the order of the float64 sum).

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
