package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Symbols are interned: ids 0-255 are the byte symbols, 256-511 the same
// with "</w>", higher ids the other strings the merges mention.
const endWordSym = 256

// merge is what a ranked pair of symbols turns into.
type merge struct {
	rank   int32
	result int32 // symbol id of the concatenation
}

// bpeTable holds the merge ranks and the vocabulary id of every symbol.
type bpeTable struct {
	merges   map[uint64]merge // key: left<<32 | right
	symVocab []int32          // symbol id -> vocabulary id (-1: none)

	// maxSym is the most bytes of a word one symbol can cover, computed
	// on first use by longWord.
	maxSym     int
	maxSymOnce sync.Once
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// build interns the merge symbols and resolves their vocabulary ids. Every
// symbol a word can end up as (byte symbols and merge results) must have an
// id, so that encoding never meets an unknown token.
func (t *bpeTable) build(pairs [][2]string, encoder map[string]int32) error {
	names := make([]string, 0, 512+len(pairs))
	ids := make(map[string]int32, 512+len(pairs))
	intern := func(s string) int32 {
		if id, ok := ids[s]; ok {
			return id
		}
		id := int32(len(names))
		ids[s] = id
		names = append(names, s)
		return id
	}
	for b := range 256 {
		intern(string(byteToRune[b]))
	}
	for b := range 256 {
		intern(string(byteToRune[b]) + endWord)
	}
	reachable := make([]bool, 0, 512+len(pairs))
	t.merges = make(map[uint64]merge, len(pairs))
	for rank, p := range pairs {
		if p[0] == "" {
			continue // blank line: no merge
		}
		a, b, r := intern(p[0]), intern(p[1]), intern(p[0]+p[1])
		// A pair listed twice keeps its last rank, as in Python's dict.
		t.merges[pairKey(a, b)] = merge{rank: int32(rank), result: r}
		for len(reachable) < len(names) {
			reachable = append(reachable, false)
		}
		reachable[r] = true
	}
	t.symVocab = make([]int32, len(names))
	for i, name := range names {
		id, ok := encoder[name]
		if !ok {
			if i < 512 || reachable[i] {
				return fmt.Errorf("vocabulary has no token %q", name)
			}
			id = -1
		}
		t.symVocab[i] = id
	}
	return nil
}

// wordCache remembers the ids of recent words. It is bounded: when full,
// about a quarter of the entries (chosen by map order) are dropped.
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]int32
}

const (
	maxCacheEntries = 1 << 14
	maxCachedWord   = 64 // bytes; longer words are rare and not cached
)

