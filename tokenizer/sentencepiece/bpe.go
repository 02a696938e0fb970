package sentencepiece

// bpeSymbol is one symbol of the sequence being merged: the span
// [begin, begin+size) of the normalised text, linked to its neighbours.
type bpeSymbol struct {
	begin, size int32
	prev, next  int32
	frozen      bool // a user-defined piece, never merged
}

// bpePair is a candidate merge of the adjacent symbols left and right.
type bpePair struct {
	left, right int32
	score       float32
	size        int32 // bytes of the merged piece; a stale pair no longer matches
}

// before orders the agenda: higher score first, then the leftmost pair.
func (a bpePair) before(b bpePair) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

// pairHeap is a binary max-heap of candidate merges.
type pairHeap []bpePair

func (h *pairHeap) push(p bpePair) {
	*h = append(*h, p)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s[i].before(s[parent]) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *pairHeap) pop() bpePair {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].before(s[m]) {
			m = l
		}
		if r < len(s) && s[r].before(s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// encodeBPE segments norm as sentencepiece's BPE model does: start from
// characters (user-defined pieces whole and frozen), repeatedly merge the
// adjacent pair whose merged piece is in the vocabulary with the highest
// score (ties to the leftmost), and split unused pieces back into the pair
// they were merged from.
//
// Every merge removes a symbol and adds at most two candidates, so the
// agenda holds fewer than 3·len(norm) pairs and the work is
// O(n log n) for n = len(norm).
func (m *Model) encodeBPE(norm string) []segment {
	syms := make([]bpeSymbol, 0, len(norm))
	for pos := 0; pos < len(norm); {
		l, frozen := 0, false
		if m.norm.user != nil {
			if l = m.norm.user.longestPrefix(norm[pos:]); l > 0 {
				frozen = true
			}
		}
		if l == 0 {
			l = min(oneCharLen(norm[pos]), len(norm)-pos)
		}
		i := int32(len(syms))
		next := i + 1
		if pos+l == len(norm) {
			next = -1
		}
		syms = append(syms, bpeSymbol{begin: int32(pos), size: int32(l), prev: i - 1, next: next, frozen: frozen})
		pos += l
	}

	// rev maps an unused merged piece to the pair it was made from.
	var rev map[string][2]string
	var agenda pairHeap
	add := func(left, right int32) {
		if left < 0 || right < 0 || syms[left].frozen || syms[right].frozen {
			return
		}
		size := syms[left].size + syms[right].size
		piece := norm[syms[left].begin : syms[left].begin+size]
		id := m.trie.lookup(piece)
		if id < 0 {
			return
		}
		agenda.push(bpePair{left: left, right: right, score: m.scores[id], size: size})
		if m.types[id] == typeUnused {
			if rev == nil {
				rev = map[string][2]string{}
			}
			l, r := syms[left], syms[right]
			rev[piece] = [2]string{norm[l.begin : l.begin+l.size], norm[r.begin : r.begin+r.size]}
		}
	}
	for i := 1; i < len(syms); i++ {
		add(int32(i-1), int32(i))
	}
	for len(agenda) > 0 {
		top := agenda.pop()
		l, r := &syms[top.left], &syms[top.right]
		if l.size == 0 || r.size == 0 || l.size+r.size != top.size {
			continue
		}
		l.size += r.size
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = top.left
		}
		r.size = 0
		add(l.prev, top.left)
		add(top.left, l.next)
	}

	segs := make([]segment, 0, len(syms))
	var resegment func(begin int32, piece string)
	resegment = func(begin int32, piece string) {
		id := m.pieceID(piece)
		if m.types[id] == typeUnused {
			if p, ok := rev[piece]; ok {
				resegment(begin, p[0])
				resegment(begin+int32(len(p[0])), p[1])
				return
			}
		}
		segs = append(segs, segment{begin: begin, end: begin + int32(len(piece)), id: id})
	}
	for i := int32(0); i >= 0 && len(syms) > 0; i = syms[i].next {
		s := syms[i]
		resegment(s.begin, norm[s.begin:s.begin+s.size])
	}
	return segs
}
