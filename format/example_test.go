package format_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/clipinfer/clipinfer/format"
)

// writeExample writes a tiny SimpleCLIP-style model to path.
func writeExample(path string) error {
	w, err := format.Create(path)
	if err != nil {
		return err
	}
	defer w.Abort() // no-op once committed
	w.SetMetadata(&format.Metadata{
		Architecture: format.ArchSimpleCLIP,
		Family:       format.FamilySimpleCLIP,
		EmbedDim:     2,
		LogitScale:   14.3,
		SimpleCLIP: &format.SimpleCLIPConfig{VocabSize: 3, EmbedDim: 2, HiddenDim: 2,
			ImageInputDim: 4, ImageHiddenDim: 2, OutputDim: 2, UnknownTokenID: 1},
		Tokenizer: &format.TokenizerInfo{Kind: format.TokenizerWords, Vocab: "vocab"},
		Quant:     format.QuantInfo{Type: format.QuantQ8},
	})
	if err := w.AddBytes("vocab", []byte("<pad>\n<unk>\ndog\n")); err != nil {
		return err
	}
	if err := w.AddF32("text_encoder.embedding.weight", []int{3, 2}, []float32{0, 0, 0.5, -0.5, 1, 2}); err != nil {
		return err
	}
	// Two rows of four int8 values, one scale per block of two columns.
	q := []int8{127, -127, 64, 0, 1, 2, 3, 4}
	scales := []float32{0.01, 0.02, 0.5, 0.25}
	if err := w.AddQ8("image_encoder.encoder.0.weight", []int{2, 4}, q, scales, 2); err != nil {
		return err
	}
	return w.Commit()
}

func ExampleCreate() {
	dir, err := os.MkdirTemp("", "format-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "simple.cif")

	if err := writeExample(path); err != nil {
		log.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("file size:", fi.Size())
	// Output:
	// file size: 832
}

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "format-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "simple.cif")
	if err := writeExample(path); err != nil {
		log.Fatal(err)
	}

	f, err := format.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close() // views below are invalid after this

	m := f.Metadata()
	fmt.Println(m.Architecture, m.EmbedDim, m.LogitScale)
	for _, t := range f.Tensors() {
		fmt.Println(t.Name, t.DType, t.Shape, t.Block)
	}

	w, err := f.Tensor("image_encoder.encoder.0.weight")
	if err != nil {
		log.Fatal(err)
	}
	q, scales, err := w.Q8() // in place: no copy
	if err != nil {
		log.Fatal(err)
	}
	// Dequantise row 0: q[r][c] × scales[r][c/Block].
	nb := w.Cols() / w.Block
	for c := range w.Cols() {
		fmt.Print(float32(q[c])*scales[c/w.Block], " ")
	}
	fmt.Println("| blocks per row:", nb)

	_, err = f.Tensor("visual.proj")
	fmt.Println(err != nil)
	// Output:
	// simpleclip 2 14.3
	// vocab u8 [16] 0
	// text_encoder.embedding.weight f32 [3 2] 0
	// image_encoder.encoder.0.weight q8 [2 4] 2
	// 1.27 -1.27 1.28 0 | blocks per row: 2
	// true
}

func ExampleFile_Verify() {
	dir, err := os.MkdirTemp("", "format-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "simple.cif")
	if err := writeExample(path); err != nil {
		log.Fatal(err)
	}

	// Damage one byte of tensor data: Open (without VerifyData) does not
	// read the data, Verify does.
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	b[format.HeaderSize] ^= 0xff
	f, err := format.OpenBytes(b)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fmt.Println(f.Verify())

	_, err = format.OpenBytes(b, format.OpenOptions{VerifyData: true})
	fmt.Println(err != nil)
	// Output:
	// format: verify in-memory file: tensor "vocab": data checksum mismatch (stored 3c69b299, computed b3b3cf63)
	// true
}
