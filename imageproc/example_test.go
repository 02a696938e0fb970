package imageproc_test

import (
	"fmt"
	"os"

	"github.com/clipinfer/clipinfer/imageproc"
)

func ExampleDecode() {
	f, err := os.Open("testdata/ref/png_p_48x36.png")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	img, format, err := imageproc.Decode(f, imageproc.DefaultMaxPixels)
	if err != nil {
		panic(err)
	}
	fmt.Println(format, img.Bounds().Dx(), img.Bounds().Dy(), imageproc.PillowMode(img))
	// Output: png 48 36 P
}

func ExamplePreprocess() {
	img, err := imageproc.DecodeFile("testdata/ref/jpg_420_300x200.jpg", 0)
	if err != nil {
		panic(err)
	}
	x, err := imageproc.Preprocess(img, imageproc.DefaultConfig())
	if err != nil {
		panic(err)
	}
	fmt.Println(len(x) == 3*224*224)
	// Output: true
}

func ExamplePreprocessInto() {
	// A Hugging Face model converted with its preprocessor_config.json.
	cfg := imageproc.Config{Size: 224, Crop: 224, Mean: imageproc.CLIPMean, Std: imageproc.CLIPStd, Mode: imageproc.HF}
	batch := make([]float32, 2*3*224*224)
	var s imageproc.Scratch // reused: no allocation per image
	for i, name := range []string{"testdata/ref/png_rgba_45x37.png", "testdata/ref/gif_p_50x40.gif"} {
		img, err := imageproc.DecodeFile(name, 0)
		if err != nil {
			panic(err)
		}
		if err := imageproc.PreprocessInto(batch[i*3*224*224:], img, cfg, &s); err != nil {
			panic(err)
		}
	}
	fmt.Println("ok")
	// Output: ok
}

func ExampleDecode_tooLarge() {
	// A 517×389 PNG is refused under a 100000-pixel limit before any pixel
	// is decoded.
	f, err := os.Open("testdata/ref/png_rgb_517x389.png")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	_, _, err = imageproc.Decode(f, 100000)
	fmt.Println(err)
	// Output: imageproc: PNG: image too large: 517×389 is 201113 pixels, the limit is 100000
}

func ExampleResizeCropRGB8() {
	img, err := imageproc.DecodeFile("testdata/ref/png_rgba_45x37.png", 0)
	if err != nil {
		panic(err)
	}
	cfg := imageproc.Config{Size: 32, Crop: 32, Mean: imageproc.CLIPMean, Std: imageproc.CLIPStd}
	rgb, err := imageproc.ResizeCropRGB8(img, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(rgb)) // 32×32 pixels, 3 bytes each
	// Output: 3072
}

func ExampleLoadFile() {
	// A portrait phone photo stored on its side (EXIF orientation 6), read
	// upright and decoded at a reduced scale.
	cfg := imageproc.DefaultConfig()
	cfg.Size, cfg.Crop = 64, 64
	opt := imageproc.LoadOptions{EXIF: true, FastDecode: true}
	pix, err := imageproc.LoadFile("testdata/photo/orient6_300x200.jpg", cfg, opt)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(pix)) // 3×64×64
	// Output: 12288
}
