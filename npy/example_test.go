package npy_test

import (
	"bytes"
	"fmt"

	"github.com/clipinfer/clipinfer/npy"
)

func Example() {
	var buf bytes.Buffer
	if err := npy.WriteFloat32(&buf, []float32{1, 2, 3, 4, 5, 6}, []int{2, 3}); err != nil {
		panic(err)
	}
	data, shape, err := npy.ReadFloat32(&buf)
	if err != nil {
		panic(err)
	}
	fmt.Println(shape, data)
	// Output: [2 3] [1 2 3 4 5 6]
}
