package amd64

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels/generic"
)

// floatKernels is the part of kernels.Kernels whose float routines differ
// between the amd64 tiers (avxvnni inherits every one of avx2's).
type floatKernels interface {
	Name() string
	GELU(x []float32)
	QuickGELU(x []float32)
	Softmax(x []float32)
	LayerNorm(dst, x, gamma, beta []float32, eps float32)
	Quantize(dst []int8, scales []float32, x []float32, block int)
	MatMul(dst []float32, ldd int, x []float32, lda int, w []float32, ldb int, bias []float32, m, n, k int)
}

// forFloatTiers runs f on AVX2 and, when this CPU runs it, AVX512VNNI;
// otherwise it says that the AVX-512 routines were skipped.
func forFloatTiers(t *testing.T, f func(t *testing.T, k floatKernels)) {
	needAVX2(t)
	for _, k := range []floatKernels{AVX2{}, AVX512VNNI{}} {
		t.Run(k.Name(), func(t *testing.T) {
			if k.Name() == "avx512vnni" && !hasAVX512VNNI() {
				t.Skip("CPU lacks AVX-512F/BW/VL/VNNI or the OS does not save the ZMM state: avx512vnni float routines not run")
			}
			f(t, k)
		})
	}
}

// denseInputs spans the float32 range the element-wise functions see, plus
// the special values.
func denseInputs() []float32 {
	var xs []float32
	for v := -20.0; v <= 20; v += 1.0 / 512 {
		xs = append(xs, float32(v))
	}
	for e := -40; e <= 38; e++ {
		p := float32(math.Pow(10, float64(e)))
		xs = append(xs, p, -p, 3*p, -7*p)
	}
	return append(xs, 0, float32(math.Copysign(0, -1)), 30, -30, 88, -88, 100, -104, 1e30, -1e30,
		math.MaxFloat32, -math.MaxFloat32, 1e-45, -1e-45,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
}

// ulpDiff is the distance between two float32 values in units in the last
// place (0 for equal values and for two NaNs).
func ulpDiff(a, b float32) float64 {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) {
		if math.IsNaN(float64(a)) && math.IsNaN(float64(b)) {
			return 0
		}
		return math.Inf(1)
	}
	if a == b {
		return 0
	}
	ord := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u&(1<<31) != 0 {
			return -(u &^ (1 << 31))
		}
		return u
	}
	return math.Abs(float64(ord(a) - ord(b)))
}

// TestElementwiseAgainstGenericDense checks GELU, QuickGELU against generic
// on a dense grid and the special values: same NaN/Inf/zero behaviour, and
// at most 2 ulp apart (the stated tolerance, 2e-6 relative, is ~30 ulp).
func TestElementwiseAgainstGenericDense(t *testing.T) {
	forFloatTiers(t, func(t *testing.T, k floatKernels) {
		elementwiseAgainstGenericDense(t, k)
	})
}

func elementwiseAgainstGenericDense(t *testing.T, k floatKernels) {
	var g generic.Kernels
	in := denseInputs()
	for _, op := range []struct {
		name string
		fast func([]float32)
		ref  func([]float32)
	}{{"GELU", k.GELU, g.GELU}, {"QuickGELU", k.QuickGELU, g.QuickGELU}} {
		got, want := append([]float32(nil), in...), append([]float32(nil), in...)
		op.fast(got)
		op.ref(want)
		worst := 0.0
		for i := range in {
			d := ulpDiff(got[i], want[i])
			// below the 1e-7 absolute part of the tolerance ulps mean nothing
			if math.Abs(float64(want[i])) < 1e-7 && math.Abs(float64(got[i]-want[i])) <= 1e-7 {
				continue
			}
			require.LessOrEqual(t, d, 2.0, "%s(%v) = %v, generic %v", op.name, in[i], got[i], want[i])
			worst = max(worst, d)
		}
		t.Logf("%s: worst %.0f ulp from generic over %d inputs", op.name, worst, len(in))
	}
}

// TestSoftmaxSpecial checks rows with -Inf (masked attention), +Inf and NaN.
func TestSoftmaxSpecial(t *testing.T) {
	forFloatTiers(t, softmaxSpecial)
}

func softmaxSpecial(t *testing.T, k floatKernels) {
	var g generic.Kernels
	inf := float32(math.Inf(1))
	for _, row := range [][]float32{
		{1, 2, 3, 4, 5, -inf, -inf, -inf, 0.5},
		{-inf, -inf, -inf, -inf, -inf},
		{1, inf, 2, 3, 4, 5},
		{1, 2, float32(math.NaN()), 3, 4},
		{-100, 0, -700, -1e30, 1, 2, 3, 4},
		// exponentials in and around float32's subnormal range
		{0, -87, -88, -90, -95, -100, -103, -103.9, -103.98, -104.5, -110, -200, 0, 0, 0, 0},
	} {
		got, want := append([]float32(nil), row...), append([]float32(nil), row...)
		k.Softmax(got)
		g.Softmax(want)
		for i := range row {
			require.LessOrEqual(t, ulpDiff(got[i], want[i]), 1.0, "row %v: [%d] %v vs generic %v", row, i, got[i], want[i])
		}
	}
}

// TestSoftmaxDense compares Softmax with generic on random rows of every
// length up to 80 (the assembly does 8 lanes, the rest is Go) and spreads
// up to 100: at most 2 ulp apart.
func TestSoftmaxDense(t *testing.T) {
	forFloatTiers(t, softmaxDense)
}

