package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels"
	"github.com/clipinfer/clipinfer/kernels/generic"
	"github.com/clipinfer/clipinfer/quant"
)

// ref is the definition of correct every implementation is compared with.
var ref kernels.Kernels = generic.Kernels{}

// forEachFast runs f once for every non-generic implementation compiled
// for this architecture; one the CPU cannot execute is skipped with what
// the machine lacks, so the test output names every tier not tested. It
// is the one place that decides what gets compared, so a new kernel is
// tested as soon as it is registered.
func forEachFast(t *testing.T, f func(t *testing.T, k kernels.Kernels)) {
	t.Helper()
	ran := false
	for _, im := range kernels.List() {
		if im.Name() == "generic" {
			continue
		}
		t.Run(im.Name(), func(t *testing.T) {
			if !im.Available {
				t.Skipf("%s: this machine lacks %s", im.Name(), im.Why)
			}
			f(t, im.Kernels)
		})
		ran = ran || im.Available
	}
	if !ran {
		t.Skip("no assembly kernel can run on this CPU")
	}
}

const guard = 64 // elements of sentinel placed around every destination

// guarded returns a slice of n elements inside a larger buffer whose
// surroundings hold a sentinel, and a check that the sentinel survived.
func guarded(n int, sentinel float32) ([]float32, func(t *testing.T)) {
	buf := make([]float32, n+2*guard)
	for i := range buf {
		buf[i] = sentinel
	}
	return buf[guard : guard+n : guard+n], func(t *testing.T) {
		t.Helper()
		for i := 0; i < guard; i++ {
			if math.Float32bits(buf[i]) != math.Float32bits(sentinel) ||
				math.Float32bits(buf[guard+n+i]) != math.Float32bits(sentinel) {
				t.Fatalf("write outside the destination at guard offset %d", i)
			}
		}
	}
}

// at returns a copy of src placed at the given element offset inside a
// larger buffer, so kernels see every alignment.
func at[T any](src []T, off int) []T {
	buf := make([]T, len(src)+off+guard)
	copy(buf[off:], src)
	return buf[off : off+len(src) : off+len(src)]
}

func randI8(r *rand.Rand, n int, mode string) []int8 {
	out := make([]int8, n)
	for i := range out {
		switch mode {
		case "max":
			out[i] = 127
		case "min":
			out[i] = -127
		case "alt":
			out[i] = int8(127 - 254*(i&1))
		case "sparse":
			if r.IntN(8) == 0 {
				out[i] = int8(r.IntN(255) - 127)
			}
		default:
			out[i] = int8(r.IntN(255) - 127)
		}
	}
	return out
}

func randF32(r *rand.Rand, n int, scale float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64()) * scale
	}
	return out
}

type qcase struct{ m, n, k, block int }

func qcases() []qcase {
	var cs []qcase
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 13} {
		for _, n := range []int{1, 2, 3, 5, 8, 9, 16, 17, 33} {
			for _, k := range []int{1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 128, 200, 768} {
				cs = append(cs, qcase{m, n, k, k})
				if k%32 == 0 && k > 32 {
					cs = append(cs, qcase{m, n, k, 32})
				}
				if k%64 == 0 && k > 64 {
					cs = append(cs, qcase{m, n, k, 64})
				}
			}
		}
	}
	cs = append(cs, qcase{50, 40, 768, 768}, qcase{50, 24, 3072, 3072}, qcase{77, 19, 512, 64}, qcase{3, 11, 2048, 2048},
		qcase{77, 20, 512, 512}, qcase{25, 13, 1536, 1536}, qcase{14, 8, 16, 16},
		// several cache blocks of columns (the last one moved back) and many row panels
		qcase{50, 205, 3072, 3072}, qcase{203, 20, 64, 64})
	return cs
}

