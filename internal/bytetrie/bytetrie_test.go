package bytetrie

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTrie(t *testing.T) {
	keys := []string{"b", "ab", "abc", "\u2581a", "a", "\xff\x00"}
	ids := []int32{10, 11, 12, 13, 14, 15}
	tr := New(keys, ids)
	for i, k := range keys {
		assert.Equal(t, ids[i], tr.Lookup(k), "%q", k)
	}
	for _, k := range []string{"", "c", "abcd", "\u2581", "\xff"} {
		assert.Equal(t, int32(-1), tr.Lookup(k), "%q", k)
	}
	cases := []struct {
		s    string
		want int
	}{{"abcd", 3}, {"abx", 2}, {"ax", 1}, {"x", 0}, {"", 0}, {"\u2581ab", 4}, {"\xff\x00\x01", 2}}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tr.LongestPrefix(tc.s), "%q", tc.s)
	}
	// Walking node by node sees the values along the way.
	n := int32(0)
	var seen []int32
	for _, c := range []byte("abc") {
		n = tr.Child(n, c)
		seen = append(seen, tr.Value(n))
	}
	assert.Equal(t, []int32{14, 11, 12}, seen)
	assert.Equal(t, int32(-1), tr.Child(n, 'z'))
	assert.Equal(t, int32(-1), New(nil, nil).Lookup("a"))
}
