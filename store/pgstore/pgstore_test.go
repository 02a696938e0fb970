package pgstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/store"
	"github.com/clipinfer/clipinfer/store/pgstore"
	"github.com/clipinfer/clipinfer/store/pgstore/pgtest"
)

// cluster is shared by the tests of this package; every test uses its own
// database.
var (
	cluster *pgtest.Cluster
	skipWhy string
	dbSeq   atomic.Int64
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// -short runs (the arm64 suite under qemu) leave the database to
		// the native run.
		skipWhy = "skipped in -short mode"
		os.Exit(m.Run())
	}
	c, err := pgtest.Start(pgtest.Options{})
	if err != nil {
		if !errors.Is(err, pgtest.ErrUnavailable) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		skipWhy = err.Error()
	}
	cluster = c
	code := m.Run()
	if c != nil {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// newDB creates a fresh database and returns its URL.
func newDB(t *testing.T) string {
	t.Helper()
	if cluster == nil {
		t.Skip("needs PostgreSQL with pgvector: " + skipWhy)
	}
	url, err := cluster.CreateDB(context.Background(), fmt.Sprintf("t%d", dbSeq.Add(1)))
	require.NoError(t, err)
	return url
}

// hashEmbedder "decodes" a file by reading it (files starting with "bad"
// fail) and embeds it as a unit vector derived from its bytes.
type hashEmbedder struct {
	dim    int
	embeds atomic.Int64
	delay  time.Duration

	mu      sync.Mutex
	batches []int // the size of every Embed call, in order
}

func (h *hashEmbedder) Load(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(string(b), "bad") {
		return nil, errors.New("image: unknown format")
	}
	return vec(b, h.dim), nil
}

func vec(b []byte, dim int) []float32 {
	s := sha256.Sum256(b)
	v := make([]float32, dim)
	var ss float64
	for i := range v {
		x := float64(s[i%len(s)]) - 127.5 + float64(i%7)
		v[i] = float32(x)
		ss += x * x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(ss))
	}
	return v
}

func (h *hashEmbedder) Embed(in [][]float32) ([][]float32, error) {
	time.Sleep(h.delay)
	h.embeds.Add(int64(len(in)))
	h.mu.Lock()
	h.batches = append(h.batches, len(in))
	h.mu.Unlock()
	return in, nil
}

// committable is the set of row counts a reader may see of this
// embedder's writer if every batch commits whole: 0 and each running sum
// of the batch sizes.
func (h *hashEmbedder) committable() map[int]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	ok, n := map[int]bool{0: true}, 0
	for _, b := range h.batches {
		n += b
		ok[n] = true
	}
	return ok
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

const dim = 24

var model = index.ModelInfo{Fingerprint: "sha256:test-model", Name: "test", Dim: dim}

func open(t *testing.T, url string) *pgstore.Store {
	t.Helper()
	m := model
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{Model: &m})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// records exports a store and returns its rows' entries sorted by path and
// the vectors by path.
func records(t *testing.T, s store.Store) ([]index.Entry, map[string][]float32) {
	t.Helper()
	var npy, jsonl bytes.Buffer
	n, err := s.Export(context.Background(), &npy, &jsonl)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(jsonl.String()), "\n")
	if jsonl.Len() == 0 {
		lines = nil
	}
	require.Len(t, lines, n)
	hdr := index.NPYHeader(n, s.Model().Dim)
	require.Equal(t, hdr, npy.Bytes()[:len(hdr)])
	require.Equal(t, len(hdr)+4*n*s.Model().Dim, npy.Len())
	var es []index.Entry
	vs := map[string][]float32{}
	for i, l := range lines {
		var r index.ExportRecord
		require.NoError(t, jsonUnmarshal(l, &r))
		require.Equal(t, i, r.Row)
		es = append(es, r.Entry)
		vs[r.Path] = npyRow(npy.Bytes()[len(hdr):], i, s.Model().Dim)
	}
	slices.SortFunc(es, func(a, b index.Entry) int { return strings.Compare(a.Path, b.Path) })
	return es, vs
}

