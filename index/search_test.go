package index

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels"
)

// bruteForce ranks every stored (dequantised) vector by its float64
// cosine similarity with q.
func bruteForce(x *Index, q []float32, k int) []Hit {
	hits := make([]Hit, x.Len())
	v := make([]float32, x.Dim())
	for i := range hits {
		x.Vector(i, v)
		var s, vv, qq float64
		for j := range v {
			s += float64(v[j]) * float64(q[j])
			vv += float64(v[j]) * float64(v[j])
			qq += float64(q[j]) * float64(q[j])
		}
		hits[i] = Hit{Index: i, Path: x.Entry(i).Path, Score: float32(s / math.Sqrt(vv*qq))}
	}
	slices.SortStableFunc(hits, func(a, b Hit) int { return cmp.Compare(b.Score, a.Score) })
	return hits[:min(k, len(hits))]
}

func TestSearchMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dt := range []DType{Int8, Float16} {
		for _, n := range []int{1, 3, 4, 7, 2*chunkRows + 5} {
			x := randomIndex(t, n, 64, dt, uint64(n))
			queries := make([][]float32, 5)
			for i := range queries {
				queries[i] = unit(r, 64)
			}
			// A query equal to a stored vector must find it first.
			queries[4] = x.Vector(n/2, nil)
			for _, ks := range kernels.Available() {
				for _, threads := range []int{1, 2, 3} {
					for _, k := range []int{1, 10} {
						got, err := x.SearchBatch(queries, k, SearchOptions{Kernels: ks, Threads: threads})
						require.NoError(t, err)
						require.Len(t, got, len(queries))
						for qi, q := range queries {
							want := bruteForce(x, q, k)
							require.Len(t, got[qi], len(want), "%v n=%d %s", dt, n, ks.Name())
							for i := range want {
								// The rescored value equals the exact dot product
								// up to float32 rounding; the order is the
								// exact order unless two scores are that close.
								assert.InDelta(t, want[i].Score, got[qi][i].Score, 1e-5, "%v n=%d %s q%d rank %d", dt, n, ks.Name(), qi, i)
								if i+1 < len(want) && want[i].Score-want[i+1].Score > 1e-5 {
									assert.Equal(t, want[i].Index, got[qi][i].Index, "%v n=%d %s q%d rank %d", dt, n, ks.Name(), qi, i)
								}
								assert.Equal(t, x.Entry(got[qi][i].Index).Path, got[qi][i].Path)
							}
						}
						assert.Equal(t, n/2, got[4][0].Index)
						one, err := x.Search(queries[0], k, SearchOptions{Kernels: ks, Threads: threads})
						require.NoError(t, err)
						assert.Equal(t, got[0], one, "a single query gives what a batch gives")
					}
				}
			}
		}
	}
}

func TestSearchTies(t *testing.T) {
	x, err := New(ModelInfo{Fingerprint: "f", Dim: 32}, Int8)
	require.NoError(t, err)
	v := make([]float32, 32)
	v[0] = 1
	for _, p := range []string{"/c", "/a", "/b", "/d", "/e"} {
		require.NoError(t, x.Add(Entry{Path: p}, v))
	}
	hits, err := x.Search(v, 3, SearchOptions{Threads: 2})
	require.NoError(t, err)
	require.Len(t, hits, 3)
	for i, h := range hits {
		assert.Equal(t, i, h.Index, "equal scores keep index order")
		assert.Equal(t, float32(1), h.Score)
	}
}

func TestSearchErrors(t *testing.T) {
	x := randomIndex(t, 10, 16, Int8, 1)
	nan := make([]float32, 16)
	nan[2] = float32(math.NaN())
	tests := []struct {
		name    string
		queries [][]float32
		k       int
		err     string
	}{
		{"k zero", [][]float32{make([]float32, 16)}, 0, "k = 0"},
		{"no query", nil, 5, "no query"},
		{"wrong length", [][]float32{make([]float32, 15)}, 5, "15 values"},
		{"nan", [][]float32{nan}, 5, "non-finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := x.SearchBatch(tc.queries, tc.k, SearchOptions{})
			require.ErrorContains(t, err, tc.err)
		})
	}
	empty, err := New(ModelInfo{Fingerprint: "f", Dim: 16}, Int8)
	require.NoError(t, err)
	hits, err := empty.Search(make([]float32, 16), 5, SearchOptions{})
	require.NoError(t, err)
	assert.Empty(t, hits)
}

func TestTopK(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, k := range []int{1, 2, 5, 64} {
		h := topK{max: k}
		var all []cand
		for i := range 1000 {
			c := cand{score: float32(r.IntN(50)), idx: int32(i)}
			all = append(all, c)
			h.push(c)
		}
		slices.SortFunc(all, func(a, b cand) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.idx, b.idx)
		})
		got := slices.Clone(h.h)
		slices.SortFunc(got, func(a, b cand) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.idx, b.idx)
		})
		assert.Equal(t, all[:k], got, "k=%d", k)
	}
}
