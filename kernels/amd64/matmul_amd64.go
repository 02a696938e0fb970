package amd64

// Assembly in matmul_amd64.s: 3×3 register tiles over the whole output;
// the caller guarantees m ≥ 3, n ≥ 3, k ≥ 8.

//go:noescape
func sgemm3x3(dst *float32, ldd int, a *float32, lda int, b *float32, ldb int, bias *float32, m, n, k int)

//go:noescape
func sgemm3x3h(dst *float32, ldd int, a *float32, lda int, b *uint16, ldb int, bias *float32, m, n, k int)