// TestUpdateMatchesFile runs the same sequence of updates on an index
// file and on the database: the statistics, the entries and (within
// half-precision rounding) the vectors agree at every step, and both
// searches return the same top-5.
func TestUpdateMatchesFile(t *testing.T) {
	url := newDB(t)
	root, other := t.TempDir(), t.TempDir()
	m := model
	f, err := store.OpenFile(filepath.Join(t.TempDir(), "x.idx"), &m, index.Float16, index.SearchOptions{})
	require.NoError(t, err)
	pg := open(t, url)
	stores := []store.Store{f, pg}

	steps := []struct {
		name  string
		do    func()
		roots []string
		want  index.Stats
	}{
		{"first", func() {
			for i, p := range []string{"a.jpg", "sub/b.PNG", "sub/deep/c.webp", "d.gif", "e.jpeg"} {
				writeFile(t, filepath.Join(root, p), strings.Repeat("x", i+1))
			}
			writeFile(t, filepath.Join(root, "notes.txt"), "not an image")
			writeFile(t, filepath.Join(root, "broken.jpg"), "bad data")
			writeFile(t, filepath.Join(root, ".hidden", "h.jpg"), "hidden")
		}, []string{root}, index.Stats{Found: 6, Added: 5, Failed: 1, Ignored: 1, Entries: 5}},
		{"other folder", func() { writeFile(t, filepath.Join(other, "o.jpg"), "other") },
			[]string{other}, index.Stats{Found: 1, Added: 1, Entries: 6}},
		{"unchanged", func() {}, []string{root}, index.Stats{Found: 6, Kept: 5, Failed: 1, Ignored: 1, Entries: 6}},
		{"change, add, remove", func() {
			writeFile(t, filepath.Join(root, "a.jpg"), "changed content")
			writeFile(t, filepath.Join(root, "sub", "new.jpg"), "new")
			require.NoError(t, os.Remove(filepath.Join(root, "d.gif")))
			require.NoError(t, os.Remove(filepath.Join(root, "broken.jpg")))
		}, []string{root}, index.Stats{Found: 5, Kept: 3, Added: 1, Changed: 1, Removed: 1, Ignored: 1, Entries: 6}},
		{"subfolder gone", func() { require.NoError(t, os.RemoveAll(filepath.Join(root, "sub", "deep"))) },
			[]string{filepath.Join(root, "sub")}, index.Stats{Found: 2, Kept: 2, Removed: 1, Entries: 5}},
	}
	for _, step := range steps {
		step.do()
		for _, s := range stores {
			st, err := s.Update(context.Background(), step.roots, index.UpdateOptions{Embedder: &hashEmbedder{dim: dim}, Batch: 2})
			require.NoError(t, err, step.name)
			assert.Equal(t, step.want, st, "%s: %s", step.name, s.Status(context.Background()).Kind)
		}
		fe, fv := records(t, f)
		pe, pv := records(t, pg)
		require.Equal(t, fe, pe, step.name)
		for p, v := range fv {
			assert.InDeltaSlice(t, v, pv[p], 1e-3, p)
		}
	}

	// Same top-5 for queries near stored vectors and for unrelated ones.
	var queries [][]float32
	for i := range 8 {
		queries = append(queries, vec([]byte{byte(i)}, dim))
	}
	queries = append(queries, vec([]byte("xx"), dim), vec([]byte("new"), dim))
	fh, err := f.SearchBatch(context.Background(), queries, 5)
	require.NoError(t, err)
	ph, err := pg.SearchBatch(context.Background(), queries, 5)
	require.NoError(t, err)
	for q := range queries {
		require.Len(t, ph[q], len(fh[q]))
		for i := range fh[q] {
			assert.Equal(t, fh[q][i].Path, ph[q][i].Path, "query %d rank %d", q, i)
			assert.InDelta(t, fh[q][i].Score, ph[q][i].Score, 1e-6)
		}
	}
	assert.InDelta(t, 1, ph[8][0].Score, 1e-6, "a stored vector finds itself")
}

