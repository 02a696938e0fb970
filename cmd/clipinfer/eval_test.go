package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTSV(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		min, max int
		want     [][]string
		err      string
	}{
		{"pairs", "a.jpg\ta cat\n# comment\n\n b.png \t a dog \r\n", 2, 2, [][]string{{"a.jpg", "a cat"}, {"b.png", "a dog"}}, ""},
		{"optional columns", "a\tx\tsource\nb\ty\ttarget\ttest\n", 2, 4, [][]string{{"a", "x", "source"}, {"b", "y", "target", "test"}}, ""},
		{"too few", "a.jpg\n", 2, 2, nil, "line 1: 1 tab-separated fields, want 2"},
		{"too many", "a\tb\tc\n", 2, 2, nil, "want 2"},
		{"empty field", "\tcaption\n", 2, 2, nil, "field 1 is empty"},
		{"nothing", "# only a comment\n", 2, 2, nil, "no entries"},
		{"long line", strings.Repeat("x", maxLine+10), 2, 2, nil, "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTSV(strings.NewReader(tc.in), tc.min, tc.max)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseProbeRows(t *testing.T) {
	rows := func(s string) [][]string {
		r, err := parseTSV(strings.NewReader(s), 2, 4)
		require.NoError(t, err)
		return r
	}
	t.Run("domains and automatic split", func(t *testing.T) {
		p, err := parseProbeRows(rows("a\tcat\tsource\nb\tdog\tsource\nc\tcat\ttarget\nd\tcat\ttarget\ne\tdog\ttarget\nf\tdog\tt\ttest\ng\tcat\ttarget\ttrain\n"), 0.5)
		require.NoError(t, err)
		assert.Equal(t, []string{"cat", "dog"}, p.classes)
		assert.Equal(t, []int{0, 1, 0, 0, 1, 1, 0}, p.labels)
		assert.Equal(t, []int{0, 0, 1, 1, 1, 1, 1}, p.domains)
		// cat target (auto): c, d → first ⌊0.5·2⌋ = 1 trains; dog target
		// (auto): e alone → ⌊0.5⌋ = 0 train.
		assert.Equal(t, []bool{true, true, true, false, false, false, true}, p.train)
	})
	t.Run("no domains", func(t *testing.T) {
		p, err := parseProbeRows(rows("a\tx\nb\ty\nc\tx\nd\ty\n"), 0.5)
		require.NoError(t, err)
		assert.Nil(t, p.domains)
		assert.Equal(t, []bool{true, true, false, false}, p.train)
	})
	for _, tc := range []struct{ name, in, err string }{
		{"one class", "a\tx\nb\tx\n", "at least two"},
		{"mixed domains", "a\tx\tsource\nb\ty\n", "every row or on none"},
		{"bad domain", "a\tx\tfoo\nb\ty\tsource\n", "domain \"foo\""},
		{"bad split", "a\tx\tsource\tmaybe\nb\ty\tsource\n", "split \"maybe\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseProbeRows(rows(tc.in), 0.5)
			require.ErrorContains(t, err, tc.err)
		})
	}
	_, err := parseProbeRows(rows("a\tx\nb\ty\n"), 1.5)
	require.ErrorContains(t, err, "outside")
}

// FuzzParseTSV feeds arbitrary files to the pairs/labels parser and the
// probe's column interpretation: errors are fine, panics are not.
func FuzzParseTSV(f *testing.F) {
	for _, s := range []string{
		"a.jpg\ta cat\n",
		"a\tx\tsource\nb\ty\ttarget\ttest\n",
		"# c\n\n\t\t\t\n",
		"a\tb\tc\td\te\n",
		"x\ty\tT\tTRAIN\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := parseTSV(strings.NewReader(s), 2, 4)
		if err != nil {
			return
		}
		for _, r := range rows {
			if len(r) < 2 || len(r) > 4 || r[0] == "" || r[1] == "" {
				t.Fatalf("bad row %q", r)
			}
		}
		p, err := parseProbeRows(rows, 0.5)
		if err != nil {
			return
		}
		if len(p.train) != len(rows) || len(p.labels) != len(rows) {
			t.Fatal("row count changed")
		}
	})
}

func TestFlagsAfterArguments(t *testing.T) {
	for _, args := range [][]string{
		{"search", "-m", "x.clip", "-index", "x.idx", "a query", "-k", "3"},
		{"index", "-m", "x.clip", "-o", "x.idx", "photos", "-dtype=f16"},
		{"classify", "-m", "x.clip", "-labels", "a,b", "img.png", "--k", "2"},
		{"eval", "-m", "x.clip", "pairs.tsv", "-temperature", "0.1"},
		{"gap", "-m", "x.clip", "pairs.tsv", "-vector"},
		{"probe", "-m", "x.clip", "labels.tsv", "-epochs", "3"},
	} {
		code, _, errOut := rtRun(args...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, errOut, "comes after the arguments", args)
	}
}
