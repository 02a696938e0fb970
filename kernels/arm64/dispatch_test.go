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
// reports asimddp, neoni8mm exactly when it reports i8mm, and the best is
// the highest of those.
func TestSelectedKernel(t *testing.T) {
	best := kernels.Best().Name()
	t.Logf("GOARCH=%s asimd=%v asimddp=%v i8mm=%v: best kernel %q", runtime.GOARCH,
		cpuid.CPU.Supports(cpuid.ASIMD), cpuid.CPU.Supports(cpuid.ASIMDDP), cpuid.CPU.Supports(cpuid.I8MM), best)
	if want := os.Getenv("EXPECT_KERNEL"); want != "" {
		require.Equal(t, want, best, "EXPECT_KERNEL")
	}
	if runtime.GOARCH != "arm64" {
		return
	}
	_, err := kernels.Get("neon")
	require.NoError(t, err)
	want := "neon"
	for _, tier := range []struct {
		name, feature string
		has           bool
	}{
		{"neondot", "asimddp", cpuid.CPU.Supports(cpuid.ASIMDDP)},
		{"neoni8mm", "i8mm", cpuid.CPU.Supports(cpuid.I8MM)},
	} {
		_, err = kernels.Get(tier.name)
		if tier.has {
			require.NoError(t, err)
			want = tier.name
		} else {
			require.ErrorContains(t, err, tier.feature)
		}
	}
	require.Equal(t, want, best)
}
