package arm64

import (
	"unsafe"

	"github.com/clipinfer/clipinfer/kernels/generic"
)

// NEON implements kernels.Kernels with ARMv8.0 Advanced SIMD, which every
// arm64 CPU has. The int8 matrix product widens with SMULL/SMLAL2 into
// int16 and SADALP into int32; the float matrix products use FMLA;
// LayerNorm, Softmax and QuickGELU compute in float64 lanes as generic
// computes in float64. GELU is generic's.
//
// QMatMul assumes int8 values in [-127, 127], the range Quantize and the
// symmetric weight quantiser produce: two products of -128·-128 would
// overflow the int16 intermediate.
type NEON struct{ generic.Kernels }

// Name returns "neon".
func (NEON) Name() string { return "neon" }

// Grain returns 4, the column width of the QMatMul and MatMul tiles.
func (NEON) Grain() int { return 4 }

// QMatMul implements kernels.Kernels.QMatMul with the SMULL/SMLAL2/SADALP
// 4×4 tile kernel. Per-row scales (block == k) give results bit-identical
// to generic; so do blocked scales, as the float epilogue keeps generic's
// order.
func (NEON) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	qmatmul(macNEON, dst, ldd, x, xs, w, ws, bias, m, n, k, block)
}

// MatMul implements kernels.Kernels.MatMul with a 4×4 FMLA tile kernel.
func (NEON) MatMul(dst []float32, ldd int, a []float32, lda int, b []float32, ldb int, bias []float32, m, n, k int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 {
		generic.Kernels{}.MatMul(dst, ldd, a, lda, b, ldb, bias, m, n, k)
		return
	}
	_ = b[(n-1)*ldb+k-1]
	fmatmul(false, dst, ldd, a, lda, unsafe.Pointer(&b[0]), ldb, bias, m, n, k)
}

// MatMulF16 implements kernels.Kernels.MatMulF16: the MatMul kernel with
// each chunk of b widened from half precision by FCVTL.
func (NEON) MatMulF16(dst []float32, ldd int, a []float32, lda int, b []uint16, ldb int, bias []float32, m, n, k int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 {
		generic.Kernels{}.MatMulF16(dst, ldd, a, lda, b, ldb, bias, m, n, k)
		return
	}
	_ = b[(n-1)*ldb+k-1]
	fmatmul(true, dst, ldd, a, lda, unsafe.Pointer(&b[0]), ldb, bias, m, n, k)
}

// Quantize implements kernels.Kernels.Quantize, bit-identical to generic.
func (NEON) Quantize(dst []int8, scales []float32, x []float32, block int) {
	if len(x) == 0 {
		return
	}
	if block <= 0 || len(x)%block != 0 {
		generic.Kernels{}.Quantize(dst, scales, x, block) // fails the way generic does
		return
	}
	nb := len(x) / block
	_, _ = dst[len(x)-1], scales[nb-1]
	quantizeBlocks(&dst[0], &scales[0], &x[0], nb, block)
}

// Dot implements kernels.Kernels.Dot with four FMLA accumulators.
func (NEON) Dot(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	_ = b[len(a)-1]
	return dotF32(&a[0], &b[0], len(a))
}

// Add implements kernels.Kernels.Add; bit-identical to generic.
func (NEON) Add(dst, x []float32) {
	if len(dst) == 0 {
		return
	}
	_ = x[len(dst)-1]
	addF32(&dst[0], &x[0], len(dst))
}

// Scale implements kernels.Kernels.Scale; bit-identical to generic.
func (NEON) Scale(x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	scaleF32(&x[0], len(x), s)
}

// F16ToF32 implements kernels.Kernels.F16ToF32 with FCVTL. It is exact;
// only a signalling NaN's quiet bit differs from generic (it stays NaN).
func (NEON) F16ToF32(dst []float32, src []uint16) {
	if len(src) == 0 {
		return
	}
	_ = dst[len(src)-1]
	f16ToF32(&dst[0], &src[0], len(src))
}

// NEONDot is NEON with the int8 matrix product computed by SDOT, the
// ARMv8.2 dot-product instruction (cpuid feature asimddp). Running it on a
// CPU without asimddp raises SIGILL; the dispatcher only selects it when
// the feature is reported.
type NEONDot struct{ NEON }

// Name returns "neondot".
func (NEONDot) Name() string { return "neondot" }

// QMatMul implements kernels.Kernels.QMatMul with the SDOT 4×4 tile
// kernel, bit-identical to generic like NEON's.
func (NEONDot) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	qmatmul(macDot, dst, ldd, x, xs, w, ws, bias, m, n, k, block)
}

// NEONI8MM is NEON with the int8 matrix product computed by SMMLA (ARMv8.6
// I8MM: Graviton 3/4, Apple M2 and later, Cortex-A710/X2 and later), each
// instruction a 2×2 block of 8-value dot products. Use it only when the
// CPU reports i8mm (kernels.Get("neoni8mm") checks).
type NEONI8MM struct{ NEON }

// Name returns "neoni8mm".
func (NEONI8MM) Name() string { return "neoni8mm" }

// QMatMul implements kernels.Kernels.QMatMul, bit-identical to generic:
// one scale per row with k a multiple of 16 runs the 8×4 SMMLA kernel on
// pair-interleaved activations (qmatmulMMLA8), other shapes the 4×4 SMMLA
// tile kernel.
func (NEONI8MM) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	if !qmatmulMMLA8(dst, ldd, x, xs, w, ws, bias, m, n, k, block) {
		qmatmul(macMMLA, dst, ldd, x, xs, w, ws, bias, m, n, k, block)
	}
}
