// Package pgstore keeps embeddings in PostgreSQL with the pgvector
// extension, so that many clipinfer servers can share one index and it can
// grow beyond what one process should scan. It implements store.Store.
//
// Each model gets its own table of halfvec embeddings with an HNSW index
// (cosine distance); schema changes are versioned migrations (schema.go,
// docs/RETRIEVAL.md). Every batch of an update is one transaction, so a
// reader never sees half a batch and a killed writer loses nothing it
// committed; writers on different folders do not touch each other's rows.
// A search asks the HNSW index for candidates and reranks them with the
// exact cosine similarity of the float query and the stored vectors.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pgvector/pgvector-go"
	pgxvec "github.com/pgvector/pgvector-go/pgx"

	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/store"
)

// DefaultEfSearch is the HNSW search breadth (hnsw.ef_search) used unless
// the URL sets ef_search. Measured recall@10 against an exact scan
// (docs/RETRIEVAL.md): 0.9995 at 100,000 vectors; at 1,000,000, 0.97 with
// pgvector's default graph and 0.9975 with hnsw_m=24,
// hnsw_ef_construction=128.
const DefaultEfSearch = 200

// Options tune Open.
type Options struct {
	// Model, if set, selects the model's table, creating it (and the
	// schema) on first use; the database must not hold vectors of another
	// dimension for the same fingerprint.
	Model *index.ModelInfo
	// Fingerprint selects an existing model's table when Model is nil;
	// empty means the only model in the database.
	Fingerprint string
	// Lazy lets Open succeed when the database is unreachable: the store
	// reports itself not ready and connects on the next use. For servers.
	Lazy bool
}

// Store is an embedding index in PostgreSQL. Its methods are safe for
// concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	connCfg  *pgx.ConnConfig
	location string // the URL without password
	opt      Options
	efSearch int
	hnsw     HNSW

	mu    sync.Mutex // guards setup
	model index.ModelInfo
	table string
	ok    bool // schema checked and model table known

	cmu       sync.Mutex
	count     int
	countedAt time.Time
}

// Open connects to the database at rawURL (postgres://…). Besides the
// driver's own parameters the URL may carry ef_search=N, the HNSW search
// breadth, and hnsw_m=N and hnsw_ef_construction=N, the graph parameters
// used when a model's index is created (an existing index keeps its own).
// Open migrates the schema if needed and finds (or with
// opt.Model creates) the model's table.
func Open(ctx context.Context, rawURL string, opt Options) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: bad database URL: %w", err)
	}
	s := &Store{opt: opt, efSearch: DefaultEfSearch, hnsw: DefaultHNSW}
	q := u.Query()
	for _, p := range []struct {
		name string
		dst  *int
	}{{"ef_search", &s.efSearch}, {"hnsw_m", &s.hnsw.M}, {"hnsw_ef_construction", &s.hnsw.EfConstruction}} {
		if !q.Has(p.name) {
			continue
		}
		v := q.Get(p.name)
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("pgstore: %s=%q: not an integer", p.name, v)
		}
		*p.dst = n
		q.Del(p.name)
	}
	u.RawQuery = q.Encode()
	if s.efSearch < 1 || s.efSearch > 1000 {
		return nil, fmt.Errorf("pgstore: ef_search=%d: want 1..1000", s.efSearch)
	}
	if err := s.hnsw.check(); err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s.location = u.Redacted()
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", s.location, err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.AfterConnect = pgxvec.RegisterTypes
	cfg.HealthCheckPeriod = 5 * time.Second
	s.connCfg = cfg.ConnConfig.Copy()
	if opt.Model != nil {
		s.model, s.table = *opt.Model, TableName(opt.Model.Fingerprint)
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("pgstore: %s: %w", s.location, err)
	}
	if err := s.setup(ctx); err != nil && !opt.Lazy {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// setup migrates the schema and finds the model's table, once.
func (s *Store) setup(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, s.connCfg)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", s.location, err)
	}
	defer conn.Close(context.Background())
	if err := migrate(ctx, conn); err != nil {
		return fmt.Errorf("pgstore: %s: %w", s.location, err)
	}
	if m := s.opt.Model; m != nil {
		dim, err := createModel(ctx, conn, m.Fingerprint, m.Name, m.Dim, s.hnsw)
		if err != nil {
			return fmt.Errorf("pgstore: %s: %w", s.location, err)
		}
		if dim != m.Dim {
			return fmt.Errorf("pgstore: %s holds %d-d vectors for model %s, the model makes %d-d", s.location, dim, m.Fingerprint, m.Dim)
		}
		s.model, s.table = *m, TableName(m.Fingerprint)
		s.ok = true
		return nil
	}
	rows, err := conn.Query(ctx, `SELECT fingerprint, name, dim, table_name FROM clipinfer_models ORDER BY created_at`)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", s.location, err)
	}
	var models []index.ModelInfo
	var tables []string
	for rows.Next() {
		var m index.ModelInfo
		var t string
		if err := rows.Scan(&m.Fingerprint, &m.Name, &m.Dim, &t); err != nil {
			return fmt.Errorf("pgstore: %s: %w", s.location, err)
		}
		if s.opt.Fingerprint == "" || strings.HasPrefix(m.Fingerprint, s.opt.Fingerprint) {
			models, tables = append(models, m), append(tables, t)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pgstore: %s: %w", s.location, err)
	}
	switch {
	case len(models) == 0 && s.opt.Fingerprint != "":
		return fmt.Errorf("pgstore: %s holds no embeddings of model %s: %w", s.location, s.opt.Fingerprint, index.ErrModelMismatch)
	case len(models) == 0:
		return fmt.Errorf("pgstore: %s holds no embeddings yet", s.location)
	case len(models) > 1:
		fps := make([]string, len(models))
		for i, m := range models {
			fps[i] = m.Fingerprint
		}
		return fmt.Errorf("pgstore: %s holds embeddings of %d models (%s): choose one by fingerprint", s.location, len(models), strings.Join(fps, ", "))
	}
	s.model, s.table, s.ok = models[0], tables[0], true
	return nil
}

