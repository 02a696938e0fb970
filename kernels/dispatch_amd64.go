package kernels

import (
	"strings"

	"github.com/klauspost/cpuid/v2"

	"github.com/clipinfer/clipinfer/kernels/amd64"
)

// The CPU features each amd64 kernel uses. cpuid reports AVX (and so AVX2
// and AVX-VNNI) only when the OS saves the YMM state (XGETBV bits 1-2), and
// the AVX-512 features only when it also saves the opmask and ZMM state
// (bits 5-7); amd64.AVX512OSState checks the latter again to say why.
var (
	avx2Features       = []feature{{cpuid.AVX2, "AVX2"}, {cpuid.FMA3, "FMA"}, {cpuid.F16C, "F16C"}}
	avxvnniFeatures    = append([]feature{{cpuid.AVXVNNI, "AVX-VNNI"}}, avx2Features...)
	avx512vnniFeatures = append([]feature{{cpuid.AVX512F, "AVX-512F"}, {cpuid.AVX512BW, "AVX-512BW"},
		{cpuid.AVX512VL, "AVX-512VL"}, {cpuid.AVX512VNNI, "AVX-512 VNNI"}}, avx2Features...)
)

// avx2Needs names the CPU features the avx2 kernel uses.
const avx2Needs = "AVX2, FMA and F16C"

// archImpls lists the amd64 assembly kernels, best first: avx512vnni
// (VPDPBUSD on 512-bit registers: Zen 4/5, Ice Lake and later Xeons),
// avxvnni (VEX VPDPBUSD on 256-bit registers: Alder Lake and later clients
// without AVX-512), avx2.
func archImpls() []Impl {
	zmmOK, zmmWhy := amd64.AVX512OSState()
	return []Impl{
		tier(amd64.AVX512VNNI{}, avx512vnniFeatures, "AVX-512F/BW/VL, AVX-512 VNNI, OS support for the ZMM and opmask state, and what avx2 needs", zmmOK, zmmWhy),
		tier(amd64.AVXVNNI{}, avxvnniFeatures, "AVX-VNNI and what avx2 needs", true, ""),
		tier(amd64.AVX2{}, avx2Features, avx2Needs, true, ""),
	}
}

// feature is one cpuid flag and the name the messages use for it.
type feature struct {
	id   cpuid.FeatureID
	name string
}

// tier builds the registry entry of k: available when cpuid reports every
// feature and osOK holds; otherwise Why lists what is missing.
func tier(k Kernels, fs []feature, needs string, osOK bool, osWhy string) Impl {
	var missing []string
	for _, f := range fs {
		if !cpuid.CPU.Supports(f.id) {
			missing = append(missing, f.name)
		}
	}
	if !osOK {
		missing = append(missing, osWhy)
	}
	return Impl{Kernels: k, Available: len(missing) == 0, Needs: needs, Why: strings.Join(missing, ", ")}
}
