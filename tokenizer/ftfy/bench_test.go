package ftfy

import "testing"

// BenchmarkFixTextCorpus runs FixText over the mojibake corpus of the
// fixture file.
func BenchmarkFixTextCorpus(b *testing.B) {
	fx := mustFixtures(b)
	var texts []string
	for _, row := range fx.Groups["mojibake"] {
		texts = append(texts, str(b, row[0]))
	}
	b.ResetTimer()
	for range b.N {
		for _, s := range texts {
			FixText(s)
		}
	}
}
