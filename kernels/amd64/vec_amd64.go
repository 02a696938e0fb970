package amd64

// Assembly in vec_amd64.s; n is rounded down to the step named there.

//go:noescape
func dotF32(a, b *float32, n int) float32

//go:noescape
func addF32(dst, x *float32, n int)

//go:noescape
func scaleF32(x *float32, n int, s float32)

//go:noescape
func f16ToF32(dst *float32, src *uint16, n int)

//go:noescape
func absMaxBits(x *float32, n int) uint32

//go:noescape
func quantize8(dst *int8, x *float32, n int, inv float32)

//go:noescape
func maxF32(x *float32, n int) float32

//go:noescape
func maxF32x16(x *float32, n int) float32
