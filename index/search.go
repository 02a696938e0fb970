package index

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/clipinfer/clipinfer/kernels"
	"github.com/clipinfer/clipinfer/quant"
)

// Hit is one search result.
type Hit struct {
	// Index is the entry's position in the index.
	Index int `json:"index"`
	// Path is the entry's path.
	Path string `json:"path"`
	// Score is the cosine similarity of the query and the stored vector.
	Score float32 `json:"score"`
}

// SearchOptions tune Search and SearchBatch. The zero value uses
// kernels.Default and one goroutine per CPU.
type SearchOptions struct {
	// Kernels runs the scan; nil means kernels.Default().
	Kernels kernels.Kernels
	// Threads is the number of goroutines scanning; 0 means GOMAXPROCS.
	Threads int
}

// minRows is the least number of query rows handed to the kernels: the
// AVX2 MatMulF16 tiles 3 rows at a time and leaves smaller products to the
// generic code, so a single query is repeated (memory traffic, not
// arithmetic, bounds the scan, so the repeated rows cost little). QMatMul
// takes one row as it is.
var minRows = map[DType]int{Int8: 1, Float16: 3}

// chunkRows is how many index vectors one kernel call scores: 2048 int8
// rows of 512 values are 1 MiB, which stays in L2 while every query of a
// batch passes over it.
const chunkRows = 2048

// Search returns the k entries most similar to query (an embedding of Dim
// values, normalised like the stored ones), best first; ties go to the
// lower index. Fewer than k hits come back when the index is smaller.
func (x *Index) Search(query []float32, k int, opt SearchOptions) ([]Hit, error) {
	hits, err := x.SearchBatch([][]float32{query}, k, opt)
	if err != nil {
		return nil, err
	}
	return hits[0], nil
}

// SearchBatch is Search for several queries in one pass over the index.
//
// Int8 indexes are scanned with kernels.Kernels.QMatMul: the queries are
// quantised to int8 with one scale each, and the kernel scores a chunk of
// index vectors against all queries at once; chunks are shared out among
// goroutines, each keeping a bounded min-heap of the best candidates per
// query. Float16 indexes are scanned the same way with
// kernels.Kernels.MatMulF16. The best 2k+16 candidates are then rescored
// with the cosine similarity of the float query and the stored vectors
// (removing the query's quantisation error) and the best k returned, so the
// scores do not depend on the kernel, the batch or the number of
// goroutines.
func (x *Index) SearchBatch(queries [][]float32, k int, opt SearchOptions) ([][]Hit, error) {
	d := x.model.Dim
	if k < 1 {
		return nil, fmt.Errorf("index: k = %d, want at least 1", k)
	}
	if len(queries) == 0 {
		return nil, errors.New("index: no query")
	}
	for i, q := range queries {
		if len(q) != d {
			return nil, fmt.Errorf("index: query %d has %d values, index holds %d", i, len(q), d)
		}
		for _, v := range q {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("index: query %d has a non-finite value", i)
			}
		}
	}
	ks := opt.Kernels
	if ks == nil {
		var err error
		if ks, err = kernels.Default(); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = goruntime.GOMAXPROCS(0)
	}
	n := x.Len()
	keep := max(min(2*k+16, n), 1)

	s := &scan{x: x, ks: ks, nq: len(queries), keep: keep}
	s.prepare(queries)
	nChunks := (n + chunkRows - 1) / chunkRows
	threads = max(1, min(threads, nChunks))
	heaps := make([][]topK, threads)
	var next atomic.Int64
	var wg sync.WaitGroup
	for t := range threads {
		heaps[t] = make([]topK, s.nq)
		for q := range heaps[t] {
			heaps[t][q] = topK{max: keep, h: make([]cand, 0, keep)}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			scores := make([]float32, s.rows*chunkRows)
			for {
				c := int(next.Add(1) - 1)
				if c >= nChunks {
					return
				}
				s.chunk(scores, heaps[t], c*chunkRows, min(n, (c+1)*chunkRows))
			}
		}()
	}
	wg.Wait()

	out := make([][]Hit, s.nq)
	for q := range out {
		var all []cand
		for t := range heaps {
			all = append(all, heaps[t][q].h...)
		}
		s.rescore(all, queries[q])
		slices.SortFunc(all, func(a, b cand) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return cmp.Compare(a.idx, b.idx)
		})
		all = all[:min(k, len(all))]
		hits := make([]Hit, len(all))
		for i, c := range all {
			hits[i] = Hit{Index: int(c.idx), Path: x.entries[c.idx].Path, Score: c.score}
		}
		out[q] = hits
	}
	return out, nil
}

