//go:build race

package runtime

// raceEnabled is true under the race detector, which makes sync.Pool drop
// items at random (so pooled scratch is re-allocated) and counts its own
// allocations.
const raceEnabled = true
