package amd64

// qmm2x4 computes the whole m×n QMatMul output with 2×4 register tiles; see
// the header of qmatmul_amd64.s for the algorithm and the preconditions.
//
//go:noescape
func qmm2x4(dst *float32, ldd int, x *int8, ldx int, xs *float32, ldxs int, w *int8, ws *float32, bias *float32, m, n, k, block, nb int)
