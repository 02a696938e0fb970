package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clipinfer/clipinfer/index"
)

func Example() {
	// An index of three "images" with 4-dimensional embeddings.
	x, err := index.New(index.ModelInfo{Fingerprint: "sha256:example", Dim: 4}, index.Int8)
	if err != nil {
		panic(err)
	}
	vecs := map[string][]float32{
		"/photos/cat.jpg":  {1, 0, 0, 0},
		"/photos/dog.jpg":  {0, 1, 0, 0},
		"/photos/kite.jpg": {0.6, 0, 0.8, 0},
	}
	for _, p := range []string{"/photos/cat.jpg", "/photos/dog.jpg", "/photos/kite.jpg"} {
		if err := x.Add(index.Entry{Path: p}, vecs[p]); err != nil {
			panic(err)
		}
	}
	hits, err := x.Search([]float32{0.8, 0, 0.6, 0}, 2, index.SearchOptions{})
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.2f\n", h.Path, h.Score)
	}
	// Output:
	// /photos/kite.jpg 0.96
	// /photos/cat.jpg 0.80
}

func ExampleIndex_Save() {
	dir, err := os.MkdirTemp("", "index-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	x, _ := index.New(index.ModelInfo{Fingerprint: "sha256:example", Dim: 2}, index.Float16)
	_ = x.Add(index.Entry{Path: "/a.jpg", Size: 10, ModTime: 1}, []float32{0.6, 0.8})
	path := filepath.Join(dir, "photos.idx")
	if err := x.Save(path); err != nil {
		panic(err)
	}
	y, err := index.Load(path)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d %s %s %.3f\n", y.Len(), y.DType(), y.Entry(0).Path, y.Vector(0, nil))
	fmt.Println(y.CheckModel("sha256:other") != nil)
	// Output:
	// 1 f16 /a.jpg [0.600 0.800]
	// true
}

// colourEmbedder stands in for a model: it "embeds" a file by its size.
type colourEmbedder struct{}

func (colourEmbedder) Load(path string) ([]float32, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return []float32{float32(st.Size()), 1}, nil
}

func (colourEmbedder) Embed(in [][]float32) ([][]float32, error) { return in, nil }

func ExampleUpdate() {
	dir, _ := os.MkdirTemp("", "update-example")
	defer os.RemoveAll(dir)
	for _, name := range []string{"a.jpg", "b.png", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644)
	}
	x, _ := index.New(index.ModelInfo{Fingerprint: "sha256:example", Dim: 2}, index.Int8)
	st, err := index.Update(context.Background(), x, []string{dir}, index.UpdateOptions{Embedder: colourEmbedder{}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("added %d, ignored %d\n", st.Added, st.Ignored)
	// A second run finds nothing new.
	st, _ = index.Update(context.Background(), x, []string{dir}, index.UpdateOptions{Embedder: colourEmbedder{}})
	fmt.Printf("kept %d, added %d\n", st.Kept, st.Added)
	// Output:
	// added 2, ignored 1
	// kept 2, added 0
}
