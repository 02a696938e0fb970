package format

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// vitB32Shapes returns the tensor shapes of OpenAI's ViT-B/32 CLIP (151M
// parameters) in state-dict order.
func vitB32Shapes() (names []string, shapes [][]int) {
	add := func(name string, shape ...int) {
		names = append(names, name)
		shapes = append(shapes, shape)
	}
	tower := func(prefix string, width, layers, mlp int) {
		for l := range layers {
			p := fmt.Sprintf("%s.resblocks.%d.", prefix, l)
			add(p+"attn.in_proj_weight", 3*width, width)
			add(p+"attn.in_proj_bias", 3*width)
			add(p+"attn.out_proj.weight", width, width)
			add(p+"attn.out_proj.bias", width)
			add(p+"ln_1.weight", width)
			add(p+"ln_1.bias", width)
			add(p+"mlp.c_fc.weight", mlp, width)
			add(p+"mlp.c_fc.bias", mlp)
			add(p+"mlp.c_proj.weight", width, mlp)
			add(p+"mlp.c_proj.bias", width)
			add(p+"ln_2.weight", width)
			add(p+"ln_2.bias", width)
		}
	}
	add("visual.class_embedding", 768)
	add("visual.positional_embedding", 50, 768)
	add("visual.proj", 768, 512)
	add("visual.conv1.weight", 768, 3*32*32)
	add("visual.ln_pre.weight", 768)
	add("visual.ln_pre.bias", 768)
	tower("visual.transformer", 768, 12, 3072)
	add("visual.ln_post.weight", 768)
	add("visual.ln_post.bias", 768)
	add("positional_embedding", 77, 512)
	add("text_projection", 512, 512)
	add("token_embedding.weight", 49408, 512)
	tower("transformer", 512, 12, 2048)
	add("ln_final.weight", 512)
	add("ln_final.bias", 512)
	return names, shapes
}

// writeViTB32 writes a ViT-B/32-sized model with arbitrary values: all f32
// (605 MB), or q8 with 64-wide blocks for every matrix of at least 512
// columns and f32 for the rest.
func writeViTB32(tb testing.TB, path string, q8 bool) int64 {
	tb.Helper()
	w, err := Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer w.Abort()
	m := clipMeta()
	m.Tokenizer.Merges = ""
	m.Quant = QuantInfo{Type: QuantF32}
	if q8 {
		m.Quant = QuantInfo{Type: QuantQ8, Block: 64}
	}
	w.SetMetadata(m)
	const maxElems = 49408 * 512
	f32 := make([]float32, maxElems)
	for i := range f32 {
		f32[i] = float32(i%1000) * 1e-3
	}
	var q []int8
	var scales []float32
	if q8 {
		q = make([]int8, maxElems)
		for i := range q {
			q[i] = int8(i)
		}
		scales = f32[:maxElems/64]
	}
	names, shapes := vitB32Shapes()
	for i, name := range names {
		shape := shapes[i]
		n := 1
		for _, d := range shape {
			n *= d
		}
		if q8 && len(shape) == 2 && shape[1] >= 512 {
			err = w.AddQ8(name, shape, q[:n], scales[:n/64], 64)
		} else {
			err = w.AddF32(name, shape, f32[:n])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		tb.Fatal(err)
	}
	return w.Written()
}

// BenchmarkOpen opens ViT-B/32-sized files (in the page cache, since they
// were just written): plain Open, Open then reading one byte of every 4 KiB
// page (the page-fault cost a first inference pays), and Open with
// VerifyData. The runtime needs Open
// of such a model in at most 50 ms. Besides ns/op it reports the process
// CPU time per op (cpu-ns/op), which is less disturbed than wall time on a
// shared machine.
func BenchmarkOpen(b *testing.B) {
	if testing.Short() {
		b.Skip("writes 770 MB of files")
	}
	dir := b.TempDir()
	for _, q8 := range []bool{false, true} {
		name := "vitb32-f32"
		if q8 {
			name = "vitb32-q8"
		}
		path := filepath.Join(dir, name+".cif")
		size := writeViTB32(b, path, q8)
		for _, mode := range []string{"open", "open+touch", "open+verify"} {
			b.Run(fmt.Sprintf("%s/%dMB/%s", name, size/1e6, mode), func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					f, err := Open(path, OpenOptions{VerifyData: mode == "open+verify"})
					if err != nil {
						b.Fatal(err)
					}
					if mode == "open+touch" {
						touchSink = touchPages(f.data)
					}
					f.Close()
				}
				reportCPU(b, cpu0)
			})
		}
		if err := os.Remove(path); err != nil {
			b.Fatal(err)
		}
	}
}

var touchSink byte

// touchPages reads one byte of every 4 KiB page of b.
func touchPages(b []byte) byte {
	var s byte
	for i := 0; i < len(b); i += 4096 {
		s += b[i]
	}
	return s
}

// reportCPU reports the process CPU time per op since cpu0, if known.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu0 >= 0 {
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}
