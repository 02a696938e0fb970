package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Schema (docs/RETRIEVAL.md describes it for people):
//
//   - clipinfer_migrations(version, applied_at): the migrations applied,
//     in order; every migration runs once, in a transaction holding an
//     advisory lock, so concurrent first runs do not race.
//   - clipinfer_models(fingerprint, name, dim, table_name, created_at): one
//     row per model whose embeddings the database holds.
//   - one table per model, named clipinfer_emb_<16 hex digits of
//     SHA-256(fingerprint)>: id, path (unique), size, mtime_ns, the
//     embedding as halfvec(dim), updated_at; with an HNSW index on the
//     embedding with cosine distance (m = 16, ef_construction = 64),
//     created with the table the first time the model is used.

// lockKey is the advisory lock that serialises schema changes.
const lockKey = 0x636c6970_696e6672 // "clipinfr"

// migrations are applied in order; migration i takes the database to
// version i+1. Never edit one that has shipped: append a new one.
var migrations = []string{
	// 1: the model registry.
	`CREATE TABLE clipinfer_models (
		fingerprint text PRIMARY KEY,
		name        text NOT NULL DEFAULT '',
		dim         integer NOT NULL CHECK (dim BETWEEN 1 AND 4000),
		table_name  text NOT NULL UNIQUE,
		created_at  timestamptz NOT NULL DEFAULT now()
	)`,
}

// SchemaVersion is the schema version this program writes.
var SchemaVersion = len(migrations)

// HNSW holds the build parameters of a model's HNSW index: m, the links
// per node, and ef_construction, the candidate list while linking. Larger
// values build a denser graph (better recall on large, clustered
// collections) at a higher build cost, roughly proportional to
// m·ef_construction.
type HNSW struct {
	M              int
	EfConstruction int
}

// DefaultHNSW is pgvector's own default graph.
var DefaultHNSW = HNSW{M: 16, EfConstruction: 64}

// check applies pgvector's limits (m 2–100, ef_construction 4–1000 and at
// least 2m), so a bad value is refused before anything is created.
func (h HNSW) check() error {
	if h.M < 2 || h.M > 100 {
		return fmt.Errorf("hnsw_m=%d: want 2..100", h.M)
	}
	if h.EfConstruction < 4 || h.EfConstruction > 1000 || h.EfConstruction < 2*h.M {
		return fmt.Errorf("hnsw_ef_construction=%d: want 4..1000 and at least 2·hnsw_m", h.EfConstruction)
	}
	return nil
}

// migrate brings the database schema to SchemaVersion. It refuses a
// database migrated by a newer program.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS vector`); err != nil {
		return fmt.Errorf("pgvector extension: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS clipinfer_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM clipinfer_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program's %d: upgrade clipinfer", have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO clipinfer_migrations (version) VALUES ($1)`, v+1); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// TableName is the embedding table of the model with this fingerprint.
func TableName(fingerprint string) string {
	h := sha256.Sum256([]byte(fingerprint))
	return "clipinfer_emb_" + hex.EncodeToString(h[:8])
}

// createModel registers the model and creates its table and HNSW index
// (with parameters h), if not done yet, and returns the registered
// dimension.
func createModel(ctx context.Context, conn *pgx.Conn, fingerprint, name string, dim int, h HNSW) (int, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockKey)); err != nil {
		return 0, err
	}
	var have int
	err = tx.QueryRow(ctx, `SELECT dim FROM clipinfer_models WHERE fingerprint = $1`, fingerprint).Scan(&have)
	if err == nil {
		return have, nil
	}
	if err != pgx.ErrNoRows {
		return 0, err
	}
	t := TableName(fingerprint)
	if _, err := tx.Exec(ctx, `INSERT INTO clipinfer_models (fingerprint, name, dim, table_name) VALUES ($1, $2, $3, $4)`,
		fingerprint, name, dim, t); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (
		id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		path       text NOT NULL UNIQUE,
		size       bigint NOT NULL,
		mtime_ns   bigint NOT NULL,
		embedding  halfvec(%d) NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now())`, t, dim)); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, CreateHNSW(t, h)); err != nil {
		return 0, err
	}
	return dim, tx.Commit(ctx)
}

// CreateHNSW is the statement that builds the HNSW index of table t with
// parameters h.
func CreateHNSW(t string, h HNSW) string {
	return fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s_hnsw ON %s USING hnsw (embedding halfvec_cosine_ops) WITH (m = %d, ef_construction = %d)`,
		t, t, h.M, h.EfConstruction)
}
