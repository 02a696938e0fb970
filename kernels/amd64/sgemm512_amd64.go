package amd64

// Assembly in sgemm512_amd64.s: 4×4 register tiles over the whole output
// on Z registers; the caller guarantees m ≥ 4, n ≥ 4, k ≥ 1.

//go:noescape
func sgemm4x4z(dst *float32, ldd int, a *float32, lda int, b *float32, ldb int, bias *float32, m, n, k int)
