package amd64

// Assembly in ln512_amd64.s (AVX-512F); every element, no rounding of n.

//go:noescape
func ln512Sum(x *float32, n int) float64

//go:noescape
func ln512SumSq(x *float32, n int, mean float64) float64

//go:noescape
func ln512Apply(dst, x, gamma, beta *float32, n int, mean, inv float64)
