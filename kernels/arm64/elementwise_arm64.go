package arm64

import (
	"math"

	"github.com/clipinfer/clipinfer/kernels/generic"
)

// The helpers in elementwise_arm64.s take n as a multiple of 4 (maxF32
// also n ≥ 4); the methods below finish the last n mod 4 elements with
// generic's own arithmetic.

//go:noescape
func quickGELU4(x *float32, n int)

//go:noescape
func geluD4(x *float32, n int)

//go:noescape
func maxF32(x *float32, n int) float32

//go:noescape
func expSubF32(x *float32, n int, mx float32) float64

//go:noescape
func sumF64(x *float32, n int) float64

//go:noescape
func sqDevF64(x *float32, n int, mean float64) float64

//go:noescape
func lnApply(dst, x, gamma, beta *float32, n int, mean, inv float64)

// LayerNorm implements kernels.Kernels.LayerNorm. Like generic it sums in
// float64 and normalises in float64 before rounding to float32, two lanes
// at a time; only the order of the two sums differs.
func (NEON) LayerNorm(dst, x, gamma, beta []float32, eps float32) {
	n := len(x)
	if n < 4 {
		generic.Kernels{}.LayerNorm(dst, x, gamma, beta, eps)
		return
	}
	dst, gamma, beta = dst[:n], gamma[:n], beta[:n]
	n4 := n &^ 3
	sum := sumF64(&x[0], n4)
	for _, v := range x[n4:] {
		sum += float64(v)
	}
	mean := sum / float64(n)
	ss := sqDevF64(&x[0], n4, mean)
	for _, v := range x[n4:] {
		d := float64(v) - mean
		ss += d * d
	}
	inv := 1 / math.Sqrt(ss/float64(n)+float64(eps))
	lnApply(&dst[0], &x[0], &gamma[0], &beta[0], n4, mean, inv)
	for i := n4; i < n; i++ {
		dst[i] = float32((float64(x[i])-mean)*inv)*gamma[i] + beta[i]
	}
}

// Softmax implements kernels.Kernels.Softmax: exp in float64 lanes (see
// elementwise_arm64.s), the sum in float64, the scaling in float32, as
// generic.
func (NEON) Softmax(x []float32) {
	n := len(x)
	if n < 4 {
		generic.Kernels{}.Softmax(x)
		return
	}
	n4 := n &^ 3
	mx := maxF32(&x[0], n4)
	for _, v := range x[n4:] {
		mx = max(mx, v)
	}
	sum := expSubF32(&x[0], n4, mx)
	for i := n4; i < n; i++ {
		e := math.Exp(float64(x[i] - mx))
		x[i] = float32(e)
		sum += e
	}
	scaleF32(&x[0], n, float32(1/sum))
}

// QuickGELU implements kernels.Kernels.QuickGELU, x·sigmoid(1.702·x)
// computed as generic does, x/(1+exp(-1.702·x)) in float64, two lanes at a
// time.
func (NEON) QuickGELU(x []float32) {
	n4 := len(x) &^ 3
	if n4 > 0 {
		quickGELU4(&x[0], n4)
	}
	generic.Kernels{}.QuickGELU(x[n4:])
}

// GELU implements kernels.Kernels.GELU (the exact erf form), x·Φ(x), in
// float64 lanes with the erfc approximation of kernels/amd64 (relative
// error < 2e-10), two lanes at a time; see geluD4 in elementwise_arm64.s.
func (NEON) GELU(x []float32) {
	n4 := len(x) &^ 3
	if n4 > 0 {
		geluD4(&x[0], n4)
	}
	generic.Kernels{}.GELU(x[n4:])
}