// TestConcurrentWriters runs several updates of different folders at once,
// each through its own connection pool, while a reader counts each
// writer's rows in one snapshot: nothing any writer committed is lost, and
// the reader never sees part of a batch (every count it sees is a running
// sum of that writer's batch sizes; the pipeline may embed fewer than
// -batch images at a time when its decoders run dry).
func TestConcurrentWriters(t *testing.T) {
	url := newDB(t)
	const writers, files, batch = 4, 24, 4
	roots := make([]string, writers)
	for w := range roots {
		roots[w] = t.TempDir()
		for i := range files {
			writeFile(t, filepath.Join(roots[w], fmt.Sprintf("img%02d.jpg", i)), fmt.Sprintf("w%d-%d", w, i))
		}
	}
	open(t, url) // the schema and the model's table exist before the race on rows
	reader := open(t, url)
	var counts strings.Builder
	for w := range roots {
		fmt.Fprintf(&counts, ", count(*) FILTER (WHERE starts_with(path, '%s/'))", roots[w])
	}
	query := fmt.Sprintf(`SELECT 0%s FROM %s`, counts.String(), reader.Table())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var seen [][writers]int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var zero int
			var c [writers]int
			dst := []any{&zero}
			for w := range c {
				dst = append(dst, &c[w])
			}
			if reader.Pool().QueryRow(context.Background(), query).Scan(dst...) == nil {
				seen = append(seen, c)
			}
		}
	}()
	errs := make([]error, writers)
	stats := make([]index.Stats, writers)
	embedders := make([]*hashEmbedder, writers)
	var ww sync.WaitGroup
	for w := range writers {
		embedders[w] = &hashEmbedder{dim: dim, delay: time.Millisecond}
		ww.Add(1)
		go func() {
			defer ww.Done()
			m := model
			s, err := pgstore.Open(context.Background(), url, pgstore.Options{Model: &m})
			if err != nil {
				errs[w] = err
				return
			}
			defer s.Close()
			stats[w], errs[w] = s.Update(context.Background(), []string{roots[w]},
				index.UpdateOptions{Embedder: embedders[w], Batch: batch})
		}()
	}
	ww.Wait()
	close(stop)
	wg.Wait()
	for w := range writers {
		require.NoError(t, errs[w])
		assert.Equal(t, files, stats[w].Added)
	}
	n, err := reader.Len(context.Background())
	require.NoError(t, err)
	assert.Equal(t, writers*files, n)
	require.NotEmpty(t, seen)
	for w := range writers {
		ok := embedders[w].committable()
		for _, c := range seen {
			require.True(t, ok[c[w]], "writer %d: a reader saw %d rows, not a whole number of batches (batches %v)", w, c[w], embedders[w].batches)
		}
	}
}

