package amd64

// Assembly in exp32_amd64.s (float32 lanes); n is rounded down to 8.

//go:noescape
func quickGELU32(x *float32, n int)

//go:noescape
func softmaxExp32(x *float32, n int, mx float32) float64
