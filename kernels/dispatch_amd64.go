package kernels

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/clipinfer/clipinfer/kernels/amd64"
)

// avx2Needs names the CPU features the avx2 kernel uses. cpuid reports AVX
// (and so AVX2) only when the OS saves the YMM state (XGETBV bits 1-2).
const avx2Needs = "AVX2, FMA and F16C"

// archImpls lists the amd64 assembly kernels, best first.
func archImpls() []Impl {
	return []Impl{{
		Kernels:   amd64.AVX2{},
		Available: cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C),
		Needs:     avx2Needs,
	}}
}
