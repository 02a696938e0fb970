package amd64

// Assembly in math_amd64.s; n is rounded down to 4.

//go:noescape
func gelu(x *float32, n int)

//go:noescape
func lnSum(x *float32, n int) float64

//go:noescape
func lnSumSq(x *float32, n int, mean float64) float64

//go:noescape
func lnApply(dst, x, gamma, beta *float32, n int, mean, inv float64)