// compareQMatMul runs one QMatMul case on k and generic and checks the
// results (bit-exact for per-row scales) and the guard regions. A kernel
// that packs its activations (kernels.QPacker) is checked the same way
// through QPack and QMatMulPacked as a caller splitting the work runs
// them: rows packed in three ranges concurrently, columns in two pieces.
func compareQMatMul(t *testing.T, k kernels.Kernels, c qcase, x, w []int8, xs, ws, bias []float32, off int) {
	t.Helper()
	nb := c.k / c.block
	xo, xso, wo, wso := at(x, off), at(xs, off%7), at(w, (off*3)%64), at(ws, off%5)
	checkQMatMul(t, "QMatMul", c, x, w, xs, ws, bias, off, func(got []float32, ldd int) {
		k.QMatMul(got, ldd, xo, xso, wo, wso, bias, c.m, c.n, c.k, c.block)
	})
	qp, ok := k.(kernels.QPacker)
	if !ok {
		return
	}
	size := qp.QPackSize(c.m, c.k, c.block)
	if size == 0 {
		return
	}
	checkQMatMul(t, "QMatMulPacked", c, x, w, xs, ws, bias, off, func(got []float32, ldd int) {
		p := make([]byte, size+off)[off:] // every alignment
		for i := range p {
			p[i] = 0x5a // stale bytes: QPack overwrites all that is read
		}
		cuts := []int{0, c.m / 3, 2 * c.m / 3, c.m}
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Go(func() { qp.QPack(p, xo, xso, c.m, c.k, c.block, cuts[i], cuts[i+1]) })
		}
		wg.Wait()
		// Column pieces in multiples of the grain, as the runtime cuts
		// them, the ragged end a piece of its own when there is one: it
		// may be narrower than the kernel's column block and start past
		// column 0.
		g := k.Grain()
		split, whole := c.n/2/g*g, max(c.n/2/g*g, c.n/g*g)
		for _, r := range [][2]int{{0, split}, {split, whole}, {whole, c.n}} {
			if r[0] == r[1] {
				continue
			}
			var b []float32
			if bias != nil {
				b = bias[r[0]:]
			}
			wg.Go(func() {
				qp.QMatMulPacked(got[r[0]:], ldd, p, wo[r[0]*c.k:], wso[r[0]*nb:], b, c.m, r[1]-r[0], c.k, c.block)
			})
		}
		wg.Wait()
	})
}

// checkQMatMul runs one implementation of a QMatMul case (run fills got,
// m rows ldd apart) and compares it with generic.
func checkQMatMul(t *testing.T, what string, c qcase, x, w []int8, xs, ws, bias []float32, off int, run func(got []float32, ldd int)) {
	t.Helper()
	ldd := c.n + off%5
	want := make([]float32, c.m*ldd)
	ref.QMatMul(want, ldd, x, xs, w, ws, bias, c.m, c.n, c.k, c.block)
	got, check := guarded(c.m*ldd, -777)
	for i := range got {
		got[i] = -777
	}
	run(got, ldd)
	check(t)
	for i := 0; i < c.m; i++ {
		for j := 0; j < ldd; j++ {
			g, e := got[i*ldd+j], want[i*ldd+j]
			if j >= c.n {
				if g != -777 {
					t.Fatalf("%s %+v: wrote padding column (%d,%d)", what, c, i, j)
				}
				continue
			}
			if c.block == c.k {
				if math.Float32bits(g) != math.Float32bits(e) {
					t.Fatalf("%s %+v off=%d: (%d,%d) = %v, generic %v (must be bit-exact)", what, c, off, i, j, g, e)
				}
				continue
			}
			// Blocked: bound by the sum of |block terms|.
			var mag float64
			nb := c.k / c.block
			for b := 0; b < nb; b++ {
				s := generic.DotI8(x[i*c.k+b*c.block:i*c.k+(b+1)*c.block], w[j*c.k+b*c.block:j*c.k+(b+1)*c.block])
				mag += math.Abs(float64(s) * float64(xs[i*nb+b]) * float64(ws[j*nb+b]))
			}
			if bias != nil {
				mag += math.Abs(float64(bias[j]))
			}
			if d := math.Abs(float64(g) - float64(e)); d > 1e-6*mag+1e-30 {
				t.Fatalf("%s %+v off=%d: (%d,%d) = %v, generic %v (|Δ| %g > %g)", what, c, off, i, j, g, e, d, 1e-6*mag)
			}
		}
	}
}

