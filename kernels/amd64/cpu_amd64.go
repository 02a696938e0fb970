package amd64

import "fmt"

//go:noescape
func cpuidex(leaf, sub uint32) (a, b, c, d uint32)

func xgetbv0() uint32

// xcr0AVX512 are the XCR0 bits the OS sets when it saves the state AVX-512
// code uses: SSE (1), AVX upper halves (2), opmask (5), upper halves of
// ZMM0-15 (6) and ZMM16-31 (7).
const xcr0AVX512 = 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<7

// AVX512OSState reports whether the OS saves and restores the ZMM and
// opmask registers (XGETBV(0) has bits 1, 2, 5, 6 and 7), and a one-line
// description of what it found. Without that state an AVX-512 instruction
// faults even on a CPU that has it.
func AVX512OSState() (ok bool, why string) {
	_, _, c, _ := cpuidex(1, 0)
	if c&(1<<27) == 0 {
		return false, "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE = 0)"
	}
	xcr0 := xgetbv0()
	if xcr0&xcr0AVX512 != xcr0AVX512 {
		return false, fmt.Sprintf("the OS does not save the ZMM and opmask registers (XCR0 = %#x, needs bits 1, 2, 5, 6, 7)", xcr0)
	}
	return true, fmt.Sprintf("XCR0 = %#x", xcr0)
}
