package runtime

import (
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/internal/randclip"
)

var (
	tinyOnce sync.Once
	tinyDir  string
	tinyErr  error
)

// tinyModel returns the path of a random tiny CLIP converted with the
// given quantisation ("f32", "f16", "q8" or "q8b64" for block 64); the
// files are made once per test binary.
func tinyModel(t testing.TB, q string) string {
	t.Helper()
	tinyOnce.Do(func() {
		tinyDir, tinyErr = os.MkdirTemp("", "clipinfer-runtime-test-")
		if tinyErr != nil {
			return
		}
		src := filepath.Join(tinyDir, "tiny.safetensors")
		if tinyErr = randclip.WriteSafetensors(src, randclip.Tiny, 1); tinyErr != nil {
			return
		}
		for _, c := range []struct {
			name, q string
			block   int
		}{{"f32", "f32", 0}, {"f16", "f16", 0}, {"q8", "q8", 0}, {"q8b64", "q8", 64}} {
			_, tinyErr = convert.Convert(src, filepath.Join(tinyDir, c.name+".clip"), convert.Options{Quant: c.q, Block: c.block})
			if tinyErr != nil {
				return
			}
		}
	})
	require.NoError(t, tinyErr)
	return filepath.Join(tinyDir, q+".clip")
}

var (
	sharedOnce sync.Once
	sharedDir  string
	sharedPath string
	sharedErr  error
)

// SharedTestModel converts the small random test checkpoint
// (testdata/models/openai-qgelu.pt) once per test binary and returns the
// file's path, for the examples in package runtime_test: the conversion is
// nearly all of an example's cost. TestMain removes the file.
func SharedTestModel() (string, error) {
	sharedOnce.Do(func() {
		if sharedDir, sharedErr = os.MkdirTemp("", "clipinfer-example-"); sharedErr != nil {
			return
		}
		sharedPath = filepath.Join(sharedDir, "model.clip")
		_, sharedErr = convert.Convert("../testdata/models/openai-qgelu.pt", sharedPath, convert.Options{})
	})
	return sharedPath, sharedErr
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyDir != "" {
		os.RemoveAll(tinyDir)
	}
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// skipUnderRace skips an exactness test under the race detector, which
// runs its single-goroutine numerics many times slower and finds nothing
// there; the concurrent paths (the parallel scheduler, pooled scratch,
// concurrent callers) have tests of their own that do run under it.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("exactness test, slow under the race detector; concurrency is covered by parallel_test.go and TestConcurrentUse")
	}
}

func openTest(t testing.TB, path string, opt Options) *Model {
	t.Helper()
	m, err := Open(path, opt)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}