func softmaxDense(t *testing.T, k floatKernels) {
	var g generic.Kernels
	r := rand.New(rand.NewPCG(21, 22))
	worst := 0.0
	for n := 1; n <= 80; n++ {
		for _, spread := range []float64{0.01, 1, 10, 100} {
			row := make([]float32, n)
			for i := range row {
				row[i] = float32((r.Float64()*2 - 1) * spread)
			}
			got, want := append([]float32(nil), row...), append([]float32(nil), row...)
			k.Softmax(got)
			g.Softmax(want)
			for i := range row {
				if want[i] < 1e-30 && got[i] < 1e-30 {
					continue // both underflow: ulps of subnormals mean nothing here
				}
				d := ulpDiff(got[i], want[i])
				require.LessOrEqual(t, d, 2.0, "n=%d spread=%g [%d]: %v vs generic %v", n, spread, i, got[i], want[i])
				worst = max(worst, d)
			}
		}
	}
	t.Logf("Softmax: worst %.0f ulp from generic", worst)
}

// TestQuantizeSpecial covers the blocks that leave the assembly path:
// zero, NaN, ±Inf, subnormal and tiny maxima.
func TestQuantizeSpecial(t *testing.T) {
	forFloatTiers(t, quantizeSpecial)
}

func quantizeSpecial(t *testing.T, k floatKernels) {
	var g generic.Kernels
	inf := float32(math.Inf(1))
	sub := math.Float32frombits(5) // subnormal: 127/amax overflows
	for _, block := range [][]float32{
		{0, 0, 0, 0, 0, 0, 0, 0, 0},
		{1, 2, inf, 3, 4, 5, 6, 7, 8},
		{1, 2, -inf, 3, 4, 5, 6, 7, 8},
		{1, 2, float32(math.NaN()), 3, 4, 5, 6, 7, 8},
		{sub, 0, -sub, sub, 0, 0, 0, 0, 0},
		{1e-37, -3e-38, 0, 1e-38, 5e-37, 0, 0, 0, 0},
		{math.MaxFloat32, -math.MaxFloat32, 1, 0, -1, 1e38, 2, 3, 4},
	} {
		gq, gs := make([]int8, len(block)), make([]float32, 1)
		wq, ws := make([]int8, len(block)), make([]float32, 1)
		k.Quantize(gq, gs, block, len(block))
		g.Quantize(wq, ws, block, len(block))
		assert.Equal(t, wq, gq, "%v", block)
		assert.Equal(t, math.Float32bits(ws[0]), math.Float32bits(gs[0]), "scale of %v", block)
	}
}

// TestLayerNormLargeMean checks the float64 statistics on a row whose mean
// dwarfs its spread.
func TestLayerNormLargeMean(t *testing.T) {
	forFloatTiers(t, layerNormLargeMean)
}

func layerNormLargeMean(t *testing.T, k floatKernels) {
	var g generic.Kernels
	r := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, 771)
	gamma, beta := make([]float32, len(x)), make([]float32, len(x))
	for i := range x {
		x[i] = 1000 + float32(r.NormFloat64())*1e-2
		gamma[i], beta[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	got, want := make([]float32, len(x)), make([]float32, len(x))
	k.LayerNorm(got, x, gamma, beta, 1e-5)
	g.LayerNorm(want, x, gamma, beta, 1e-5)
	for i := range x {
		require.LessOrEqual(t, ulpDiff(got[i], want[i]), 2.0, "[%d] %v vs generic %v", i, got[i], want[i])
	}
}

// TestAVX512FloatMatchesAVX2 checks that the 16-lane routines do per lane
// what the 8-lane ones do: QuickGELU bit for bit on every element AVX2 runs
// in assembly (all but the last len mod 8, which it leaves to generic), on
// the dense grid at every offset mod 16, so every opmask tail occurs.
func TestAVX512FloatMatchesAVX2(t *testing.T) {
	if !hasAVX512VNNI() {
		t.Skip("CPU lacks AVX-512F/BW/VL/VNNI or the OS does not save the ZMM state: avx512vnni float routines not run")
	}
	in := denseInputs()
	for off := 0; off < 16; off++ {
		x := in[off:]
		got, want := append([]float32(nil), x...), append([]float32(nil), x...)
		AVX512VNNI{}.QuickGELU(got)
		AVX2{}.QuickGELU(want)
		n8 := len(x) &^ 7
		for i := 0; i < n8; i++ {
			require.Equal(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "QuickGELU(%v) at offset %d", x[i], off)
		}
	}
}

// TestLayerNormDense compares LayerNorm with generic on random rows of every
// length up to 80 and a few model widths (the AVX-512 passes mask the last
// n mod 8 elements), in place and not: at most 2 ulp apart.
func TestLayerNormDense(t *testing.T) {
	forFloatTiers(t, func(t *testing.T, k floatKernels) {
		var g generic.Kernels
		r := rand.New(rand.NewPCG(23, 24))
		lengths := []int{512, 768, 1023, 1024, 1025}
		for n := 1; n <= 80; n++ {
			lengths = append(lengths, n)
		}
		worst := 0.0
		for _, n := range lengths {
			x, gamma, beta := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64()*3 + 0.5)
				gamma[i], beta[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			want := make([]float32, n)
			g.LayerNorm(want, x, gamma, beta, 1e-5)
			got := append([]float32(nil), x...)
			k.LayerNorm(got, got, gamma, beta, 1e-5)
			for i := range x {
				d := ulpDiff(got[i], want[i])
				require.LessOrEqual(t, d, 2.0, "n=%d [%d]: %v vs generic %v", n, i, got[i], want[i])
				worst = max(worst, d)
			}
		}
		t.Logf("LayerNorm: worst %.0f ulp from generic", worst)
	})
}
