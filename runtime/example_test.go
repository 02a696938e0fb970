package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	clip "github.com/clipinfer/clipinfer/runtime"
)

// exampleModel returns the small random test model, converted once per
// test binary (a real application converts once with cmd/convert).
func exampleModel() string {
	path, err := clip.SharedTestModel()
	if err != nil {
		log.Fatal(err)
	}
	return path
}

// Zero-shot classification: embed an image and one text per label, then
// take the softmax of the scaled similarities.
func Example() {
	path := exampleModel()

	m, err := clip.Open(path, clip.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	labels, err := m.EmbedTexts([]string{"a photo of a cat", "a photo of a dog", "a diagram"})
	if err != nil {
		log.Fatal(err)
	}
	img, err := m.EmbedImageFiles([]string{"../testdata/images/gradient-64x48.png"})
	if err != nil {
		log.Fatal(err)
	}
	probs := m.ZeroShot(img[0], labels)
	var sum float32
	for _, p := range probs {
		sum += p
	}
	fmt.Printf("%d labels, probabilities sum to %.3f\n", len(probs), sum)
	// Output: 3 labels, probabilities sum to 1.000
}

func ExampleOpen() {
	path := exampleModel()

	m, err := clip.Open(path, clip.Options{Threads: 2})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	meta := m.Metadata()
	fmt.Println(meta.Architecture, meta.Quant.Type, m.EmbedDim(), m.HasVision(), m.HasText())
	// Output: clip-vit q8 64 true true
}

func ExampleModel_EmbedTexts() {
	path := exampleModel()
	m, err := clip.Open(path, clip.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	emb, err := m.EmbedTexts([]string{"a photo of a cat", "a photo of a cat"})
	if err != nil {
		log.Fatal(err)
	}
	// Embeddings are unit vectors, so a text's similarity with itself is 1.
	fmt.Printf("%d vectors of %d; self-similarity %.4f\n", len(emb), len(emb[0]), clip.Similarity(emb[0], emb[1]))
	// Output: 2 vectors of 64; self-similarity 1.0000
}

func ExampleModel_Tokenize() {
	path := exampleModel()
	m, err := clip.Open(path, clip.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	ids, err := m.Tokenize("a photo of a cat")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ids), ids[:7])
	// Output: 77 [49406 320 1125 539 320 2368 49407]
}

func ExampleSimilarity() {
	a := []float32{0.6, 0.8}
	b := []float32{1, 0}
	fmt.Printf("%.2f\n", clip.Similarity(a, b))
	// Output: 0.60
}

func ExampleNormalize() {
	v := []float32{3, 4}
	clip.Normalize(v)
	fmt.Println(v)
	// Output: [0.6 0.8]
}

// A caller that gives up (a deadline, a closed connection) stops the
// encoders at their next layer; the error wraps the context's.
func ExampleModel_EmbedTextsContext() {
	m, err := clip.Open(exampleModel(), clip.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	embs, err := m.EmbedTextsContext(ctx, []string{"a photo of a cat"})
	fmt.Println(len(embs), err)

	cancel() // the caller has gone
	_, err = m.EmbedTextsContext(ctx, []string{"a photo of a cat"})
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// 1 <nil>
	// true
}
