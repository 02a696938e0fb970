// Package arm64 holds the NEON assembly kernels (ARMv8.0 and the ARMv8.2
// dot-product extension). On other architectures the package is empty;
// kernels/dispatch_arm64.go is its only user.
package arm64
