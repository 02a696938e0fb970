package arm64_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels"
)

// TestSelectedKernel reports which kernel kernels.Best picks on this CPU
// and, when EXPECT_KERNEL is set (scripts/test-arm.sh sets it per emulated
// CPU model), fails unless it is that one. On arm64 it also checks the
// registry against cpuid: neon always runs, neondot exactly when the CPU
// reports asimddp.
func TestSelectedKernel(t *testing.T) {
	best := kernels.Best().Name()
	t.Logf("GOARCH=%s asimd=%v asimddp=%v: best kernel %q", runtime.GOARCH,
		cpuid.CPU.Supports(cpuid.ASIMD), cpuid.CPU.Supports(cpuid.ASIMDDP), best)
	if want := os.Getenv("EXPECT_KERNEL"); want != "" {
		require.Equal(t, want, best, "EXPECT_KERNEL")
	}
	if runtime.GOARCH != "arm64" {
		return
	}
	_, err := kernels.Get("neon")
	require.NoError(t, err)
	_, err = kernels.Get("neondot")
	if cpuid.CPU.Supports(cpuid.ASIMDDP) {
		require.NoError(t, err)
		require.Equal(t, "neondot", best)
	} else {
		require.ErrorContains(t, err, "asimddp")
		require.Equal(t, "neon", best)
	}
}