func TestQMatMulMatchesGeneric(t *testing.T) {
	forEachFast(t, func(t *testing.T, k kernels.Kernels) {
		r := rand.New(rand.NewPCG(1, 2))
		modes := []string{"rand", "max", "min", "alt", "sparse"}
		for ci, c := range qcases() {
			nb := c.k / c.block
			xm, wm := modes[ci%len(modes)], modes[(ci/len(modes))%len(modes)]
			x, w := randI8(r, c.m*c.k, xm), randI8(r, c.n*c.k, wm)
			xs, ws := randF32(r, c.m*nb, 0.01), randF32(r, c.n*nb, 0.01)
			var bias []float32
			if ci%2 == 0 {
				bias = randF32(r, c.n, 1)
			}
			compareQMatMul(t, k, c, x, w, xs, ws, bias, ci%64)
		}
	})
}

// TestQMatMulExtremes checks the int32 accumulation on the inputs that
// stress saturating instructions: every product ±127·±127.
func TestQMatMulExtremes(t *testing.T) {
	forEachFast(t, func(t *testing.T, k kernels.Kernels) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, c := range []qcase{{4, 8, 4096, 4096}, {5, 9, 3072, 3072}, {3, 3, 65, 65}, {8, 16, 512, 512}} {
			for _, pair := range [][2]string{{"max", "max"}, {"min", "min"}, {"max", "min"}, {"alt", "alt"}, {"alt", "max"}} {
				x, w := randI8(r, c.m*c.k, pair[0]), randI8(r, c.n*c.k, pair[1])
				ones := func(n int) []float32 {
					s := make([]float32, n)
					for i := range s {
						s[i] = 1
					}
					return s
				}
				compareQMatMul(t, k, c, x, w, ones(c.m), ones(c.n), nil, 0)
			}
		}
	})
}

func TestQuantizeMatchesGeneric(t *testing.T) {
	forEachFast(t, func(t *testing.T, k kernels.Kernels) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range []int{1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 768, 3072} {
			for _, block := range []int{n, 32, 64} {
				if n%block != 0 {
					continue
				}
				for v, gen := range []func(int) float32{
					func(int) float32 { return float32(r.NormFloat64()) },
					func(int) float32 { return float32(r.NormFloat64()) * 1e-30 },
					func(int) float32 { return float32(r.NormFloat64()) * 1e30 },
					func(i int) float32 { return float32(i%3) - 1 },
					func(int) float32 { return 0 },
					func(i int) float32 { return float32(i) + 0.5 }, // ties
					func(int) float32 { return -3 },
				} {
					x := make([]float32, n)
					for i := range x {
						x[i] = gen(i)
					}
					wantQ, wantS := make([]int8, n), make([]float32, n/block)
					ref.Quantize(wantQ, wantS, x, block)
					gotQ, gotS := make([]int8, n+guard), make([]float32, n/block+guard)
					for i := range gotQ {
						gotQ[i] = 99
					}
					k.Quantize(gotQ[:n], gotS[:n/block], at(x, v), block)
					require.Equal(t, wantQ, gotQ[:n], "n=%d block=%d gen=%d", n, block, v)
					require.Equal(t, wantS, gotS[:n/block], "scales n=%d block=%d gen=%d", n, block, v)
					for i := n; i < len(gotQ); i++ {
						require.EqualValues(t, 99, gotQ[i], "wrote past the destination")
					}
				}
			}
		}
	})
}

// closeTo reports |a-b| ≤ tol·scale, with NaN where generic has NaN and
// the same infinity where generic has one.
func closeTo(t *testing.T, what string, got, want []float32, tol float64, scale func(i int) float64) {
	t.Helper()
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsInf(float64(want[i]), 0) {
			d = 0
			if got[i] != want[i] {
				d = math.Inf(1)
			}
		}
		if d > tol*scale(i) || math.IsNaN(float64(got[i])) != math.IsNaN(float64(want[i])) {
			t.Fatalf("%s: [%d] = %v, generic %v (|Δ| %g > %g)", what, i, got[i], want[i], d, tol*scale(i))
		}
	}
}

// elementScale is the scale of the element-wise tolerance: tolElement
// times it is 2e-6 relative plus 1e-7 absolute.
func elementScale(want []float32) func(int) float64 {
	return func(i int) float64 { return math.Abs(float64(want[i])) + 0.05 + 1e-7 }
}

