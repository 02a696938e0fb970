package pull_test

import (
	"fmt"

	"github.com/clipinfer/clipinfer/pull"
)

// Known checkpoints are found by name or alias, in any case; OpenAI's
// files are pinned by the SHA-256 in their published path.
func ExampleLookup() {
	c, ok := pull.Lookup("vit-b/32")
	fmt.Println(ok, c.Name, c.Files[0].Name, c.Files[0].SHA256[:12])
	// Output: true ViT-B-32 ViT-B-32.pt 40d365715913
}

// A URL becomes a one-file checkpoint; a 64-hex folder in its path is
// checked as the file's SHA-256.
func ExampleFromURL() {
	c, err := pull.FromURL("https://mirror.example/clip/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/My-CLIP.pt")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Name, c.Base, c.Files[0].SHA256 != "")
	// Output: My-CLIP https://mirror.example true
}
