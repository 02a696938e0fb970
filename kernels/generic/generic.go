// Package generic is the plain-Go implementation of the clipinfer compute
// kernels. It runs on every architecture and is the definition of correct
// that the assembly kernels are tested against.
package generic

import (
	"math"

	"github.com/clipinfer/clipinfer/quant"
)

// Kernels is the generic implementation. Its zero value is ready to use.
// Assembly implementations embed it and override the methods they speed up.
type Kernels struct{}

// Name returns "generic".
func (Kernels) Name() string { return "generic" }

// Grain returns 1: the generic loops have no column tile.
func (Kernels) Grain() int { return 1 }

// QMatMul implements kernels.Kernels.QMatMul.
func (Kernels) QMatMul(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k, block int) {
	nb := k / block
	for i := 0; i < m; i++ {
		xr := x[i*k : i*k+k]
		xsr := xs[i*nb : i*nb+nb]
		out := dst[i*ldd : i*ldd+n]
		for j := 0; j < n; j++ {
			wr := w[j*k : j*k+k]
			wsr := ws[j*nb : j*nb+nb]
			var acc float32
			for b := 0; b < nb; b++ {
				sum := DotI8(xr[b*block:(b+1)*block], wr[b*block:(b+1)*block])
				s := xsr[b] * wsr[b]
				acc += float32(float32(sum) * s) // the conversion forbids fusing into an FMA
			}
			if bias != nil {
				acc += bias[j]
			}
			out[j] = acc
		}
	}
}

// DotI8 returns the exact int32 dot product of two int8 vectors of equal
// length (len(b) ≥ len(a)).
func DotI8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}

// MatMul implements kernels.Kernels.MatMul.
func (g Kernels) MatMul(dst []float32, ldd int, a []float32, lda int, b []float32, ldb int, bias []float32, m, n, k int) {
	for i := 0; i < m; i++ {
		ar := a[i*lda : i*lda+k]
		out := dst[i*ldd : i*ldd+n]
		for j := 0; j < n; j++ {
			s := g.Dot(ar, b[j*ldb:j*ldb+k])
			if bias != nil {
				s += bias[j]
			}
			out[j] = s
		}
	}
}

// MatMulF16 implements kernels.Kernels.MatMulF16. It converts one row of b
// at a time into a small stack buffer, so it never allocates.
func (g Kernels) MatMulF16(dst []float32, ldd int, a []float32, lda int, b []uint16, ldb int, bias []float32, m, n, k int) {
	var buf [256]float32
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			dst[i*ldd+j] = 0
		}
		for k0 := 0; k0 < k; k0 += len(buf) {
			kk := min(len(buf), k-k0)
			row := buf[:kk]
			g.F16ToF32(row, b[j*ldb+k0:j*ldb+k0+kk])
			for i := 0; i < m; i++ {
				dst[i*ldd+j] += g.Dot(a[i*lda+k0:i*lda+k0+kk], row)
			}
		}
		if bias != nil {
			for i := 0; i < m; i++ {
				dst[i*ldd+j] += bias[j]
			}
		}
	}
}

// Quantize implements kernels.Kernels.Quantize with the format's own
// rounding (quant.QuantizeRow).
func (Kernels) Quantize(dst []int8, scales []float32, x []float32, block int) {
	quant.QuantizeRow(dst, scales, x, block)
}

// Dot implements kernels.Kernels.Dot.
func (Kernels) Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// Add implements kernels.Kernels.Add.
func (Kernels) Add(dst, x []float32) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] += x[i]
	}
}

// Scale implements kernels.Kernels.Scale.
func (Kernels) Scale(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// LayerNorm implements kernels.Kernels.LayerNorm. Mean and variance are
// accumulated in float64.
func (Kernels) LayerNorm(dst, x, gamma, beta []float32, eps float32) {
	n := len(x)
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(n)
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	inv := 1 / math.Sqrt(ss/float64(n)+float64(eps))
	dst = dst[:n]
	gamma, beta = gamma[:n], beta[:n]
	for i, v := range x {
		dst[i] = float32((float64(v)-mean)*inv)*gamma[i] + beta[i]
	}
}

// Softmax implements kernels.Kernels.Softmax.
func (Kernels) Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - mx))
		x[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// GELU implements kernels.Kernels.GELU.
func (Kernels) GELU(x []float32) {
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
	}
}

// QuickGELU implements kernels.Kernels.QuickGELU.
func (Kernels) QuickGELU(x []float32) {
	for i, v := range x {
		f := float64(v)
		x[i] = float32(f / (1 + math.Exp(-1.702*f)))
	}
}

// F16ToF32 implements kernels.Kernels.F16ToF32.
func (Kernels) F16ToF32(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = quant.HalfToFloat(h)
	}
}