// TestInterruptedUpdateKeepsCommitted cancels an update after its first
// batches: what was committed stays, and the next update embeds only the
// rest.
func TestInterruptedUpdateKeepsCommitted(t *testing.T) {
	url := newDB(t)
	root := t.TempDir()
	const files = 40
	for i := range files {
		writeFile(t, filepath.Join(root, fmt.Sprintf("img%02d.jpg", i)), fmt.Sprintf("img %d", i))
	}
	s := open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	var batches atomic.Int64
	st, err := s.Update(ctx, []string{root}, index.UpdateOptions{
		Embedder: &hashEmbedder{dim: dim, delay: 5 * time.Millisecond}, Batch: 4,
		Progress: func(p index.Progress) {
			if batches.Add(1) == 3 {
				cancel()
			}
		},
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Positive(t, st.Added)
	require.Positive(t, st.Pending)
	n, err := s.Len(context.Background())
	require.NoError(t, err)
	assert.Equal(t, st.Added, n)
	assert.Equal(t, files, st.Added+st.Pending)

	emb := &hashEmbedder{dim: dim}
	st2, err := s.Update(context.Background(), []string{root}, index.UpdateOptions{Embedder: emb, Batch: 4})
	require.NoError(t, err)
	assert.Equal(t, st.Added, st2.Kept)
	assert.Equal(t, st.Pending, st2.Added)
	assert.Equal(t, int64(st.Pending), emb.embeds.Load())
	assert.Equal(t, files, st2.Entries)
}

// TestOpenExisting finds the only model's table without being told the
// model, refuses an unknown fingerprint, and refuses a second model with
// the same fingerprint but another dimension.
func TestOpenExisting(t *testing.T) {
	url := newDB(t)
	ctx := context.Background()
	_, err := pgstore.Open(ctx, url, pgstore.Options{})
	require.ErrorContains(t, err, "holds no embeddings yet")
	s := open(t, url)
	require.NoError(t, s.Add(ctx, []index.Entry{{Path: "/p/a.jpg", Size: 1, ModTime: 2}}, [][]float32{vec([]byte("a"), dim)}))

	r, err := pgstore.Open(ctx, url, pgstore.Options{})
	require.NoError(t, err)
	assert.Equal(t, model.Fingerprint, r.Model().Fingerprint)
	assert.Equal(t, dim, r.Model().Dim)
	r.Close()
	r, err = pgstore.Open(ctx, url, pgstore.Options{Fingerprint: "sha256:test"})
	require.NoError(t, err)
	r.Close()
	_, err = pgstore.Open(ctx, url, pgstore.Options{Fingerprint: "sha256:other"})
	require.ErrorIs(t, err, index.ErrModelMismatch)

	wrong := model
	wrong.Dim = dim + 1
	_, err = pgstore.Open(ctx, url, pgstore.Options{Model: &wrong})
	require.ErrorContains(t, err, "holds 24-d vectors")

	other := index.ModelInfo{Fingerprint: "sha256:second", Dim: 8}
	s2, err := pgstore.Open(ctx, url, pgstore.Options{Model: &other})
	require.NoError(t, err)
	s2.Close()
	_, err = pgstore.Open(ctx, url, pgstore.Options{})
	require.ErrorContains(t, err, "embeddings of 2 models")

	_, err = pgstore.Open(ctx, url+"&ef_search=0", pgstore.Options{Model: &other})
	require.ErrorContains(t, err, "ef_search")
	e, err := pgstore.Open(ctx, url+"&ef_search=250", pgstore.Options{Model: &other})
	require.NoError(t, err)
	assert.Equal(t, 250, e.EfSearch())
	e.Close()

	for _, bad := range []string{"&hnsw_m=1", "&hnsw_m=x", "&hnsw_m=40&hnsw_ef_construction=64", "&hnsw_ef_construction=2000"} {
		_, err = pgstore.Open(ctx, url+bad, pgstore.Options{Model: &other})
		require.ErrorContains(t, err, "hnsw_", bad)
	}
	third := index.ModelInfo{Fingerprint: "sha256:third", Dim: 8}
	h, err := pgstore.Open(ctx, url+"&hnsw_m=24&hnsw_ef_construction=100", pgstore.Options{Model: &third})
	require.NoError(t, err)
	var def string
	require.NoError(t, h.Pool().QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE indexname = $1`, h.Table()+"_hnsw").Scan(&def))
	assert.Contains(t, def, "m='24'")
	assert.Contains(t, def, "ef_construction='100'")
	h.Close()
}

// TestStatus reports a reachable database as ready with its row count,
// and an unreachable one as not ready, without failing Open when Lazy.
func TestStatus(t *testing.T) {
	url := newDB(t)
	ctx := context.Background()
	s := open(t, url)
	require.NoError(t, s.Add(ctx, []index.Entry{{Path: "/p/a.jpg", Size: 1, ModTime: 2}}, [][]float32{vec([]byte("a"), dim)}))
	st := s.Status(ctx)
	assert.True(t, st.Ready, st.Error)
	assert.Equal(t, 1, st.Entries)
	assert.Equal(t, "postgres", st.Kind)
	assert.NotContains(t, st.Location, "password")

	port, err := pgtest.FreePort()
	require.NoError(t, err)
	dead := fmt.Sprintf("postgres://u:secret@127.0.0.1:%d/x?sslmode=disable&connect_timeout=1", port)
	m := model
	_, err = pgstore.Open(ctx, dead, pgstore.Options{Model: &m})
	require.Error(t, err)
	d, err := pgstore.Open(ctx, dead, pgstore.Options{Model: &m, Lazy: true})
	require.NoError(t, err)
	defer d.Close()
	st = d.Status(ctx)
	assert.False(t, st.Ready)
	assert.NotEmpty(t, st.Error)
	assert.NotContains(t, st.Location, "secret")
	_, err = d.SearchBatch(ctx, [][]float32{vec(nil, dim)}, 3)
	assert.Error(t, err)
}

// TestMigrationsOnce applies the schema from many connections at once:
// each migration is recorded exactly once.
func TestMigrationsOnce(t *testing.T) {
	url := newDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := model
			s, err := pgstore.Open(context.Background(), url, pgstore.Options{Model: &m})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	s := open(t, url)
	var versions []int32
	rows, err := s.Pool().Query(context.Background(), `SELECT version FROM clipinfer_migrations ORDER BY version`)
	require.NoError(t, err)
	for rows.Next() {
		var v int32
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	want := make([]int32, pgstore.SchemaVersion)
	for i := range want {
		want[i] = int32(i + 1)
	}
	assert.Equal(t, want, versions)
	var indexes int
	require.NoError(t, s.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%hnsw%halfvec_cosine_ops%'`, s.Table()).Scan(&indexes))
	assert.Equal(t, 1, indexes)
}
