package checkpoint_test

import (
	"fmt"
	"log"

	"github.com/clipinfer/clipinfer/checkpoint"
)

func ExampleOpen() {
	sd, err := checkpoint.Open("testdata/torch_nested.pt")
	if err != nil {
		log.Fatal(err)
	}
	defer sd.Close()

	fmt.Println(sd.Format)
	for _, name := range sd.Names() {
		fmt.Println(sd.Tensors[name])
	}
	for _, note := range sd.Notes {
		fmt.Println("note:", note)
	}
	scale, err := sd.Tensors["logit_scale"].Float32()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("logit_scale = %.4f, epoch = %v\n", scale[0], sd.Scalars["epoch"])
	// Output:
	// torch-zip
	// logit_scale F32[]
	// visual.conv1.weight F32[4 3 2 2]
	// visual.proj F16[4 3]
	// note: using checkpoint["state_dict"]; other top-level entries not read as weights: epoch, name, optimizer
	// note: stripped the leading "module." from all 3 tensor names
	// logit_scale = 2.6592, epoch = 7
}

func ExampleOpenHF() {
	m, err := checkpoint.OpenHF("testdata/hf_tiny")
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	c := m.Config
	fmt.Println("vision:", c.VisionConfig.ImageSize, c.VisionConfig.PatchSize, c.VisionConfig.HiddenAct)
	fmt.Println("text:", c.TextConfig.HiddenSize, c.TextConfig.EOSTokenID)
	fmt.Println("merges:", len(m.Tokenizer.Merges))
	fmt.Println("crop:", m.Preprocessor.CropSize.Height, m.Preprocessor.CropSize.Width)
	fmt.Println(m.Weights.Tensors["vision_model.embeddings.patch_embedding.weight"])
	// Output:
	// vision: 4 2 quick_gelu
	// text: 8 2
	// merges: 4
	// crop: 4 4
	// vision_model.embeddings.patch_embedding.weight F32[8 3 2 2]
}
