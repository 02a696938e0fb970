package sentencepiece

// unkPenalty lowers the unknown piece below every known piece.
const unkPenalty = 10.0

// bestPath is the best segmentation of a prefix of the normalised text
// that ends at one byte position.
type bestPath struct {
	score float32
	start int32 // where its last piece starts; -1 while unreached
	id    int32
}

// encodeUnigram finds the highest-scoring segmentation of norm (Viterbi
// over the lattice of vocabulary pieces), as sentencepiece's optimised
// unigram encoder does: one best path per end position, filled left to
// right, with the same float32/float64 arithmetic and the same tie order
// (the first candidate wins, shorter pieces are tried first), so equal
// scores resolve the same way.
//
// Each start position walks the trie at most one piece deep (at most
// MaxPieceBytes), so the work is O(len(norm) · MaxPieceBytes) and the
// memory O(len(norm)).
func (m *Model) encodeUnigram(norm string) []segment {
	size := len(norm)
	unkScore := m.minScore - unkPenalty
	best := make([]bestPath, size+1)
	for i := range best {
		best[i].start = -1
	}
	best[0].start = 0
	for start := 0; start < size; {
		till := best[start].score
		mblen := min(oneCharLen(norm[start]), size-start)
		single := false
		node := int32(0)
		for end := start; end < size; {
			if node = m.trie.Child(node, norm[end]); node < 0 {
				break
			}
			end++
			id := m.trie.Value(node)
			if id < 0 || m.types[id] == typeUnused {
				continue
			}
			length := end - start
			// The C++ expression mixes float and double: a user-defined
			// piece scores (float)(length*max) - 0.1 in double, and the
			// sum is compared in double before it is stored as float.
			var score float64
			if m.types[id] == typeUserDefined {
				score = float64(float32(length)*m.maxScore) - 0.1
			} else {
				score = float64(m.scores[id])
			}
			cand := score + float64(till)
			t := &best[end]
			if t.start < 0 || cand > float64(t.score) {
				t.score, t.start, t.id = float32(cand), int32(start), id
			}
			if length == mblen {
				single = true
			}
		}
		if !single {
			t := &best[start+mblen]
			cand := unkScore + till // float arithmetic, as in C++
			if t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, int32(start), m.unkID
			}
		}
		start += mblen
	}
	n := 0
	for end := size; end > 0; end = int(best[end].start) {
		n++
	}
	segs := make([]segment, n)
	for end := size; end > 0; end = int(best[end].start) {
		n--
		segs[n] = segment{begin: best[end].start, end: int32(end), id: best[end].id}
	}
	return segs
}
