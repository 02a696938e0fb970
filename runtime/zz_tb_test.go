package runtime

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkZZText8(b *testing.B) {
	path := vitB32(b, "q8")
	m, err := Open(path, Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([][]int32, 8)
	for j := range ids {
		ids[j] = make([]int32, 77)
		ids[j][0] = 49406
		for i := 1; i <= 75; i++ {
			ids[j][i] = int32(r.IntN(49406))
		}
		ids[j][76] = 49407
	}
	dst := make([]float32, 8*m.EmbedDim())
	cpu := startCPU()
	for b.Loop() {
		if err := m.EmbedTokensInto(dst, ids); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}
