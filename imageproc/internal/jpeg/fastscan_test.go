package jpeg

import (
	"bytes"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeCareful decodes data with the per-symbol path only.
func decodeCareful(data []byte, opt Options) (Decoded, error) {
	d := decoder{opt: opt, careful: true}
	d.bytes.buf, d.bytes.j = data, len(data)
	return d.run(nil)
}

// dirtyAlloc gives plane memory with a fixed pattern, so that samples a
// decoder leaves alone compare equal too.
func dirtyAlloc(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

// sameDecode checks that the fast sequential decoder (in place and through
// a reader's 4 KiB buffer) gives what the careful path gives: the same
// error, or the same bytes in the whole of the plane memory.
func sameDecode(t *testing.T, data []byte, opt Options) {
	t.Helper()
	opt.Alloc = dirtyAlloc
	want, werr := decodeCareful(data, opt)
	for name, decode := range map[string]func() (Decoded, error){
		"in place": func() (Decoded, error) { return DecodeBytes(data, opt) },
		"reader":   func() (Decoded, error) { return Decode(bytes.NewReader(data), opt) },
	} {
		got, gerr := decode()
		if werr != nil || gerr != nil {
			require.Equal(t, werr, gerr, "%s, scale %d", name, opt.Scale)
			continue
		}
		require.Equal(t, want.Scale, got.Scale, name)
		require.Equal(t, want.Image.Bounds(), got.Image.Bounds(), name)
		require.True(t, bytes.Equal(want.Planes, got.Planes), "%s, scale %d: planes differ", name, opt.Scale)
	}
}

// fastCases are the JPEGs the fast decoder is checked on: the corpus
// (restart intervals, 4:4:4, 4:2:2, 4:2:0, grey, odd sizes, optimised
// tables), the reference fixtures, and pictures image/jpeg's encoder
// makes at random sizes and qualities (4:2:0 and grey).
func fastCases(t testing.TB) map[string][]byte {
	cases := map[string][]byte{}
	for _, glob := range []string{"testdata/corpus/*.jpg", "../../testdata/ref/*.jpg"} {
		files, err := filepath.Glob(glob)
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			cases[filepath.Base(f)] = data
		}
	}
	rng := rand.New(rand.NewPCG(14, 1))
	for i := range 12 {
		w, h := 1+rng.IntN(90), 1+rng.IntN(70)
		var img image.Image
		if i%3 == 2 {
			g := image.NewGray(image.Rect(0, 0, w, h))
			for j := range g.Pix {
				g.Pix[j] = uint8(j*3 + rng.IntN(96))
			}
			img = g
		} else {
			m := image.NewRGBA(image.Rect(0, 0, w, h))
			for y := range h {
				for x := range w {
					m.Set(x, y, color.RGBA{uint8(x*5 + rng.IntN(80)), uint8(y*4 + rng.IntN(80)), uint8(rng.IntN(256)), 255})
				}
			}
			img = m
		}
		var buf bytes.Buffer
		require.NoError(t, stdjpeg.Encode(&buf, img, &stdjpeg.Options{Quality: 40 + rng.IntN(61)}))
		cases["gen"+string(rune('a'+i))] = buf.Bytes()
	}
	return cases
}

// The fast sequential decoder gives byte-identical planes to the careful
// path, at every scale, with and without a needed region, on whole,
// truncated and corrupted files, and fails where it fails, with the same
// error.
func TestFastScanMatchesCareful(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	for name, data := range fastCases(t) {
		t.Run(name, func(t *testing.T) {
			cfg, err := DecodeConfig(bytes.NewReader(data))
			require.NoError(t, err)
			need := image.Rect(cfg.Width/5, cfg.Height/3, cfg.Width/5+cfg.Width/2+1, cfg.Height/3+cfg.Height/3+1)
			variants := [][]byte{data}
			for range 3 {
				variants = append(variants, data[:rng.IntN(len(data))])
			}
			for range 6 {
				c := bytes.Clone(data)
				for range 1 + rng.IntN(3) {
					p := len(c)/4 + rng.IntN(len(c)*3/4)
					switch rng.IntN(3) {
					case 0:
						c[p] = 0xff
					case 1:
						c[p] ^= 1 << rng.IntN(8)
					default:
						c[p] = uint8(rng.IntN(256))
					}
				}
				variants = append(variants, c)
			}
			for _, v := range variants {
				for _, s := range []int{1, 2, 4, 8} {
					sameDecode(t, v, Options{Scale: s})
					sameDecode(t, v, Options{Scale: s, Need: image.Rect(need.Min.X/s, need.Min.Y/s, need.Max.X/s+1, need.Max.Y/s+1)})
				}
			}
		})
	}
}

// FuzzFastScan compares the fast sequential decoder with the careful path
// on arbitrary input at every scale, with and without a needed region:
// the same error or the same planes, and no panic.
func FuzzFastScan(f *testing.F) {
	for _, data := range fastCases(f) {
		if len(data) < 16<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<16 {
			return
		}
		for _, s := range []int{1, 2, 4, 8} {
			sameDecode(t, data, Options{Scale: s})
			sameDecode(t, data, Options{Scale: s, Need: image.Rect(cfg.Width/4/s, cfg.Height/4/s, cfg.Width/2/s+1, cfg.Height/2/s+1)})
		}
	})
}

// idct2Ref is idct2 as written first (a loop over the columns with a
// shortcut per zero test), kept to check the unrolled one against.
func idct2Ref(b *block, dst []byte, stride int) {
	var ws [8 * 2]int32
	for _, c := range [...]int{0, 1, 3, 5, 7} {
		col := func(r int) int32 { return b[8*r+c] }
		if col(1) == 0 && col(3) == 0 && col(5) == 0 && col(7) == 0 {
			dc := col(0) << pass1Bits
			ws[c], ws[8+c] = dc, dc
			continue
		}
		t10 := col(0) << (constBits + 2)
		t0 := -col(7)*fix0_720959822 + col(5)*fix0_850430095 - col(3)*fix1_272758580 + col(1)*fix3_624509785
		const sh = constBits - pass1Bits + 2
		ws[c] = descale(t10+t0, sh)
		ws[8+c] = descale(t10-t0, sh)
	}
	for r := range 2 {
		w := ws[8*r : 8*r+8 : 8*r+8]
		d := dst[r*stride : r*stride+2 : r*stride+2]
		if w[1] == 0 && w[3] == 0 && w[5] == 0 && w[7] == 0 {
			v := level(descale(w[0], pass1Bits+3))
			d[0], d[1] = v, v
			continue
		}
		t10 := w[0] << (constBits + 2)
		t0 := -w[7]*fix0_720959822 + w[5]*fix0_850430095 - w[3]*fix1_272758580 + w[1]*fix3_624509785
		const sh = constBits + pass1Bits + 3 + 2
		d[0] = level(descale(t10+t0, sh))
		d[1] = level(descale(t10-t0, sh))
	}
}

// idct2 gives idct2Ref's samples on sparse and dense blocks, small and
// extreme (overflowing) coefficients.
func TestIDCT2MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	for n := range 20000 {
		var b block
		scale := []int32{4, 64, 2048, 1 << 20, 1 << 30}[n%5]
		for range rng.IntN(12) {
			b[rng.IntN(blockSize)] = int32(rng.Int64N(2*int64(scale)) - int64(scale))
		}
		var want, got [2 * 5]byte
		idct2Ref(&b, want[:], 5)
		idct2(&b, got[:], 5)
		require.Equal(t, want, got, "block %v", b)
	}
}
