package kernels

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/clipinfer/clipinfer/kernels/arm64"
)

// archImpls lists the arm64 assembly kernels, best first: neoni8mm needs
// the ARMv8.6 int8 matrix-multiply extension (i8mm, also read from HWCAP2:
// Graviton 3/4, Apple M2+, Cortex-A710/X2 and later); neondot needs
// the ARMv8.2 dot-product extension, which cpuid reads from the kernel's
// HWCAP (asimddp: Cortex-A76 in the Raspberry Pi 5, not the Pi 4's
// Cortex-A72); neon needs only Advanced SIMD, which every arm64 CPU has.
func archImpls() []Impl {
	return []Impl{
		{Kernels: arm64.NEONI8MM{}, Available: cpuid.CPU.Supports(cpuid.I8MM), Needs: "the ARMv8.6 int8 matrix-multiply extension (i8mm)", Why: lacks(cpuid.CPU.Supports(cpuid.I8MM), "i8mm")},
		{Kernels: arm64.NEONDot{}, Available: cpuid.CPU.Supports(cpuid.ASIMDDP), Needs: "the ARMv8.2 dot-product extension (asimddp)", Why: lacks(cpuid.CPU.Supports(cpuid.ASIMDDP), "asimddp")},
		{Kernels: arm64.NEON{}, Available: true, Needs: "Advanced SIMD (every arm64 CPU)"},
	}
}

// lacks returns what is missing when ok is false.
func lacks(ok bool, what string) string {
	if ok {
		return ""
	}
	return what
}
