package kernels

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/clipinfer/clipinfer/kernels/arm64"
)

// archImpls lists the arm64 assembly kernels, best first: neondot needs
// the ARMv8.2 dot-product extension, which cpuid reads from the kernel's
// HWCAP (asimddp: Cortex-A76 in the Raspberry Pi 5, not the Pi 4's
// Cortex-A72); neon needs only Advanced SIMD, which every arm64 CPU has.
func archImpls() []Impl {
	return []Impl{
		{Kernels: arm64.NEONDot{}, Available: cpuid.CPU.Supports(cpuid.ASIMDDP), Needs: "the ARMv8.2 dot-product extension (asimddp)"},
		{Kernels: arm64.NEON{}, Available: true, Needs: "Advanced SIMD (every arm64 CPU)"},
	}
}
