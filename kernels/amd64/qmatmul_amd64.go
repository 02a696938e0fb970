package amd64

// Assembly in qmatmul_amd64.s. Each computes the whole m×n output with 2×4
// register tiles; see the header of the .s file for the preconditions.

// qmm2x4a is QMatMul with the VPSIGNB/VPMADDUBSW/VPMADDWD step.
//
//go:noescape
func qmm2x4a(dst *float32, ldd int, x *int8, ldx int, xs *float32, ldxs int, w *int8, ws *float32, bias *float32, m, n, k, block, nb int)

// qmm2x4b is QMatMul with the VPMOVSXBW/VPMADDWD step.
//
//go:noescape
func qmm2x4b(dst *float32, ldd int, x *int8, ldx int, xs *float32, ldxs int, w *int8, ws *float32, bias *float32, m, n, k, block, nb int)

//go:noescape
func qmm2x4c(dst *float32, ldd int, x *int8, ldx int, xs *float32, ldxs int, w *int8, ws *float32, bias *float32, m, n, k, block, nb int)

//go:noescape
func qmm2x4d(dst *float32, ldd int, x *int8, ldx int, xs *float32, ldxs int, w *int8, ws *float32, bias *float32, m, n, k, block, nb int)
