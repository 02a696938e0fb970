package amd64

// Assembly in quant512_amd64.s (AVX-512F/BW); every element, n ≥ 1.

//go:noescape
func absMax512(x *float32, n int) uint32

//go:noescape
func quantize512(dst *int8, x *float32, n int, inv float32)