func (c *wordCache) get(word string) ([]int32, bool) {
	c.mu.RLock()
	ids, ok := c.m[word]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(word string, ids []int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCacheEntries {
		drop := len(c.m) / 4
		for k := range c.m {
			if drop == 0 {
				break
			}
			delete(c.m, k)
			drop--
		}
	}
	c.m[strings.Clone(word)] = ids
}

// appendWordFirst appends at least the first need ids of one pre-tokenized
// piece (all of them when need < 0), exactly those BPE gives for the whole
// piece. A long piece costs what its first need ids cost, not its length
// (see firstIDs).
func (t *Tokenizer) appendWordFirst(dst []int32, word string, need int) []int32 {
	if need >= 0 && len(word) > longWord {
		if ids, ok := t.bpe.firstIDs(word, need); ok {
			return append(dst, ids...)
		}
	}
	return t.appendWord(dst, word)
}

// appendWord appends the ids of one pre-tokenized piece.
func (t *Tokenizer) appendWord(dst []int32, word string) []int32 {
	if len(word) > maxCachedWord {
		return t.bpe.appendIDs(dst, word)
	}
	if ids, ok := t.cache.get(word); ok {
		return append(dst, ids...)
	}
	start := len(dst)
	dst = t.bpe.appendIDs(dst, word)
	t.cache.put(word, append([]int32(nil), dst[start:]...))
	return dst
}

// symNode is one symbol of a word being merged; the nodes form a doubly
// linked list in word order.
type symNode struct {
	sym        int32 // -1 once merged into its left neighbour
	prev, next int32 // node indexes, -1 at the ends
}

// candidate is a ranked adjacent pair waiting in the heap. It is stale if
// its nodes no longer hold the symbols it was made for.
type candidate struct {
	rank        int32
	pos         int32 // node index of the left symbol (word order)
	left, right int32 // symbols when the pair was formed
}

func (a candidate) less(b candidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

type bpeScratch struct {
	nodes   []symNode
	heap    []candidate
	pending []candidate
}

var scratchPool = sync.Pool{New: func() any { return new(bpeScratch) }}

// appendIDs runs BPE on the UTF-8 bytes of word and appends the ids.
//
// It gives exactly SimpleTokenizer.bpe's result: that loop merges, at each
// step, every occurrence (left to right, non-overlapping) of the adjacent
// pair with the lowest rank. Here a heap ordered by (rank, position) yields
// those occurrences in the same order; pairs formed while one rank is being
// applied are held back until that rank is done, so a new pair with a lower
// rank cannot jump ahead of the remaining occurrences. Each merge costs
// O(log n), so even a 10,000-letter word is fast.
func (t *bpeTable) appendIDs(dst []int32, word string) []int32 {
	return t.appendRun(dst, word, true)
}

// appendRun is appendIDs on word as the whole piece (final: its last byte
// carries "</w>") or as the start of a longer one (not final).
func (t *bpeTable) appendRun(dst []int32, word string, final bool) []int32 {
	n := len(word)
	if n == 0 {
		return dst
	}
	end := int32(0)
	if final {
		end = endWordSym
	}
	if n == 1 {
		return append(dst, t.symVocab[end+int32(word[0])])
	}
	sc := scratchPool.Get().(*bpeScratch)
	defer scratchPool.Put(sc)
	nodes := sc.nodes[:0]
	for i := range n {
		sym := int32(word[i])
		if i == n-1 {
			sym += end
		}
		nodes = append(nodes, symNode{sym: sym, prev: int32(i - 1), next: int32(i + 1)})
	}
	nodes[n-1].next = -1
	h := sc.heap[:0]
	for i := range n - 1 {
		if m, ok := t.merges[pairKey(nodes[i].sym, nodes[i+1].sym)]; ok {
			h = append(h, candidate{rank: m.rank, pos: int32(i), left: nodes[i].sym, right: nodes[i+1].sym})
		}
	}
	heapify(h)
	pending := sc.pending[:0]

	valid := func(c candidate) bool {
		l := nodes[c.pos]
		return l.sym == c.left && l.next >= 0 && nodes[l.next].sym == c.right
	}
	// apply merges the pair at c.pos and records the pairs it forms.
	apply := func(c candidate) {
		l := &nodes[c.pos]
		r := &nodes[l.next]
		l.sym = t.merges[pairKey(c.left, c.right)].result
		r.sym = -1
		l.next = r.next
		if r.next >= 0 {
			nodes[r.next].prev = c.pos
		}
		if l.prev >= 0 {
			p := nodes[l.prev]
			if m, ok := t.merges[pairKey(p.sym, l.sym)]; ok {
				pending = append(pending, candidate{rank: m.rank, pos: l.prev, left: p.sym, right: l.sym})
			}
		}
		if l.next >= 0 {
			nx := nodes[l.next]
			if m, ok := t.merges[pairKey(l.sym, nx.sym)]; ok {
				pending = append(pending, candidate{rank: m.rank, pos: c.pos, left: l.sym, right: nx.sym})
			}
		}
	}

	for len(h) > 0 {
		var c candidate
		c, h = heapPop(h)
		if !valid(c) {
			continue
		}
		rank := c.rank
		apply(c)
		for len(h) > 0 && h[0].rank == rank {
			c, h = heapPop(h)
			if valid(c) {
				apply(c)
			}
		}
		for _, p := range pending {
			h = heapPush(h, p)
		}
		pending = pending[:0]
	}

	for i := int32(0); i >= 0; i = nodes[i].next {
		dst = append(dst, t.symVocab[nodes[i].sym])
	}
	sc.nodes, sc.heap, sc.pending = nodes, h, pending
	return dst
}

// longWord is the length from which Tokenize encodes only the start of a
// piece; shorter pieces are encoded whole.
const longWord = 4096

// maxSettleBytes bounds the prefix firstIDs tries before it gives up and
// the whole piece is encoded.
const maxSettleBytes = 1 << 16

// firstIDs returns the first need ids of word's BPE (at least need, or all
// of them), computed from a prefix of word only, and false when no prefix up
// to maxSettleBytes settles them.
//
// Why a prefix suffices: let L be the most bytes one symbol covers. Every
// symbol of the whole word's result covers at most L bytes, so among any L
// consecutive cut positions x, x+1, ..., x+L-1 inside the word at least one,
// e, is a boundary between two result symbols. No merge ever joins symbols
// across e, and merges are applied by rank (equal ranks left to right)
// looking only at the two symbols merged, so the symbols left of e evolve
// exactly as in BPE of word[:e] alone with its last byte not final. Hence
// if BPE of word[:e] (not final) gives the same first need ids for every e
// in [x, x+L), those are the whole word's first need ids; and with x at
// least (need+1)·L, word[:e] holds at least need whole result symbols.
// If the candidates disagree, x doubles.
func (t *bpeTable) firstIDs(word string, need int) ([]int32, bool) {
	t.maxSymOnce.Do(t.computeMaxSym)
	L := t.maxSym
	if need <= 0 {
		return nil, need == 0
	}
	for x := (need + 1) * L; x+L < len(word) && x <= maxSettleBytes; x *= 2 {
		var first []int32
		settled := true
		for e := x; e < x+L && settled; e++ {
			ids := t.appendRun(nil, word[:e], false)
			if len(ids) < need {
				settled = false // cannot happen with symbols of at most L bytes
				break
			}
			if first == nil {
				first = ids[:need]
			} else if !slices.Equal(first, ids[:need]) {
				settled = false
			}
		}
		if settled {
			return first, true
		}
	}
	return nil, false
}

// computeMaxSym sets maxSym: a byte symbol covers 1 byte, a merge result
// what its two parts cover.
func (t *bpeTable) computeMaxSym() {
	size := make([]int, len(t.symVocab))
	for i := range size {
		if i < 2*endWordSym {
			size[i] = 1
		}
	}
	type pm struct{ a, b, r int32 }
	ms := make([]pm, 0, len(t.merges))
	for k, m := range t.merges {
		ms = append(ms, pm{int32(uint32(k >> 32)), int32(uint32(k)), m.result})
	}
	// Parts usually come before their results in rank order, but not
	// necessarily: repeat until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, m := range ms {
			if int(m.r) >= len(size) || int(m.a) >= len(size) || int(m.b) >= len(size) {
				continue
			}
			if size[m.a] > 0 && size[m.b] > 0 && size[m.a]+size[m.b] > size[m.r] {
				size[m.r] = size[m.a] + size[m.b]
				changed = true
			}
		}
	}
	t.maxSym = max(1, slices.Max(size))
}

// A binary min-heap of candidates (container/heap would box every element).

func heapify(h []candidate) {
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
}

func heapPush(h []candidate, c candidate) []candidate {
	h = append(h, c)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []candidate) (candidate, []candidate) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	siftDown(h, 0)
	return top, h
}

func siftDown(h []candidate, i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
