package kernels

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/kernels/amd64"
)

// TestAMD64Tiers checks the ladder (best first) against cpuid: each tier is
// available exactly when cpuid reports its features (AVX-512 also needs
// the OS to save the ZMM and opmask state), and Best is the first
// available one. It logs what this CPU has, so the test output says which
// tiers the other tests skipped.
func TestAMD64Tiers(t *testing.T) {
	zmmOK, zmmWhy := amd64.AVX512OSState()
	has := func(fs []feature) bool {
		for _, f := range fs {
			if !cpuid.CPU.Supports(f.id) {
				return false
			}
		}
		return true
	}
	want := []struct {
		name      string
		available bool
	}{
		{"avx512vnni", has(avx512vnniFeatures) && zmmOK},
		{"avxvnni", has(avxvnniFeatures)},
		{"avx2", has(avx2Features)},
		{"generic", true},
	}
	impls := List()
	require.Len(t, impls, len(want))
	best := ""
	for i, w := range want {
		im := impls[i]
		assert.Equal(t, w.name, im.Name())
		assert.Equal(t, w.available, im.Available, w.name)
		assert.Equal(t, w.available, im.Why == "", "%s: Why %q", w.name, im.Why)
		t.Logf("%-10s available=%-5v %s", im.Name(), im.Available, im.Why)
		if w.available && best == "" {
			best = w.name
		}
	}
	t.Logf("OS state for AVX-512: ok=%v (%s)", zmmOK, zmmWhy)
	assert.Equal(t, best, Best().Name())
	k, err := Get(" " + best + " ")
	require.NoError(t, err)
	assert.Equal(t, best, k.Name())
}

// TestGetUnavailable runs the registry as it behaves on a CPU without
// AVX2: the entries stay listed but Get refuses them with the features
// they need and what is missing, and Best falls back to generic.
func TestGetUnavailable(t *testing.T) {
	saved := registered
	t.Cleanup(func() { registered = saved })
	registered = append([]Impl(nil), saved...)
	for i := range registered {
		if registered[i].Name() != "generic" {
			registered[i].Available = false
			registered[i].Why = ""
		}
		if registered[i].Name() == "avx512vnni" {
			registered[i].Why = "AVX-512 VNNI"
		}
	}
	for _, tc := range []struct {
		name, want string
	}{
		{"avx2", `kernel "avx2" needs AVX2, FMA and F16C, which this CPU does not have`},
		{"avx512vnni", `kernel "avx512vnni" needs AVX-512F/BW/VL, AVX-512 VNNI, OS support for the ZMM and opmask state, and what avx2 needs; this machine lacks AVX-512 VNNI`},
		{"sse9", `unknown kernel "sse9" (this build has: avx512vnni, avxvnni, avx2, generic)`},
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

// TestTierMissing checks the Why text tier builds from cpuid and the OS
// check.
func TestTierMissing(t *testing.T) {
	im := tier(amd64.AVX2{}, []feature{{cpuid.AMXTILE, "AMX-TILE"}}, "AMX", false, "no OS state")
	assert.False(t, im.Available)
	if !cpuid.CPU.Supports(cpuid.AMXTILE) {
		assert.Equal(t, "AMX-TILE, no OS state", im.Why)
	}
	im = tier(amd64.AVX2{}, nil, "nothing", true, "")
	assert.True(t, im.Available)
	assert.Empty(t, im.Why)
}