// Model implements store.Store. It is the zero ModelInfo until the
// database has been reached (see Options.Lazy).
func (s *Store) Model() index.ModelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.model
}

// Table returns the model's table name ("" before the database has been
// reached).
func (s *Store) Table() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.table
}

// Pool returns the connection pool (for measurements and tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// EfSearch returns the HNSW search breadth in use.
func (s *Store) EfSearch() int { return s.efSearch }

// Close implements store.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// SearchBatch implements store.Store. For each query the HNSW index
// yields the max(2k+16, ef_search) nearest candidates by the stored
// half-precision vectors; they are rescored with the cosine similarity of
// the float query and the stored vectors and the best k returned, ties
// going to the older entry. Hit.Index is the row's id. On a table small
// enough for PostgreSQL to prefer a sequential scan the search is exact.
func (s *Store) SearchBatch(ctx context.Context, queries [][]float32, k int) ([][]index.Hit, error) {
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, fmt.Errorf("pgstore: k = %d, want at least 1", k)
	}
	d := s.model.Dim
	out := make([][]index.Hit, len(queries))
	for i, q := range queries {
		if len(q) != d {
			return nil, fmt.Errorf("pgstore: query %d has %d values, index holds %d", i, len(q), d)
		}
		hits, err := s.search(ctx, q, k)
		if err != nil {
			return nil, err
		}
		out[i] = hits
	}
	return out, nil
}

// cand is a search candidate.
type cand struct {
	id    int64
	path  string
	score float32
}

func (s *Store) search(ctx context.Context, q []float32, k int) ([]index.Hit, error) {
	limit := 2*k + 16
	ef := max(s.efSearch, limit)
	b := &pgx.Batch{}
	// Session-level, set before every search in the same round trip: a
	// pooled connection may come from a search with another breadth.
	b.Queue(`SELECT set_config('hnsw.ef_search', $1, false)`, strconv.Itoa(ef))
	var cs []cand
	b.Queue(fmt.Sprintf(`SELECT id, path, embedding FROM %s ORDER BY embedding <=> $1 LIMIT $2`, s.table),
		pgvector.NewHalfVector(q), limit).Query(func(rows pgx.Rows) error {
		var hv pgvector.HalfVector
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.id, &c.path, &hv); err != nil {
				return err
			}
			c.score = cosine(q, hv.Slice())
			cs = append(cs, c)
		}
		return rows.Err()
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("pgstore: search: %w", err)
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return int(a.id - b.id)
	})
	hits := make([]index.Hit, 0, min(k, len(cs)))
	for _, c := range cs[:min(k, len(cs))] {
		hits = append(hits, index.Hit{Index: int(c.id), Path: c.path, Score: c.score})
	}
	return hits, nil
}

