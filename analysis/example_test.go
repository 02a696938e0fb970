package analysis_test

import (
	"fmt"

	"github.com/clipinfer/clipinfer/analysis"
)

func ExampleEvaluate() {
	text := [][]float32{{1, 0.1}, {0.1, 1}, {-1, 0.2}}
	image := [][]float32{{0.9, 0}, {0, 0.8}, {-1, -0.1}}
	ev, err := analysis.Evaluate(text, image, []float64{0.07}, []int{1})
	if err != nil {
		panic(err)
	}
	fmt.Printf("loss %.4f, R@1 %.2f/%.2f, matched %.3f\n", ev.Loss["0.07"], ev.RecallTextToImage["1"], ev.RecallImageToText["1"], ev.MatchedCosine)
	// Output: loss 0.0000, R@1 1.00/1.00, matched 0.982
}

func ExampleModalityGap() {
	text := [][]float32{{1, 1}, {1, 0.8}}
	image := [][]float32{{1, -1}, {0.8, -1}}
	g, _ := analysis.ModalityGap(text, image)
	// The lecture converts radians with 180/3.14159, so a right angle reads
	// slightly over 90°; the lecture's PyTorch code prints the same.
	fmt.Printf("gap %.4f, angle %.5f°\n", g.Magnitude, g.CentroidAngleDeg)
	// Output: gap 1.4120, angle 90.00008°
}

func ExampleFEDA() {
	x := [][]float32{{1, 2}, {3, 4}}
	out, _ := analysis.FEDA(x, []int{analysis.Source, analysis.Target})
	fmt.Println(out)
	// Output: [[1 2 1 2 0 0] [3 4 0 0 3 4]]
}

func ExampleLabelEmbeddings() {
	// A stand-in text encoder: real code passes a model's EmbedTexts.
	embed := func(texts []string) ([][]float32, error) {
		out := make([][]float32, len(texts))
		for i, t := range texts {
			out[i] = []float32{float32(len(t)), 1}
		}
		return out, nil
	}
	labels, _ := analysis.LabelEmbeddings(embed, []string{"cat", "dog"}, []string{"a photo of a {}.", "a drawing of a {}."})
	fmt.Println(len(labels), len(labels[0]))
	// Output: 2 2
}

func ExampleTrainProbe() {
	x := [][]float32{{1, 0}, {0.8, 0.2}, {0, 1}, {0.2, 0.8}}
	y := []int{0, 0, 1, 1}
	p, _ := analysis.TrainProbe(x, y, 2, analysis.ProbeOptions{Epochs: 100})
	acc, _ := p.Accuracy(x, y)
	fmt.Println(p.Predict([]float32{0.9, 0.1}), acc)
	// Output: 0 1
}
