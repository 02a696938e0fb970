// Package kernels defines the compute primitives the CLIP towers run on and
// picks, once at start-up, the fastest implementation the CPU can execute.
//
// kernels/generic is plain Go and is the definition of correct; the
// assembly implementations in kernels/amd64 and kernels/arm64 must equal it
// bit for bit on integer work (and on the exactly specified float epilogues
// named below) and stay within a stated tolerance on float work.
package kernels

// Kernels is one complete implementation of the primitives. All slices are
// row-major; "ld" arguments are the distance in elements between rows.
// Implementations never allocate and never write outside the elements the
// documentation names. Every method is safe for concurrent use on disjoint
// destinations.
type Kernels interface {
	// Name is the short name used by CLIPINFER_KERNEL and -kernel:
	// generic, avx2, avxvnni, avx512vnni, neon, neondot or neoni8mm.
	Name() string

	// Grain is the number of output columns the kernel's matrix products
	// compute together (its column tile). A caller that splits the columns
	// of a product into chunks keeps every chunk but the last a multiple of
	// Grain, so no tile is recomputed or run partly empty at a chunk edge.
	Grain() int

	// QMatMul is the int8 matrix product with per-block scales that every
	// quantised linear layer runs on. x is m×k int8 (activations), w is n×k
	// int8 (one row per output channel), nb = k/block, xs is m×nb and ws is
	// n×nb. Every x and w value lies in [-127, 127] (what Quantize and
	// quant.Quantize produce; -128 is outside the contract, since the
	// assembly kernels' int16 intermediates rely on |x·w| ≤ 127²). For
	// every 0 ≤ i < m, 0 ≤ j < n:
	//
	//	acc := float32(0)
	//	for b := 0; b < nb; b++ {
	//		s := xs[i*nb+b] * ws[j*nb+b]        // float32 product
	//		acc += float32(Σ_{k∈b} x·w) * s     // int32 sum, then float32
	//	}
	//	dst[i*ldd+j] = acc + bias[j]           // bias may be nil
	//
	// When block == k (one scale per row) every implementation computes
	// exactly this, operation for operation, so results are bit-identical.
	// When block < k the float accumulation order may differ; results are
	// then within 1e-6 of Σ_b |float32(Σx·w)·s|. block divides k.
	QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int)

	// MatMul is the fp32 product with the second operand transposed:
	// dst[i*ldd+j] = Σ_k a[i*lda+k]·b[j*ldb+k] + bias[j] (bias may be nil).
	MatMul(dst []float32, ldd int, a []float32, lda int, b []float32, ldb int, bias []float32, m, n, k int)

	// MatMulF16 is MatMul with b holding IEEE half-precision bit patterns.
	MatMulF16(dst []float32, ldd int, a []float32, lda int, b []uint16, ldb int, bias []float32, m, n, k int)

	// Quantize converts one row to int8 with one scale per block of x:
	// amax = max|x| over the block; amax == 0 gives scale 0 and zeros;
	// otherwise scale = amax/127 and q = clamp(roundToEven(x·(127/amax)),
	// -127, 127), each operation rounded to float32. Bit-exact.
	Quantize(dst []int8, scales []float32, x []float32, block int)

	// Dot returns Σ a[i]·b[i]; len(b) ≥ len(a).
	Dot(a, b []float32) float32

	// Add sets dst[i] += x[i] for i < len(dst).
	Add(dst, x []float32)

	// Scale sets x[i] *= s.
	Scale(x []float32, s float32)

	// LayerNorm sets dst = (x-mean)/sqrt(var+eps)·gamma + beta for one row
	// (population variance). dst may alias x.
	LayerNorm(dst, x, gamma, beta []float32, eps float32)

	// Softmax replaces x by exp(x-max)/Σexp(x-max).
	Softmax(x []float32)

	// GELU applies x·Φ(x) with the exact erf form, in place.
	GELU(x []float32)

	// QuickGELU applies x·sigmoid(1.702·x), in place.
	QuickGELU(x []float32)

	// F16ToF32 converts half-precision bit patterns to float32;
	// len(dst) ≥ len(src).
	F16ToF32(dst []float32, src []uint16)
}

// QPacker is implemented by kernels whose QMatMul first copies the
// activations into a layout of their own (the VNNI kernels pack them into
// register-shaped panels with per-row corrections) and then keeps a
// cache-sized block of the weights while every row passes. A caller that
// runs one product in several column pieces, on several threads, packs the
// activations once with QPack (rows may be packed in pieces, concurrently)
// and runs every column piece with QMatMulPacked on the shared copy, rather
// than each QMatMul call packing them again; it hands each participant
// whole column ranges, since the kernel blocks the weights itself.
//
// The contract is QMatMul's: QMatMulPacked on what QPack packed from x and
// xs equals QMatMul on x and xs, bit for bit, for every tier, so generic's
// QMatMul is its reference.
type QPacker interface {
	// QPackSize returns the length of the buffer QPack fills for m rows of
	// k values with the given block, or 0 when the kernel does not pack
	// this shape (the caller then runs QMatMul).
	QPackSize(m, k, block int) int

	// QPack packs rows [lo, hi) of x (m×k) and their scales xs (m×k/block)
	// into p, which holds QPackSize(m, k, block) bytes. Calls for disjoint
	// row ranges may run concurrently on the same p; the activations are
	// packed once every row of [0, m) has been.
	QPack(p []byte, x []int8, xs []float32, m, k, block, lo, hi int)

	// QMatMulPacked is QMatMul with the activations read from p, the same
	// slice QPack filled for the same m, k and block. It computes all m
	// rows of columns [0, n) of w; column ranges of one product may run
	// concurrently on one p.
	QMatMulPacked(dst []float32, ldd int, p []byte, w []int8, ws []float32, bias []float32, m, n, k, block int)
}
