// Command mkvitb32 writes a random-weight ViT-B/32 (OpenAI's shapes) as
// safetensors, for bench/photos/run.sh to convert to q8: speed does not
// depend on weight values.
//
//	go run ./bench/photos/mkvitb32 OUT.safetensors
package main

import (
	"fmt"
	"os"

	"github.com/clipinfer/clipinfer/internal/randclip"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkvitb32 OUT.safetensors")
		os.Exit(2)
	}
	if err := randclip.WriteSafetensors(os.Args[1], randclip.ViTB32, 1); err != nil {
		fmt.Fprintln(os.Stderr, "mkvitb32:", err)
		os.Exit(1)
	}
}
