package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEffectiveBlock(t *testing.T) {
	for _, c := range []struct{ cols, block, want int }{
		{768, 0, 768}, {768, 64, 64}, {768, 768, 768}, {768, 1000, 768}, {100, 64, 100}, {128, 32, 32}, {5, -1, 5},
	} {
		assert.Equal(t, c.want, EffectiveBlock(c.cols, c.block), "%+v", c)
	}
}

func TestQuantizeBoundsAndError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, block := range []int{0, 32, 64} {
		rows, cols := 17, 256
		w := make([]float32, rows*cols)
		for i := range w {
			w[i] = float32(r.NormFloat64()) * 0.02
		}
		w[5] = 0.9 // an outlier
		m, err := Quantize(w, rows, cols, block)
		require.NoError(t, err)
		require.NoError(t, m.Validate())
		deq := m.Dequantize()
		nb := m.BlocksPerRow()
		for i, v := range w {
			s := m.Scales[(i/cols)*nb+(i%cols)/m.Block]
			// Round to nearest: every element within half a step.
			require.LessOrEqual(t, math.Abs(float64(v-deq[i])), float64(s)/2*1.0001, "element %d", i)
		}
		e := Measure(w, m)
		assert.Less(t, e.Relative, 0.05, "block %d", block)
		assert.Greater(t, e.SNR, 25.0)
	}
}

func TestBlocksBeatRowsWithOutliers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rows, cols := 8, 512
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	for row := 0; row < rows; row++ {
		w[row*cols+7] = 60 // one outlier per row spoils a per-row scale
	}
	perRow, err := Quantize(w, rows, cols, 0)
	require.NoError(t, err)
	blocked, err := Quantize(w, rows, cols, 32)
	require.NoError(t, err)
	assert.Less(t, Measure(w, blocked).Relative, Measure(w, perRow).Relative)
}

func TestQuantizeRejectsBadInput(t *testing.T) {
	_, err := Quantize([]float32{1, 2, 3}, 2, 2, 0)
	assert.ErrorContains(t, err, "3 values")
	_, err = Quantize([]float32{1, float32(math.NaN())}, 1, 2, 0)
	assert.ErrorContains(t, err, "non-finite")
	m := &Matrix{Rows: 1, Cols: 2, Block: 2, Data: []int8{-128, 0}, Scales: []float32{1}}
	assert.ErrorContains(t, m.Validate(), "-128")
}

func ExampleQuantize() {
	w := []float32{0.5, -1, 0.25, 2}
	m, _ := Quantize(w, 1, 4, 0)
	fmt.Println(m.Data, m.Scales[0] == 2.0/127)
	fmt.Printf("relative error %.4f\n", Measure(w, m).Relative)
	// Output:
	// [32 -64 16 127] true
	// relative error 0.0039
}
