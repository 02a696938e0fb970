// Package amd64 holds the AVX2 assembly kernels. On other architectures the
// package is empty; kernels/dispatch_amd64.go is its only user.
package amd64
