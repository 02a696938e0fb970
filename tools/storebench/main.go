// Command storebench measures the PostgreSQL + pgvector store against the
// index file on random vectors: bulk-load and HNSW build time, size on
// disk, top-10 latency and recall@10 against an exact float32 scan, and
// insert throughput through the store's transactional upsert. It starts
// its own throw-away cluster (package pgtest) unless -url is given.
//
//	go run ./tools/storebench -n 100000 -phase all
//	go run ./tools/storebench -n 1000000 -phase load -dir /tmp/sb1m -keep   # long; run with nice
//	go run ./tools/storebench -n 1000000 -phase truth -dir /tmp/sb1m
//	go run ./tools/storebench -n 1000000 -phase query -dir /tmp/sb1m        # under the timing lock
//
// Vectors: -dist clustered (default) draws n/100 random unit centres and
// puts every vector at normalize(centre + g), g ~ N(0, I/d), so vectors of
// one cluster have cosine ≈ 0.5 and queries (drawn the same way) have a
// real neighbourhood, like image embeddings; -dist iid draws independent
// unit vectors, the hardest case for a graph index (all neighbours at
// nearly the same distance). Both are reproducible from -seed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/kernels"
	"github.com/clipinfer/clipinfer/store/pgstore"
	"github.com/clipinfer/clipinfer/store/pgstore/pgtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

var (
	n        = flag.Int("n", 100000, "vectors")
	dim      = flag.Int("dim", 512, "dimension")
	nq       = flag.Int("queries", 200, "queries for latency and recall")
	dist     = flag.String("dist", "clustered", "clustered or iid")
	seed     = flag.Uint64("seed", 1, "random seed")
	phase    = flag.String("phase", "all", "load (bulk load + HNSW build), truth (exact top-10 and the index file, untimed), query (latency and recall of both), insert (upsert throughput), or all")
	dir      = flag.String("dir", "", "cluster folder to keep between phases (default: temporary)")
	keep     = flag.Bool("keep", false, "leave the cluster running at the end (with -dir)")
	efs      = flag.String("ef", "40,100,200,400", "ef_search values to measure")
	insertN  = flag.Int("insert", 20000, "rows upserted in the insert phase")
	batch    = flag.Int("batch", 16, "rows per upsert transaction in the insert phase")
	hnswM    = flag.Int("m", pgstore.DefaultHNSW.M, "HNSW m (links per node) for the load phase's build")
	hnswEfc  = flag.Int("efc", pgstore.DefaultHNSW.EfConstruction, "HNSW ef_construction for the load phase's build")
	settings = flag.String("pgset", "shared_buffers=2GB,maintenance_work_mem=4GB,max_parallel_maintenance_workers=1,fsync=on,full_page_writes=on,synchronous_commit=on", "server settings, comma-separated")
)

// result is one JSON line of output.
type result map[string]any

func emit(r result) {
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

func gen(rng *rand.Rand, centres [][]float32, v []float32) {
	d := len(v)
	s := 1 / math.Sqrt(float64(d))
	var c []float32
	if centres != nil {
		c = centres[rng.IntN(len(centres))]
	}
	var nn float64
	for j := range v {
		x := rng.NormFloat64() * s
		if c != nil {
			x += float64(c[j])
		}
		v[j] = float32(x)
		nn += x * x
	}
	inv := float32(1 / math.Sqrt(nn))
	for j := range v {
		v[j] *= inv
	}
}

// data returns the n vectors (row-major; nil unless withData) and nq
// queries, reproducibly: the centres and the vectors come from one random
// stream, the queries from another.
func data(withData bool) ([]float32, [][]float32) {
	d := *dim
	rng := rand.New(rand.NewPCG(*seed, 7))
	var centres [][]float32
	if *dist == "clustered" {
		centres = make([][]float32, max(1, *n/100))
		for i := range centres {
			centres[i] = make([]float32, d)
			gen(rng, nil, centres[i])
		}
	}
	var all []float32
	if withData {
		all = make([]float32, *n*d)
		for i := range *n {
			gen(rng, centres, all[i*d:(i+1)*d])
		}
	}
	qrng := rand.New(rand.NewPCG(*seed, 8))
	qs := make([][]float32, *nq)
	for i := range qs {
		qs[i] = make([]float32, d)
		gen(qrng, centres, qs[i])
	}
	return all, qs
}

func path(i int) string { return fmt.Sprintf("/bench/%08d.jpg", i) }

// truth is the exact top-10 (float32 dot products of unit vectors) of every
// query, by path.
func truth(all []float32, qs [][]float32) [][]string {
	d := *dim
	ks, _ := kernels.Default()
	a := make([]float32, len(qs)*d)
	for i, q := range qs {
		copy(a[i*d:], q)
	}
	type c struct {
		s float32
		i int
	}
	const chunk = 4096
	best := make([][]c, len(qs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan int)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]float32, len(qs)*chunk)
			local := make([][]c, len(qs))
			for lo := range work {
				hi := min(lo+chunk, *n)
				m := hi - lo
				ks.MatMul(dst, m, a, d, all[lo*d:hi*d], d, nil, len(qs), m, d)
				for q := range qs {
					for j := range m {
						local[q] = append(local[q], c{dst[q*m+j], lo + j})
					}
					slices.SortFunc(local[q], func(x, y c) int {
						if x.s != y.s {
							if x.s > y.s {
								return -1
							}
							return 1
						}
						return x.i - y.i
					})
					local[q] = local[q][:min(10, len(local[q]))]
				}
			}
			mu.Lock()
			for q := range qs {
				best[q] = append(best[q], local[q]...)
			}
			mu.Unlock()
		}()
	}
	for lo := 0; lo < *n; lo += chunk {
		work <- lo
	}
	close(work)
	wg.Wait()
	out := make([][]string, len(qs))
	for q := range qs {
		slices.SortFunc(best[q], func(x, y c) int {
			if x.s != y.s {
				if x.s > y.s {
					return -1
				}
				return 1
			}
			return x.i - y.i
		})
		for _, h := range best[q][:10] {
			out[q] = append(out[q], path(h.i))
		}
	}
	return out
}

