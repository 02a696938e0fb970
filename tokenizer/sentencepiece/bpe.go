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
// A merge can never join two symbols whose adjacent bytes appear next to
// each other in no piece, so the text is cut there (between words, mostly)
// and each part merged on its own: merges in parts that cannot interact
// commute, so the result is the one a single agenda over the whole text
// gives, while the agenda stays small. Every merge removes a symbol and
// adds at most two candidates, so a part of n bytes costs O(n log n).
func (m *Model) encodeBPE(norm string) []segment {
	syms := make([]bpeSymbol, 0, len(norm))
	for pos := 0; pos < len(norm); {
		l, frozen := 0, false
		if m.norm.user != nil {
			if l = m.norm.user.LongestPrefix(norm[pos:]); l > 0 {
				frozen = true
			}
		}
		if l == 0 {
			l = min(oneCharLen(norm[pos]), len(norm)-pos)
		}
		i := int32(len(syms))
		syms = append(syms, bpeSymbol{begin: int32(pos), size: int32(l), prev: i - 1, next: i + 1, frozen: frozen})
		pos += l
	}
	b := bpeRun{m: m, norm: norm, syms: syms, segs: make([]segment, 0, len(syms))}
	start := 0
	for k := 1; k <= len(syms); k++ {
		if k < len(syms) && m.pairs.has(norm[syms[k].begin-1], norm[syms[k].begin]) {
			continue
		}
		syms[start].prev, syms[k-1].next = -1, -1
		b.merge(int32(start), int32(k))
		start = k
	}
	return b.segs
}

// bpeRun holds the state of one encodeBPE call.
type bpeRun struct {
	m      *Model
	norm   string
	syms   []bpeSymbol
	agenda pairHeap
	// rev maps an unused merged piece to the pair it was made from.
	rev  map[string][2]string
	segs []segment
}

// add queues the merge of symbols left and right if it makes a piece.
func (b *bpeRun) add(left, right int32) {
	syms := b.syms
	if left < 0 || right < 0 || syms[left].frozen || syms[right].frozen {
		return
	}
	size := syms[left].size + syms[right].size
	piece := b.norm[syms[left].begin : syms[left].begin+size]
	id := b.m.trie.Lookup(piece)
	if id < 0 {
		return
	}
	b.agenda.push(bpePair{left: left, right: right, score: b.m.scores[id], size: size})
	if b.m.types[id] == typeUnused {
		if b.rev == nil {
			b.rev = map[string][2]string{}
		}
		l, r := syms[left], syms[right]
		b.rev[piece] = [2]string{b.norm[l.begin : l.begin+l.size], b.norm[r.begin : r.begin+r.size]}
	}
}

// merge runs the merges over the symbols [lo, hi), which form a list of
// their own, and appends the resulting segments.
func (b *bpeRun) merge(lo, hi int32) {
	syms := b.syms
	b.agenda = b.agenda[:0]
	for i := lo + 1; i < hi; i++ {
		b.add(i-1, i)
	}
	for len(b.agenda) > 0 {
		top := b.agenda.pop()
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
		b.add(l.prev, top.left)
		b.add(top.left, l.next)
	}
	for i := lo; i >= 0; i = syms[i].next {
		s := syms[i]
		b.resegment(s.begin, b.norm[s.begin:s.begin+s.size])
	}
}

// resegment appends piece, split back into the pieces it was merged from
// while it is an unused piece.
func (b *bpeRun) resegment(begin int32, piece string) {
	id := b.m.pieceID(piece)
	if b.m.types[id] == typeUnused {
		if p, ok := b.rev[piece]; ok {
			b.resegment(begin, p[0])
			b.resegment(begin+int32(len(p[0])), p[1])
			return
		}
	}
	b.segs = append(b.segs, segment{begin: begin, end: begin + int32(len(piece)), id: id})
}

// bytePairs is a set of byte pairs: those that occur next to each other in
// some piece.
type bytePairs [1 << 16 / 64]uint64

func (p *bytePairs) add(a, b byte) {
	k := uint(a)<<8 | uint(b)
	p[k>>6] |= 1 << (k & 63)
}

func (p *bytePairs) has(a, b byte) bool {
	k := uint(a)<<8 | uint(b)
	return p[k>>6]&(1<<(k&63)) != 0
}