// cosine is the cosine similarity of q and v in float64, as the file
// index rescores.
func cosine(q, v []float32) float32 {
	var qv, qq, vv float64
	for j, x := range v {
		qv += float64(q[j]) * float64(x)
		qq += float64(q[j]) * float64(q[j])
		vv += float64(x) * float64(x)
	}
	if qq == 0 || vv == 0 {
		return 0
	}
	return float32(qv / math.Sqrt(qq*vv))
}

// Len returns the number of vectors.
func (s *Store) Len(ctx context.Context) (int, error) {
	if err := s.setup(ctx); err != nil {
		return 0, err
	}
	var n int
	if err := s.pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s`, s.table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: %w", err)
	}
	return n, nil
}

// countEvery bounds how often Status counts the rows (a count scans the
// table; health checks come every second or two).
const countEvery = 5 * time.Second

// Status implements store.Store: a round trip to the database (bounded by
// 2 s) decides Ready; Entries is counted at most every 5 s.
func (s *Store) Status(ctx context.Context) store.Status {
	st := store.Status{Kind: "postgres", Location: s.location}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s.cmu.Lock()
	defer s.cmu.Unlock()
	st.Entries = s.count
	err := s.setup(ctx)
	if err == nil {
		if time.Since(s.countedAt) >= countEvery {
			var n int
			if n, err = s.Len(ctx); err == nil {
				s.count, s.countedAt = n, time.Now()
			}
		} else {
			err = s.pool.Ping(ctx)
		}
	}
	st.Entries = s.count
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Ready = true
	return st
}

// Update implements store.Store with index.Update's semantics. Files
// gone from under roots are deleted in one transaction first; then every
// embedded batch is upserted in its own transaction, replacing a changed
// file's row. An interrupted update keeps every committed batch; a
// changed file not yet re-embedded keeps its old row and old size and
// time, so the next update embeds it again.
func (s *Store) Update(ctx context.Context, roots []string, opt index.UpdateOptions) (index.Stats, error) {
	var st index.Stats
	if err := s.setup(ctx); err != nil {
		return st, err
	}
	if len(roots) == 0 {
		return st, errors.New("pgstore: update: no paths")
	}
	found, abs, err := index.Walk(ctx, roots, opt, &st)
	if err != nil {
		return st, err
	}
	have, err := s.entriesUnder(ctx, abs)
	if err != nil {
		return st, err
	}
	todo, redo, seen := index.Diff(found, func(path string) (index.Entry, bool) {
		e, ok := have[path]
		return e, ok
	}, opt, &st)
	var gone []string
	for p := range have {
		if !seen[p] {
			gone = append(gone, p)
		}
	}
	if len(gone) > 0 {
		tag, err := s.pool.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE path = ANY($1)`, s.table), gone)
		if err != nil {
			return st, fmt.Errorf("pgstore: remove: %w", err)
		}
		st.Removed = int(tag.RowsAffected())
	}
	err = index.EmbedFiles(ctx, todo, opt, &st, func(es []index.Entry, vs [][]float32) error {
		if err := s.upsert(context.WithoutCancel(ctx), es, vs); err != nil {
			return err
		}
		for _, e := range es {
			if redo[e.Path] {
				st.Changed++
			} else {
				st.Added++
			}
		}
		return nil
	})
	if n, cerr := s.Len(context.WithoutCancel(ctx)); cerr == nil {
		st.Entries = n
	} else if err == nil {
		err = cerr
	}
	return st, err
}

