package server_test

import (
	"context"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"strings"

	clip "github.com/clipinfer/clipinfer/runtime"

	"github.com/clipinfer/clipinfer/server"
)

// constModel stands in for a *runtime.Model.
type constModel struct{}

func (constModel) EmbedTexts(t []string) ([][]float32, error) {
	out := make([][]float32, len(t))
	for i := range out {
		out[i] = []float32{1, 0}
	}
	return out, nil
}
func (constModel) EmbedImages(im []image.Image) ([][]float32, error) { return nil, nil }
func (constModel) EmbedDim() int                                     { return 2 }
func (constModel) Score(img []float32, labels [][]float32) clip.Scores {
	return clip.SoftmaxScores(clip.Cosines(img, labels), 100)
}

func Example() {
	s, err := server.New(server.Config{Model: constModel{}, ModelName: "demo", MaxConcurrent: 2})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Serve(ctx, ln) }()

	resp, err := http.Post("http://"+ln.Addr().String()+"/v1/embeddings", "application/json",
		strings.NewReader(`{"model":"demo","input":"a photo of a cat"}`))
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.StatusCode, " ", string(body))

	stop() // graceful shutdown
	fmt.Println(<-done)
	// Output:
	// 200 {"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,0]}],"model":"demo","usage":{"prompt_tokens":0,"total_tokens":0}}
	// <nil>
}