// Float tolerances, stated once: matrix products within 1e-5 of Σ|a·b|;
// element-wise functions within 2e-6 relative plus 1e-7 absolute
// (LayerNorm 1e-5 of its output scale).
const (
	tolMatMul  = 1e-5
	tolElement = 2e-6
)

func TestMatMulMatchesGeneric(t *testing.T) {
	forEachFast(t, func(t *testing.T, k kernels.Kernels) {
		r := rand.New(rand.NewPCG(7, 8))
		for ci, c := range []struct{ m, n, k int }{
			{1, 1, 1}, {1, 1, 7}, {2, 3, 8}, {3, 5, 9}, {4, 8, 16}, {5, 9, 17}, {7, 13, 31}, {8, 16, 64},
			{13, 17, 65}, {50, 50, 64}, {64, 50, 50}, {50, 64, 768}, {3, 2, 1000}, {6, 24, 33},
			{4, 4, 1}, {6, 5, 15}, {17, 18, 16}, {16, 77, 64},
		} {
			off := ci % 9
			lda, ldb, ldd := c.k+off, c.k+2*off, c.n+off
			a, b := randF32(r, c.m*lda, 1), randF32(r, c.n*ldb, 1)
			bias := randF32(r, c.n, 1)
			if ci%2 == 1 {
				bias = nil
			}
			want := make([]float32, c.m*ldd)
			ref.MatMul(want, ldd, a, lda, b, ldb, bias, c.m, c.n, c.k)
			got, check := guarded(c.m*ldd, 0)
			k.MatMul(got, ldd, at(a, off), lda, at(b, off+1), ldb, bias, c.m, c.n, c.k)
			check(t)
			b16 := make([]uint16, len(b))
			for i, v := range b {
				b16[i] = quant.FloatToHalf(v)
			}
			want16 := make([]float32, c.m*ldd)
			ref.MatMulF16(want16, ldd, a, lda, b16, ldb, bias, c.m, c.n, c.k)
			got16, check16 := guarded(c.m*ldd, 0)
			k.MatMulF16(got16, ldd, at(a, off), lda, at(b16, off+3), ldb, bias, c.m, c.n, c.k)
			check16(t)
			mag := func(i int) float64 {
				row, col := i/ldd, i%ldd
				if col >= c.n {
					return 0
				}
				s := 1e-30
				for kk := 0; kk < c.k; kk++ {
					s += math.Abs(float64(a[row*lda+kk]) * float64(b[col*ldb+kk]))
				}
				if bias != nil {
					s += math.Abs(float64(bias[col]))
				}
				return s
			}
			name := fmt.Sprintf("%dx%dx%d", c.m, c.n, c.k)
			closeTo(t, "MatMul "+name, got, want, tolMatMul, mag)
			closeTo(t, "MatMulF16 "+name, got16, want16, tolMatMul, mag)
		}
	})
}

func TestElementwiseMatchesGeneric(t *testing.T) {
	forEachFast(t, func(t *testing.T, k kernels.Kernels) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, n := range []int{1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 50, 64, 77, 768, 1000} {
			for _, scale := range []float32{1e-3, 1, 8, 40} {
				x := randF32(r, n, scale)
				y := randF32(r, n, scale)
				// Dot
				var mag float64 = 1e-30
				for i := range x {
					mag += math.Abs(float64(x[i]) * float64(y[i]))
				}
				closeTo(t, "Dot", []float32{k.Dot(at(x, 1), y)}, []float32{ref.Dot(x, y)}, tolMatMul, func(int) float64 { return mag })
				for _, op := range []struct {
					name string
					do   func(k kernels.Kernels, v []float32)
				}{
					{"Add", func(k kernels.Kernels, v []float32) { k.Add(v, y) }},
					{"Scale", func(k kernels.Kernels, v []float32) { k.Scale(v, 0.37) }},
					{"Softmax", func(k kernels.Kernels, v []float32) { k.Softmax(v) }},
					{"GELU", func(k kernels.Kernels, v []float32) { k.GELU(v) }},
					{"QuickGELU", func(k kernels.Kernels, v []float32) { k.QuickGELU(v) }},
					{"LayerNorm", func(k kernels.Kernels, v []float32) { k.LayerNorm(v, v, y, x, 1e-5) }},
				} {
					want := append([]float32(nil), x...)
					op.do(ref, want)
					got, check := guarded(n, 12345)
					copy(got, x)
					op.do(k, got)
					check(t)
					tol := tolElement
					if op.name == "LayerNorm" {
						tol = 1e-5
					}
					closeTo(t, fmt.Sprintf("%s n=%d scale=%g", op.name, n, scale), got, want, tol, elementScale(want))
				}
			}
		}
	})
}

