//go:build !unix

package runtime

// processCPU reports false: no CPU-time source on this system.
func processCPU() (float64, bool) { return 0, false }
