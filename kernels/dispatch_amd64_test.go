package kernels

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAVX2Registered(t *testing.T) {
	impls := List()
	require.GreaterOrEqual(t, len(impls), 2)
	assert.Equal(t, "avx2", impls[0].Name())
	assert.Equal(t, avx2Needs, impls[0].Needs)
	assert.Equal(t, cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3, cpuid.F16C), impls[0].Available)
	assert.Equal(t, "generic", impls[len(impls)-1].Name())
	if impls[0].Available {
		assert.Equal(t, "avx2", Best().Name())
		k, err := Get("AVX2 ")
		require.NoError(t, err)
		assert.Equal(t, "avx2", k.Name())
	}
}

// TestGetUnavailableAVX2 runs the registry as it behaves on a CPU without
// AVX2: the avx2 entry stays listed but Get refuses it with the features it
// needs, and Best falls back to generic.
func TestGetUnavailableAVX2(t *testing.T) {
	saved := registered
	t.Cleanup(func() { registered = saved })
	registered = append([]Impl(nil), saved...)
	for i := range registered {
		if registered[i].Name() == "avx2" {
			registered[i].Available = false
		}
	}
	for _, tc := range []struct {
		name, want string
	}{
		{"avx2", `kernel "avx2" needs AVX2, FMA and F16C, which this CPU does not have`},
		{"sse9", `unknown kernel "sse9" (this build has: avx2, generic)`},
	} {
		k, err := Get(tc.name)
		assert.Nil(t, k, tc.name)
		assert.EqualError(t, err, tc.want)
	}
	assert.Equal(t, "generic", Best().Name())
	k, err := Get("generic")
	require.NoError(t, err)
	assert.Equal(t, "generic", k.Name())
}
