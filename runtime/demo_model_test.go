package runtime

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/analysis"
	"github.com/clipinfer/clipinfer/kernels"
)

// TestBundledDemoModel runs the committed demo model (what `make demo`
// runs) on its 24 committed images with every kernel this CPU has: each
// image is classified zero-shot against the 24 names, and every kernel
// must give the same answers. The model names 22 of 24 correctly on the
// development machine (chance: one); the bar leaves room for nothing but a
// real regression.
func TestBundledDemoModel(t *testing.T) {
	skipUnderRace(t)
	paths, err := filepath.Glob("../models/demo/*.png")
	require.NoError(t, err)
	require.Len(t, paths, 24, "models/demo holds the 24 demo images")
	names := make([]string, len(paths))
	prompts := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.ReplaceAll(strings.TrimSuffix(filepath.Base(p), ".png"), "-", " ")
		prompts[i] = "a picture of " + names[i]
	}

	var first []int
	for _, k := range kernels.Available() {
		t.Run(k.Name(), func(t *testing.T) {
			m, err := Open("../models/emoji-clip-q8.clip", Options{Kernel: k.Name(), Threads: 2})
			require.NoError(t, err)
			defer m.Close()
			labels, err := m.EmbedTexts(prompts)
			require.NoError(t, err)
			imgs, err := m.EmbedImageFiles(paths)
			require.NoError(t, err)

			pred, correct := make([]int, len(imgs)), 0
			for i, img := range imgs {
				probs := m.ZeroShot(img, labels)
				pred[i] = analysis.TopK(probs, 1)[0]
				if pred[i] == i {
					correct++
				} else {
					t.Logf("%s → %s (%.2f)", names[i], names[pred[i]], probs[pred[i]])
				}
			}
			assert.GreaterOrEqual(t, correct, 20, "demo images named correctly out of 24")
			if first == nil {
				first = pred
			} else {
				assert.Equal(t, first, pred, "every kernel names the images alike")
			}
		})
	}
}