func recall(exact [][]string, got [][]index.Hit) float64 {
	hit, total := 0, 0
	for q := range exact {
		set := map[string]bool{}
		for _, p := range exact[q] {
			set[p] = true
		}
		for _, h := range got[q] {
			if set[h.Path] {
				hit++
			}
		}
		total += len(exact[q])
	}
	return float64(hit) / float64(total)
}

func quantiles(ds []time.Duration) (p50, p95 float64) {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(s[len(s)/2]), ms(s[len(s)*95/100])
}

func run() error {
	flag.Parse()
	ctx := context.Background()
	opt := pgtest.Options{Dir: *dir}
	for _, s := range strings.Split(*settings, ",") {
		if s != "" {
			opt.Settings = append(opt.Settings, s)
		}
	}
	var cl *pgtest.Cluster
	url := ""
	if *dir != "" {
		if b, err := os.ReadFile(filepath.Join(*dir, "url")); err == nil {
			url = strings.TrimSpace(string(b))
		}
	}
	if url == "" {
		var err error
		if cl, err = pgtest.Start(opt); err != nil {
			return err
		}
		url = cl.URL
		if *dir != "" {
			os.WriteFile(filepath.Join(*dir, "url"), []byte(url+"\n"), 0o644)
		}
		if !*keep {
			defer cl.Stop()
		}
	}
	model := index.ModelInfo{Fingerprint: fmt.Sprintf("bench:%s:%d:%d:%d", *dist, *n, *dim, *seed), Name: "storebench", Dim: *dim}
	do := func(p string) bool { return *phase == "all" || *phase == p }
	t0 := time.Now()
	all, qs := data(do("load") || do("truth") || do("insert"))
	emit(result{"what": "generate", "n": *n, "dim": *dim, "dist": *dist, "seconds": time.Since(t0).Seconds()})
	s, err := pgstore.Open(ctx, url, pgstore.Options{Model: &model})
	if err != nil {
		return err
	}
	defer s.Close()
	pool, table := s.Pool(), s.Table()
	truthFile := filepath.Join(*dir, "truth.json")
	idxFile := filepath.Join(*dir, "file.idx")
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "storebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		truthFile, idxFile = filepath.Join(tmp, "truth.json"), filepath.Join(tmp, "file.idx")
	}
	if do("truth") {
		// Not timed: the exact answers and the index file for the query
		// phase, which then needs neither the vectors nor this work.
		t := time.Now()
		exact := truth(all, qs)
		b, _ := json.Marshal(exact)
		if err := os.WriteFile(truthFile, b, 0o644); err != nil {
			return err
		}
		x, err := index.New(index.ModelInfo{Fingerprint: "bench", Dim: *dim}, index.Int8)
		if err != nil {
			return err
		}
		d := *dim
		for i := range *n {
			x.Add(index.Entry{Path: path(i), Size: 1, ModTime: 1}, all[i*d:(i+1)*d])
		}
		if err := x.Save(idxFile); err != nil {
			return err
		}
		emit(result{"what": "exact_truth_and_file", "seconds": time.Since(t).Seconds()})
	}

	if do("load") {
		if _, err := pool.Exec(ctx, fmt.Sprintf(`DROP INDEX IF EXISTS %s_hnsw`, table)); err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, fmt.Sprintf(`TRUNCATE %s`, table)); err != nil {
			return err
		}
		t := time.Now()
		d := *dim
		i := 0
		_, err := pool.CopyFrom(ctx, pgx.Identifier{table}, []string{"path", "size", "mtime_ns", "embedding"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == *n {
					return nil, nil
				}
				r := []any{path(i), int64(1000 + i), int64(i), pgvector.NewHalfVector(all[i*d : (i+1)*d])}
				i++
				return r, nil
			}))
		if err != nil {
			return err
		}
		copySecs := time.Since(t).Seconds()
		emit(result{"what": "copy", "rows": *n, "seconds": copySecs, "rows_per_s": float64(*n) / copySecs})
		t = time.Now()
		if _, err := pool.Exec(ctx, `SET maintenance_work_mem = '4GB'`); err != nil {
			return err
		}
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		conn.Exec(ctx, `SET maintenance_work_mem = '4GB'`)
		if _, err := conn.Exec(ctx, pgstore.CreateHNSW(table, pgstore.HNSW{M: *hnswM, EfConstruction: *hnswEfc})); err != nil {
			return err
		}
		conn.Release()
		emit(result{"what": "hnsw_build", "rows": *n, "seconds": time.Since(t).Seconds(), "m": *hnswM, "ef_construction": *hnswEfc})
		pool.Exec(ctx, `VACUUM ANALYZE `+table)
		var tb, ib int64
		pool.QueryRow(ctx, `SELECT pg_table_size($1::regclass), pg_relation_size($2::regclass)`, table, table+"_hnsw").Scan(&tb, &ib)
		var pk int64
		pool.QueryRow(ctx, `SELECT pg_indexes_size($1::regclass) - pg_relation_size($2::regclass)`, table, table+"_hnsw").Scan(&pk)
		emit(result{"what": "size", "table_bytes": tb, "hnsw_bytes": ib, "btree_bytes": pk})
	}

	if do("query") {
		var exact [][]string
		b, err := os.ReadFile(truthFile)
		if err != nil {
			return fmt.Errorf("run -phase truth first: %w", err)
		}
		if err := json.Unmarshal(b, &exact); err != nil {
			return err
		}
		// Warm the caches once.
		if _, err := s.SearchBatch(ctx, qs[:min(20, len(qs))], 10); err != nil {
			return err
		}
		for _, e := range strings.Split(*efs, ",") {
			ef, err := strconv.Atoi(e)
			if err != nil {
				return err
			}
			se, err := pgstore.Open(ctx, url+"&ef_search="+e, pgstore.Options{Model: &model})
			if err != nil {
				return err
			}
			got := make([][]index.Hit, len(qs))
			lat := make([]time.Duration, len(qs))
			for i, q := range qs {
				t := time.Now()
				h, err := se.SearchBatch(ctx, [][]float32{q}, 10)
				if err != nil {
					return err
				}
				lat[i] = time.Since(t)
				got[i] = h[0]
			}
			se.Close()
			p50, p95 := quantiles(lat)
			emit(result{"what": "pg_hnsw_search", "rows": *n, "ef_search": ef, "k": 10, "recall_at_10": recall(exact, got), "p50_ms": p50, "p95_ms": p95})
		}
		if err := fileCompare(idxFile, qs, exact); err != nil {
			return err
		}
	}

	if do("insert") {
		d := *dim
		rng := rand.New(rand.NewPCG(*seed, 99))
		es := make([]index.Entry, *batch)
		vs := make([][]float32, *batch)
		for i := range vs {
			vs[i] = make([]float32, d)
		}
		t := time.Now()
		for i := 0; i < *insertN; i += *batch {
			for j := range es {
				es[j] = index.Entry{Path: fmt.Sprintf("/bench/new/%08d.jpg", i+j), Size: 1, ModTime: int64(i + j)}
				copy(vs[j], all[rng.IntN(*n)*d:])
				vs[j][0] += 1e-3
			}
			if err := s.Add(ctx, es, vs); err != nil {
				return err
			}
		}
		secs := time.Since(t).Seconds()
		emit(result{"what": "upsert_with_hnsw", "rows": *insertN, "batch": *batch, "seconds": secs, "rows_per_s": float64(*insertN) / secs, "table_rows_before": *n})
		pool.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE path LIKE '/bench/new/%%'`, table))
	}
	return nil
}

// fileCompare measures the exact scan of the int8 index file made by the
// truth phase for the same vectors.
func fileCompare(idxFile string, qs [][]float32, exact [][]string) error {
	x, err := index.Load(idxFile)
	if err != nil {
		return err
	}
	fi, err := os.Stat(idxFile)
	if err != nil {
		return err
	}
	got := make([][]index.Hit, len(qs))
	lat := make([]time.Duration, len(qs))
	for i, q := range qs {
		t := time.Now()
		h, err := x.Search(q, 10, index.SearchOptions{})
		if err != nil {
			return err
		}
		lat[i] = time.Since(t)
		got[i] = h
	}
	p50, p95 := quantiles(lat)
	emit(result{"what": "file_int8_scan", "rows": x.Len(), "k": 10, "recall_at_10": recall(exact, got), "p50_ms": p50, "p95_ms": p95, "file_bytes": fi.Size(), "threads": 2})
	return nil
}
