package server

import (
	"fmt"
	"io"
	"net/http"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// buckets are the upper bounds (seconds) of the latency histogram.
var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metrics counts requests per endpoint and status, latencies per endpoint,
// and the work done. Exposed in Prometheus' text format.
type metrics struct {
	start    time.Time
	inFlight atomic.Int64
	rejected atomic.Int64 // 503 busy answers
	stopped  atomic.Int64 // computations stopped early by their request's end
	texts    atomic.Int64
	images   atomic.Int64

	mu       sync.Mutex
	requests map[reqKey]int64
	latency  map[string]*histogram
}

type reqKey struct {
	endpoint string
	code     int
}

type histogram struct {
	counts []int64 // per bucket, not cumulative; last is +Inf
	sum    float64
	n      int64
}

func newMetrics() *metrics {
	return &metrics{start: time.Now(), requests: map[reqKey]int64{}, latency: map[string]*histogram{}}
}

func (m *metrics) observe(endpoint string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{endpoint, code}]++
	h := m.latency[endpoint]
	if h == nil {
		h = &histogram{counts: make([]int64, len(buckets)+1)}
		m.latency[endpoint] = h
	}
	s := d.Seconds()
	i, _ := slices.BinarySearch(buckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w, s)
	return nil
}

func (m *metrics) write(w io.Writer, s *Server) {
	var b strings.Builder
	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if c := strings.Compare(a.endpoint, b.endpoint); c != 0 {
			return c
		}
		return a.code - b.code
	})
	b.WriteString("# HELP clipinfer_requests_total HTTP requests by endpoint and status code.\n# TYPE clipinfer_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "clipinfer_requests_total{endpoint=%q,code=\"%d\"} %d\n", k.endpoint, k.code, m.requests[k])
	}
	names := make([]string, 0, len(m.latency))
	for n := range m.latency {
		names = append(names, n)
	}
	slices.Sort(names)
	b.WriteString("# HELP clipinfer_request_duration_seconds Time to answer a request, by endpoint.\n# TYPE clipinfer_request_duration_seconds histogram\n")
	for _, n := range names {
		h := m.latency[n]
		var cum int64
		for i, ub := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "clipinfer_request_duration_seconds_bucket{endpoint=%q,le=%q} %d\n", n, strconv.FormatFloat(ub, 'g', -1, 64), cum)
		}
		fmt.Fprintf(&b, "clipinfer_request_duration_seconds_bucket{endpoint=%q,le=\"+Inf\"} %d\n", n, h.n)
		fmt.Fprintf(&b, "clipinfer_request_duration_seconds_sum{endpoint=%q} %g\n", n, h.sum)
		fmt.Fprintf(&b, "clipinfer_request_duration_seconds_count{endpoint=%q} %d\n", n, h.n)
	}
	m.mu.Unlock()

	gauge := func(name, help string, v any) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", name, help, name, name, v)
	}
	counter := func(name, help string, v any) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %v\n", name, help, name, name, v)
	}
	gauge("clipinfer_in_flight_requests", "Requests being handled.", m.inFlight.Load())
	gauge("clipinfer_waiting_requests", "Requests waiting for a compute slot.", s.waiting.Load())
	gauge("clipinfer_waiting_body_bytes", "Request-body bytes held by the requests waiting for a compute slot.", s.waitingBytes.Load())
	gauge("clipinfer_compute_slots", "Requests allowed to compute at once.", cap(s.slots))
	counter("clipinfer_rejected_total", "Requests answered 503 because the server was full.", m.rejected.Load())
	counter("clipinfer_computations_stopped_total", "Computations stopped before finishing because their request's deadline passed or its client left.", m.stopped.Load())
	counter("clipinfer_texts_embedded_total", "Texts embedded.", m.texts.Load())
	counter("clipinfer_images_embedded_total", "Images embedded.", m.images.Load())
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	gauge("clipinfer_go_heap_bytes", "Bytes of allocated heap objects.", ms.HeapAlloc)
	gauge("clipinfer_go_goroutines", "Goroutines.", goruntime.NumGoroutine())
	if rss, ok := residentBytes(); ok {
		gauge("clipinfer_resident_memory_bytes", "Resident set size of the process.", rss)
	}
	s.writeStoreMetrics(&b)
	gauge("clipinfer_uptime_seconds", "Seconds since the server started.", int64(time.Since(m.start).Seconds()))
	io.WriteString(w, b.String())
}

// residentBytes reads the resident set size from /proc (Linux only).
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
