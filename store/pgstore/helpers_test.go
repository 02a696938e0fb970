package pgstore_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func npyRow(b []byte, row, dim int) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*(row*dim+j):]))
	}
	return v
}
