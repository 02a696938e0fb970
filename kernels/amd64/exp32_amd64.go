package amd64

// Assembly in exp32_amd64.s (float32 lanes). The AVX2 routines round n
// down to 8; the AVX-512 ones (suffix 512) take every element.

//go:noescape
func quickGELU32(x *float32, n int)

//go:noescape
func softmaxExp32(x *float32, n int, mx float32) float64

//go:noescape
func quickGELU512(x *float32, n int)

//go:noescape
func softmaxExp512(x *float32, n int, mx float32) float64
