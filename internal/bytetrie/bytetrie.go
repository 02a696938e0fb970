// Package bytetrie is a compact trie over byte strings, for the
// tokenizers' longest-match and exact lookups of vocabulary pieces.
package bytetrie

import (
	"slices"
	"strings"
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
// It sorts the keys, counts the nodes they need and fills the trie level by
// level, so that the only large allocations are the trie itself and one
// sorted copy of the keys.
func New(keys []string, ids []int32) *Trie {
	type entry struct {
		key string
		id  int32
	}
	es := make([]entry, len(keys))
	for i, k := range keys {
		es[i] = entry{k, ids[i]}
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	nodes := 1
	for i, e := range es {
		shared := 0
		if i > 0 {
			prev := es[i-1].key
			for shared < len(prev) && shared < len(e.key) && prev[shared] == e.key[shared] {
				shared++
			}
		}
		nodes += len(e.key) - shared
	}

	t := &Trie{
		label: make([]byte, 1, nodes),
		first: make([]int32, 0, nodes+1),
		value: make([]int32, 1, nodes),
	}
	t.value[0] = -1
	// A span holds the keys below one node: es[lo:hi] share the node's
	// prefix of length depth. Nodes are numbered level by level, in the
	// order their spans are processed.
	type span struct{ lo, hi, depth int32 }
	cur, next := []span{{0, int32(len(es)), 0}}, []span(nil)
	for n := 0; len(cur) > 0; {
		for _, s := range cur {
			lo := s.lo
			if lo < s.hi && int32(len(es[lo].key)) == s.depth {
				t.value[n] = es[lo].id
				lo++
			}
			t.first = append(t.first, int32(len(t.label)))
			for lo < s.hi {
				c := es[lo].key[s.depth]
				hi := lo + 1
				for hi < s.hi && es[hi].key[s.depth] == c {
					hi++
				}
				t.label = append(t.label, c)
				t.value = append(t.value, -1)
				next = append(next, span{lo, hi, s.depth + 1})
				lo = hi
			}
			n++
		}
		cur, next = next, cur[:0]
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
