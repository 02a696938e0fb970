package amd64

//go:generate go run gen_qmmxs.go

// xpanel sign-extends h rows of x (ldx bytes apart) over kc values of k
// into the panel layout of qmmxsH; see qmmxs_amd64.s.
//
//go:noescape
func xpanel(xp *int16, x *int8, ldx, h, kc int)

// qmmxsEpi reduces the accumulators of 12 columns for h rows and writes
// dst[r][0..11] with the generic epilogue; see qmmxs_amd64.s.
//
//go:noescape
func qmmxsEpi(dst *float32, ldd int, part *int32, h int, xs *float32, ws *float32, bias *float32)

// The activation-stationary kernels, one per panel height h = 1..13: nc
// weight rows (ldw bytes apart) over kc values of k against the panel xp;
// the accumulators of column c, row r go to part[8·(h·c+r):].
//
//go:noescape
func qmmxs1(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs2(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs3(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs4(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs5(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs6(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs7(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs8(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs9(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs10(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs11(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs12(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

//go:noescape
func qmmxs13(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int)

// qmmxsByHeight maps the panel height to its kernel.
var qmmxsByHeight = [...]func(part *int32, xp *int16, w *int8, ldw, nc, kc, pfd int){
	nil, qmmxs1, qmmxs2, qmmxs3, qmmxs4, qmmxs5, qmmxs6, qmmxs7, qmmxs8, qmmxs9, qmmxs10, qmmxs11, qmmxs12, qmmxs13,
}

// qmmXS computes QMatMul for block == k with the activation-stationary
// kernels. The caller guarantees m ≥ 1, n ≥ 12, k a positive multiple of 16,
// ldd ≥ n and slices long enough for the shape. Rows are cut into panels of
// nearly equal height, at most 13 and at most qmmXSPanelValues/k; for each
// panel the weight rows stream past in groups of 12 columns, each followed
// by the epilogue of those columns. The last group moves back to n-12 when
// 12 does not divide n (same operations, so the same bits).
func qmmXS(dst []float32, ldd int, x []int8, xs []float32, w []int8, ws []float32, bias []float32, m, n, k int) {
	hmax := min(13, max(1, qmmXSPanelValues/k))
	s := qmmPool.Get().(*qmmScratch)
	xp := s.panel(hmax * k)
	part := s.accumulators(12 * hmax * 8)
	panels := (m + hmax - 1) / hmax
	i0 := 0
	for p := 0; p < panels; p++ {
		h := (m - i0) / (panels - p) // heights differ by at most one
		xpanel(xp, &x[i0*k], k, h, k)
		f := qmmxsByHeight[h]
		for j0 := 0; j0 < n; j0 += 12 {
			j := min(j0, n-12)
			var bp *float32
			if bias != nil {
				bp = &bias[j]
			}
			f(part, xp, &w[j*k], k, 12, k, qmmXSPrefetch*k)
			qmmxsEpi(&dst[i0*ldd+j], ldd, part, h, &xs[i0], &ws[j], bp)
		}
		i0 += h
	}
	qmmPool.Put(s)
}

// qmmXSPrefetch is how many weight rows ahead the kernels prefetch.
const qmmXSPrefetch = 2

// qmmXSPanelValues bounds h·k so that the int16 panel (2·h·k bytes) stays in
// the 32 KiB L1 data cache next to the streamed weights.
const qmmXSPanelValues = 13 * 1024
