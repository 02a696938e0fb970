//go:build !amd64 && !arm64

package kernels

// archImpls: only the generic kernel exists on this architecture.
func archImpls() []Impl { return nil }
