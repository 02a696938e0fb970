// Package store is where an embedding index lives: an index file (package
// index, loaded into memory and scanned exactly) or a PostgreSQL database
// with pgvector (package store/pgstore, searched through an HNSW index and
// shared by many servers). Commands and the HTTP server use both through
// the Store interface; [IsDatabaseURL] tells which one a location names.
package store

import (
	"context"
	"io"
	"strings"

	"github.com/clipinfer/clipinfer/index"
)

// Store is an embedding index for one model.
type Store interface {
	// Model identifies the model whose vectors the store holds.
	Model() index.ModelInfo
	// SearchBatch returns the k entries most similar to each query
	// (normalised embeddings of Model().Dim values), best first.
	SearchBatch(ctx context.Context, queries [][]float32, k int) ([][]index.Hit, error)
	// Update brings the store up to date with the image files under roots
	// with index.Update's semantics (kept, added, changed, removed; entries
	// outside every root untouched). Work finished before an error or
	// cancellation is kept.
	Update(ctx context.Context, roots []string, opt index.UpdateOptions) (index.Stats, error)
	// Export writes every vector as a float32 .npy array to npy and one
	// index.ExportRecord per row, in the same order, to jsonl, and returns
	// the number of rows.
	Export(ctx context.Context, npy, jsonl io.Writer) (int, error)
	// Status reports whether the store can answer searches now, and what
	// it holds.
	Status(ctx context.Context) Status
	// Close releases the store's resources.
	Close() error
}

// Status describes a store's state for health checks and metrics.
type Status struct {
	// Kind is "file" or "postgres".
	Kind string `json:"kind"`
	// Location is the file path or the database URL without its password.
	Location string `json:"location"`
	// Ready is false when the store cannot answer searches (e.g. the
	// database is unreachable).
	Ready bool `json:"ready"`
	// Entries is the number of vectors (the last known count when not
	// ready).
	Entries int `json:"entries"`
	// Error says why the store is not ready.
	Error string `json:"error,omitempty"`
	// Reloads counts the times a file index was reloaded after its file
	// was replaced.
	Reloads int64 `json:"reloads,omitempty"`
}

// IsDatabaseURL reports whether location names a PostgreSQL database
// (postgres:// or postgresql://) rather than an index file.
func IsDatabaseURL(location string) bool {
	l := strings.ToLower(location)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}
