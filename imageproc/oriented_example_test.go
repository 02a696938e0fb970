package imageproc_test

import (
	"fmt"
	"os"

	"github.com/clipinfer/clipinfer/imageproc"
)

// DecodeFor reads an uploaded photo as a file is read for the model: a
// JPEG stored 300×200 with EXIF orientation 6 comes back as the 200×300
// picture a person sees, and preprocesses to LoadFile's tensor.
func ExampleDecodeFor() {
	f, err := os.Open("testdata/photo/orient6_300x200.jpg")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	cfg := imageproc.DefaultConfig()
	img, format, err := imageproc.DecodeFor(f, cfg, imageproc.LoadOptions{EXIF: true})
	if err != nil {
		panic(err)
	}
	_, turned := img.(*imageproc.Oriented)
	fmt.Println(format, img.Bounds().Dx(), img.Bounds().Dy(), turned)
	pix, err := imageproc.Preprocess(img, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(pix))
	// Output:
	// jpeg 200 300 true
	// 150528
}
