package runtime

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels"
)

// TestGoldenEveryTier runs the q8 fixture models on every kernel compiled
// for this architecture against the first assembly tier below the best
// (avx2 on amd64, neon on arm64; generic elsewhere). The int32 sums of
// QMatMul are bit-identical on every tier, so the towers differ only by the
// float kernels' rounding: cosine ≥ 0.999999. Tiers the CPU lacks are
// skipped with what it lacks.
func TestGoldenEveryTier(t *testing.T) {
	skipUnderRace(t)
	refName := "generic"
	for _, im := range kernels.List() {
		if im.Available && (im.Name() == "avx2" || im.Name() == "neon") {
			refName = im.Name()
		}
	}
	for _, name := range goldenModels {
		g := loadGolden(t, name)
		path := convertGolden(t, g, "q8")
		var ids [][]int32
		for _, tx := range g.Texts {
			ids = append(ids, tx.IDs)
		}
		var pix [][]float32
		for _, im := range g.Images {
			pix = append(pix, readNpy(t, filepath.Join(testdata, "golden", im.Pixels)))
		}
		embed := func(t *testing.T, kernel string) (text, image [][]float32) {
			m := openTest(t, path, Options{Kernel: kernel})
			text, err := m.EmbedTokens(ids)
			require.NoError(t, err)
			image, err = m.EmbedPixels(pix)
			require.NoError(t, err)
			return text, image
		}
		wantT, wantI := embed(t, refName)
		for _, im := range kernels.List() {
			t.Run(name+"/"+im.Name(), func(t *testing.T) {
				if !im.Available {
					t.Skipf("%s: this machine lacks %s", im.Name(), im.Why)
				}
				gotT, gotI := embed(t, im.Name())
				worst := 1.0
				for i := range wantT {
					worst = min(worst, cosine(wantT[i], gotT[i]))
				}
				for i := range wantI {
					worst = min(worst, cosine(wantI[i], gotI[i]))
				}
				assert.GreaterOrEqual(t, worst, 0.999999, "worst cosine to %s", refName)
				t.Logf("%s %s: worst cosine to %s %.9f", name, im.Name(), refName, worst)
			})
		}
	}
}