// entriesUnder returns the stored entries at or under the roots.
func (s *Store) entriesUnder(ctx context.Context, roots []string) (map[string]index.Entry, error) {
	prefixes := make([]string, len(roots))
	for i, r := range roots {
		prefixes[i] = strings.TrimSuffix(r, "/") + "/"
	}
	rows, err := s.pool.Query(ctx, fmt.Sprintf(`SELECT path, size, mtime_ns FROM %s
		WHERE path = ANY($1) OR EXISTS (SELECT 1 FROM unnest($2::text[]) p WHERE starts_with(path, p))`, s.table), roots, prefixes)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	have := map[string]index.Entry{}
	for rows.Next() {
		var e index.Entry
		if err := rows.Scan(&e.Path, &e.Size, &e.ModTime); err != nil {
			return nil, fmt.Errorf("pgstore: %w", err)
		}
		have[e.Path] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return have, nil
}

// Add upserts entries with their vectors (normalised embeddings of Dim
// finite values) in one transaction.
func (s *Store) Add(ctx context.Context, es []index.Entry, vs [][]float32) error {
	if err := s.setup(ctx); err != nil {
		return err
	}
	return s.upsert(ctx, es, vs)
}

func (s *Store) upsert(ctx context.Context, es []index.Entry, vs [][]float32) error {
	if len(es) != len(vs) {
		return fmt.Errorf("pgstore: %d entries, %d vectors", len(es), len(vs))
	}
	paths := make([]string, len(es))
	sizes := make([]int64, len(es))
	mtimes := make([]int64, len(es))
	hv := make([]pgvector.HalfVector, len(es))
	for i, e := range es {
		if len(vs[i]) != s.model.Dim {
			return fmt.Errorf("pgstore: %s: vector of %d values, index holds %d", e.Path, len(vs[i]), s.model.Dim)
		}
		for _, f := range vs[i] {
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return fmt.Errorf("pgstore: %s: non-finite value in vector", e.Path)
			}
		}
		paths[i], sizes[i], mtimes[i], hv[i] = e.Path, e.Size, e.ModTime, pgvector.NewHalfVector(vs[i])
	}
	// One statement is one transaction: all rows or none.
	_, err := s.pool.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (path, size, mtime_ns, embedding)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::halfvec[])
		ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
			embedding = excluded.embedding, updated_at = now()`, s.table), paths, sizes, mtimes, hv)
	if err != nil {
		return fmt.Errorf("pgstore: insert: %w", err)
	}
	return nil
}

// Export implements store.Store from one snapshot of the table, in id
// order (the order rows were first added).
func (s *Store) Export(ctx context.Context, npy, jsonl io.Writer) (int, error) {
	if err := s.setup(ctx); err != nil {
		return 0, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("pgstore: export: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var n int
	if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s`, s.table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: export: %w", err)
	}
	d := s.model.Dim
	if _, err := npy.Write(index.NPYHeader(n, d)); err != nil {
		return 0, fmt.Errorf("pgstore: export npy: %w", err)
	}
	rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT path, size, mtime_ns, embedding FROM %s ORDER BY id`, s.table))
	if err != nil {
		return 0, fmt.Errorf("pgstore: export: %w", err)
	}
	defer rows.Close()
	row := 0
	buf := make([]byte, 4*d)
	enc := newJSONL(jsonl)
	var hv pgvector.HalfVector
	for rows.Next() {
		var e index.Entry
		if err := rows.Scan(&e.Path, &e.Size, &e.ModTime, &hv); err != nil {
			return row, fmt.Errorf("pgstore: export: %w", err)
		}
		if row == n {
			return row, errors.New("pgstore: export: more rows than counted")
		}
		for j, f := range hv.Slice() {
			putF32(buf[4*j:], f)
		}
		if _, err := npy.Write(buf); err != nil {
			return row, fmt.Errorf("pgstore: export npy: %w", err)
		}
		if err := enc.Encode(index.ExportRecord{Row: row, Entry: e}); err != nil {
			return row, fmt.Errorf("pgstore: export jsonl: %w", err)
		}
		row++
	}
	if err := rows.Err(); err != nil {
		return row, fmt.Errorf("pgstore: export: %w", err)
	}
	if row != n {
		return row, fmt.Errorf("pgstore: export: %d rows where %d were counted", row, n)
	}
	return row, nil
}
