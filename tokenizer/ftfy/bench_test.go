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

// BenchmarkFixTextCleanText is the cost on text that needs no fix but is
// not plain ASCII: an "&" that is no reference, accented letters, CJK.
func BenchmarkFixTextCleanText(b *testing.B) {
	texts := []string{
		"a photo of AT&T's headquarters at night",
		"a café in Zürich with crème brûlée on the table",
		"東京タワーの写真, a photo of Tokyo tower",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range texts {
			FixText(s)
		}
	}
}
