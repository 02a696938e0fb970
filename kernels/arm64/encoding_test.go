package arm64

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// word is one WORD directive of the generated assembly.
type word struct {
	enc   uint32
	arm   string // the instruction in Arm syntax, from the comment
	fn    string // TEXT symbol it belongs to
	where string
}

var (
	wordRE = regexp.MustCompile(`^\s*WORD \$0x([0-9a-f]{8}) // (.+)$`)
	textRE = regexp.MustCompile(`^TEXT ·(\w+)\(SB\)`)
	encRE  = regexp.MustCompile(`encoding: \[0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2}),0x([0-9a-f]{2})\]`)
)

func readWords(t *testing.T) []word {
	t.Helper()
	files, err := filepath.Glob("*_arm64.s")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var words []word
	for _, name := range files {
		f, err := os.Open(name)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		fn := ""
		for line := 1; sc.Scan(); line++ {
			if m := textRE.FindStringSubmatch(sc.Text()); m != nil {
				fn = m[1]
			}
			m := wordRE.FindStringSubmatch(sc.Text())
			if m == nil {
				require.NotContains(t, sc.Text(), "WORD", "%s:%d: WORD without an Arm-syntax comment", name, line)
				continue
			}
			enc, err := strconv.ParseUint(m[1], 16, 32)
			require.NoError(t, err)
			words = append(words, word{uint32(enc), m[2], fn, fmt.Sprintf("%s:%d", name, line)})
		}
		require.NoError(t, sc.Err())
		require.NoError(t, f.Close())
	}
	return words
}

// llvmMC assembles the instructions with llvm-mc for the given features
// and returns their encodings, or an error naming what it rejected.
func llvmMC(t *testing.T, mc, mattr string, insts []string) ([]uint32, error) {
	t.Helper()
	args := []string{"-triple=aarch64", "-show-encoding"}
	if mattr != "" {
		args = append(args, "-mattr="+mattr)
	}
	cmd := exec.Command(mc, args...)
	cmd.Stdin = strings.NewReader(strings.Join(insts, "\n") + "\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("llvm-mc %s: %w: %s", mattr, err, stderr.String())
	}
	var encs []uint32
	for _, line := range strings.Split(string(out), "\n") {
		m := encRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var v uint32
		for i := 4; i >= 1; i-- {
			b, _ := strconv.ParseUint(m[i], 16, 8)
			v = v<<8 | uint32(b)
		}
		encs = append(encs, v)
	}
	return encs, nil
}

// TestWordEncodings checks every WORD of the generated assembly against an
// independent assembler: llvm-mc must encode the instruction in the
// comment to exactly the WORD's value. It also checks that only qgemmDot
// needs the dot-product extension and only qgemmMMLA the int8 matrix
// multiply: every other WORD must assemble for plain ARMv8.0 (the
// Raspberry Pi 4's Cortex-A72).
func TestWordEncodings(t *testing.T) {
	words := readWords(t)
	require.Greater(t, len(words), 100, "expected the generated kernels' WORDs")
	mc, err := exec.LookPath("llvm-mc")
	if err != nil {
		t.Skip("llvm-mc not installed: WORD encodings not cross-checked")
	}
	var v80, dot, mmla []word
	for _, w := range words {
		switch {
		case w.fn == "qgemmDot":
			dot = append(dot, w)
		case strings.HasPrefix(w.fn, "qgemmMMLA") && strings.HasPrefix(w.arm, "smmla"):
			mmla = append(mmla, w)
		default:
			v80 = append(v80, w)
		}
	}
	for _, set := range []struct {
		mattr string
		words []word
	}{{"-dotprod,-fullfp16,-i8mm", v80}, {"+dotprod", dot}, {"+i8mm", mmla}} {
		insts := make([]string, len(set.words))
		for i, w := range set.words {
			insts[i] = w.arm
		}
		encs, err := llvmMC(t, mc, set.mattr, insts)
		require.NoError(t, err)
		require.Len(t, encs, len(set.words))
		for i, w := range set.words {
			require.Equal(t, fmt.Sprintf("%08x", encs[i]), fmt.Sprintf("%08x", w.enc), "%s: %s", w.where, w.arm)
		}
	}
	// The SDOT words really need the extension (so the check above means
	// something): llvm-mc must refuse them without it.
	_, err = llvmMC(t, mc, "-dotprod", []string{dot[0].arm})
	require.Error(t, err, "%s assembled without +dotprod", dot[0].arm)
	_, err = llvmMC(t, mc, "-i8mm", []string{mmla[0].arm})
	require.Error(t, err, "%s assembled without +i8mm", mmla[0].arm)
}
