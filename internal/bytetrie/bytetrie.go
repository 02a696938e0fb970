// Package bytetrie is a compact trie over byte strings, for the
// tokenizers' longest-match and exact lookups of vocabulary pieces.
package bytetrie

import (
	"sort"
)

// Trie maps byte strings to ids. Nodes are numbered in breadth-first
// order so that the children of node n are the contiguous nodes
// first[n]..first[n+1]-1, sorted by label; a node costs 9 bytes, which
// keeps a 256k-piece vocabulary to a few megabytes.
type Trie struct {
	label []byte  // label of the edge into node n
	first []int32 // first child of node n; len(first) == nodes+1
	value []int32 // id stored at node n, or -1
}

// New builds a trie of keys (distinct, non-empty) with their ids (>= 0).
func New(keys []string, ids []int32) *Trie {
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	sorted := make([]string, len(keys))
	vals := make([]int32, len(keys))
	for i, o := range order {
		sorted[i], vals[i] = keys[o], ids[o]
	}

	t := &Trie{label: []byte{0}, value: []int32{-1}}
	type span struct{ lo, hi, depth int }
	// queue[n] holds the keys below node n: those in [lo, hi) share the
	// node's prefix of length depth.
	queue := []span{{0, len(sorted), 0}}
	for n := 0; n < len(queue); n++ {
		s := queue[n]
		lo := s.lo
		if lo < s.hi && len(sorted[lo]) == s.depth {
			t.value[n] = vals[lo]
			lo++
		}
		t.first = append(t.first, int32(len(t.label)))
		for lo < s.hi {
			c := sorted[lo][s.depth]
			hi := lo + 1
			for hi < s.hi && sorted[hi][s.depth] == c {
				hi++
			}
			t.label = append(t.label, c)
			t.value = append(t.value, -1)
			queue = append(queue, span{lo, hi, s.depth + 1})
			lo = hi
		}
	}
	t.first = append(t.first, int32(len(t.label)))
	return t
}

// Child returns the child of node n along byte c, or -1. The root is
// node 0.
func (t *Trie) Child(n int32, c byte) int32 {
	lo, hi := t.first[n], t.first[n+1]
	for lo < hi {
		mid := int32(uint32(lo+hi) >> 1)
		switch l := t.label[mid]; {
		case l == c:
			return mid
		case l < c:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return -1
}

// Lookup returns the id of key, or -1.
func (t *Trie) Lookup(key string) int32 {
	n := int32(0)
	for i := 0; i < len(key); i++ {
		if n = t.Child(n, key[i]); n < 0 {
			return -1
		}
	}
	return t.value[n]
}

// LongestPrefix returns the length of the longest key that is a prefix of
// s, or 0 when there is none.
func (t *Trie) LongestPrefix(s string) int {
	n, best := int32(0), 0
	for i := 0; i < len(s); i++ {
		if n = t.Child(n, s[i]); n < 0 {
			break
		}
		if t.value[n] >= 0 {
			best = i + 1
		}
	}
	return best
}

// Value returns the id stored at node n, or -1 when no key ends there.
func (t *Trie) Value(n int32) int32 { return t.value[n] }
