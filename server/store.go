package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/store"
)

// searchStore searches the configured store; a store that cannot answer
// (a database that is unreachable) gives 503, so that a load balancer
// retries elsewhere and clients retry later.
func (s *Server) searchStore(ctx context.Context, q []float32, k int) ([]index.Hit, error) {
	hits, err := s.cfg.Store.SearchBatch(ctx, [][]float32{q}, k)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxErr(ctx)
		}
		s.cfg.Logger.Error("index search failed", "err", err)
		return nil, &httpError{http.StatusServiceUnavailable, fmt.Errorf("index unavailable: %v", err)}
	}
	return hits[0], nil
}

// statusCache keeps the store's last status for a moment: health checks
// from several load balancers and metric scrapes need not each cost a
// round trip to the database.
type statusCache struct {
	mu sync.Mutex
	st store.Status
	at time.Time
}

// statusTTL is how long a store status is reused.
const statusTTL = 500 * time.Millisecond

func (s *Server) storeStatus(ctx context.Context) store.Status {
	c := &s.status
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) >= statusTTL {
		c.st, c.at = s.cfg.Store.Status(ctx), time.Now()
	}
	return c.st
}

func (s *Server) writeStoreMetrics(b *strings.Builder) {
	if s.cfg.Store == nil {
		return
	}
	st := s.storeStatus(context.Background())
	ready := 0
	if st.Ready {
		ready = 1
	}
	fmt.Fprintf(b, "# HELP clipinfer_index_ready 1 when the index can answer searches (the database is reachable).\n# TYPE clipinfer_index_ready gauge\nclipinfer_index_ready{kind=%q} %d\n", st.Kind, ready)
	fmt.Fprintf(b, "# HELP clipinfer_index_entries Vectors in the index (last known count).\n# TYPE clipinfer_index_entries gauge\nclipinfer_index_entries{kind=%q} %d\n", st.Kind, st.Entries)
	fmt.Fprintf(b, "# HELP clipinfer_index_reloads_total Times the index file was reloaded after being replaced.\n# TYPE clipinfer_index_reloads_total counter\nclipinfer_index_reloads_total %d\n", st.Reloads)
}