func TestF16ToF32MatchesGenericOnAllValues(t *testing.T) {
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	want := make([]float32, len(src))
	ref.F16ToF32(want, src)
	forEachFast(t, func(t *testing.T, k kernels.Kernels) {
		got := make([]float32, len(src))
		k.F16ToF32(got, src)
		for i := range src {
			w, g := want[i], got[i]
			if math.IsNaN(float64(w)) {
				require.True(t, math.IsNaN(float64(g)), "0x%04x", i)
				continue
			}
			require.Equal(t, math.Float32bits(w), math.Float32bits(g), "0x%04x", i)
		}
	})
}

// FuzzQMatMul compares every fast kernel with generic on fuzzer-chosen
// shapes and bytes.
func FuzzQMatMul(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint16(33), false, []byte{1, 2, 3, 0x80, 0x81, 0x7f})
	f.Add(uint8(8), uint8(16), uint16(64), true, []byte{0x7f, 0x81})
	f.Fuzz(func(t *testing.T, m8, n8 uint8, k16 uint16, blocked bool, data []byte) {
		m, n, k := int(m8%17)+1, int(n8%33)+1, int(k16%600)+1
		block := k
		if blocked && k%32 == 0 {
			block = 32
		}
		next := 0
		byteAt := func() int8 {
			if len(data) == 0 {
				return 0
			}
			v := int8(data[next%len(data)])
			next++
			if v == -128 {
				v = -127
			}
			return v
		}
		x, w := make([]int8, m*k), make([]int8, n*k)
		for i := range x {
			x[i] = byteAt()
		}
		for i := range w {
			w[i] = byteAt()
		}
		nb := k / block
		xs, ws := make([]float32, m*nb), make([]float32, n*nb)
		for i := range xs {
			xs[i] = 0.5 + float32(i%3)
		}
		for i := range ws {
			ws[i] = 0.25 + float32(i%5)
		}
		for _, kk := range kernels.Available() {
			if kk.Name() != "generic" {
				compareQMatMul(t, kk, qcase{m, n, k, block}, x, w, xs, ws, nil, int(k16)%64)
			}
		}
	})
}

// FuzzElementwise compares every fast kernel's Softmax, GELU and QuickGELU
// with generic on fuzzer-chosen float32 bit patterns (NaN, ±Inf,
// subnormals and huge values included): same NaN positions and within the
// stated tolerance (closeTo, elementScale).
func FuzzElementwise(f *testing.F) {
	f.Add([]byte{0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf, 0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x7f, 1, 0, 0, 0})
	f.Add([]byte{0x00, 0x00, 0xd0, 0xc2, 0x00, 0x00, 0xb2, 0x42, 0xcd, 0xcc, 0x4c, 0xc2, 0x66, 0x66, 0x74, 0x42})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 4
		if n == 0 || n > 300 {
			return
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		for _, k := range kernels.Available() {
			if k.Name() == "generic" {
				continue
			}
			for _, op := range []struct {
				name string
				do   func(k kernels.Kernels, v []float32)
			}{
				{"Softmax", func(k kernels.Kernels, v []float32) { k.Softmax(v) }},
				{"GELU", func(k kernels.Kernels, v []float32) { k.GELU(v) }},
				{"QuickGELU", func(k kernels.Kernels, v []float32) { k.QuickGELU(v) }},
			} {
				want, got := append([]float32(nil), x...), append([]float32(nil), x...)
				op.do(ref, want)
				op.do(k, got)
				closeTo(t, fmt.Sprintf("%s %s", k.Name(), op.name), got, want, tolElement, elementScale(want))
			}
		}
	})
}