// scan holds the prepared queries of one SearchBatch.
type scan struct {
	x    *Index
	ks   kernels.Kernels
	nq   int // queries
	rows int // query rows given to the kernel (see minRows)
	keep int
	qi   []int8    // rows×Dim quantised queries (int8 indexes)
	qs   []float32 // rows scales
	qf   []float32 // rows×Dim float queries (f16 indexes)
}

func (s *scan) prepare(queries [][]float32) {
	d := s.x.model.Dim
	s.rows = max(minRows[s.x.dtype], s.nq)
	switch s.x.dtype {
	case Int8:
		s.qi, s.qs = make([]int8, s.rows*d), make([]float32, s.rows)
		for r := range s.rows {
			q := queries[min(r, s.nq-1)]
			s.ks.Quantize(s.qi[r*d:(r+1)*d], s.qs[r:r+1], q, d)
		}
	case Float16:
		s.qf = make([]float32, s.rows*d)
		for r := range s.rows {
			copy(s.qf[r*d:], queries[min(r, s.nq-1)])
		}
	}
}

// chunk scores index rows [lo, hi) against every query and offers them to
// the heaps.
func (s *scan) chunk(scores []float32, heaps []topK, lo, hi int) {
	x, d, c := s.x, s.x.model.Dim, hi-lo
	switch x.dtype {
	case Int8:
		s.ks.QMatMul(scores, c, s.qi, s.qs, x.q[lo*d:hi*d], x.scales[lo:hi], nil, s.rows, c, d, d)
	case Float16:
		s.ks.MatMulF16(scores, c, s.qf, d, x.h[lo*d:hi*d], d, nil, s.rows, c, d)
	}
	for q := range s.nq {
		h := &heaps[q]
		row := scores[q*c : (q+1)*c]
		for j, v := range row {
			if len(h.h) < h.max || v >= h.h[0].score {
				h.push(cand{score: v, idx: int32(lo + j)})
			}
		}
	}
}

// rescore replaces the kernel's scores by the exact cosine similarity of
// the float query and the stored vectors, computed the same way whatever
// the batch or kernel (for int8, this also removes the query's
// quantisation error, and the score of a stored vector against itself is
// 1, not 1 ± its quantisation error).
func (s *scan) rescore(cs []cand, q []float32) {
	x, d := s.x, s.x.model.Dim
	var qq float64
	for _, v := range q {
		qq += float64(v) * float64(v)
	}
	for i := range cs {
		r := int(cs[i].idx)
		var qv, vv float64
		switch x.dtype {
		case Int8:
			for j, v := range x.q[r*d : (r+1)*d] {
				qv += float64(q[j]) * float64(v)
				vv += float64(v) * float64(v)
			}
		case Float16:
			for j, h := range x.h[r*d : (r+1)*d] {
				v := float64(quant.HalfToFloat(h))
				qv += float64(q[j]) * v
				vv += v * v
			}
		}
		cs[i].score = 0
		if qq > 0 && vv > 0 {
			cs[i].score = float32(qv / math.Sqrt(qq*vv))
		}
	}
}

// cand is a candidate hit.
type cand struct {
	score float32
	idx   int32
}

// topK keeps the max best candidates in a min-heap (worst at h[0]). Among
// equal scores the lower index is better.
type topK struct {
	max int
	h   []cand
}

func worse(a, b cand) bool { return a.score < b.score || (a.score == b.score && a.idx > b.idx) }

func (t *topK) push(c cand) {
	if len(t.h) < t.max {
		t.h = append(t.h, c)
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	if !worse(t.h[0], c) {
		return
	}
	t.h[0] = c
	i, n := 0, len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && worse(t.h[r], t.h[l]) {
			m = r
		}
		if !worse(t.h[m], t.h[i]) {
			break
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}
