package ftfy

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzFixText checks that FixText never panics, returns valid UTF-8, and is
// idempotent where ftfy is: a text of one segment whose result is one
// segment without "<" ends at a fixed point of ftfy's round, so fixing the
// result again changes nothing.
func FuzzFixText(f *testing.F) {
	for _, s := range []string{
		"", "a photo of a cat", "Ã©", "\u0093hi\u0094", "it&#8217;s", "&amp;amp;amp;",
		"\x1b[36mcolor\x1b[0m", "Xpaint Å¨ÃÂ¾ø ÀÂýÀ¡Î", "í ½í²©", "â€œ like this â€\ufffd",
		"ÃƒÂ©", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "a < b &amp;", "\xff\xfe", "Ã\n", "ﬁ ＡＢ\r\n\u2028",
		"À\u0080", "Ã la mode", "ГўВЂВњ hello", "\xc3\x80\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<12 {
			return
		}
		got := FixText(s)
		require.True(t, utf8.ValidString(got), "%+q -> %+q", s, got)
		oneSegment := func(x string) bool {
			i := strings.IndexByte(x, '\n')
			return i < 0 || i == len(x)-1
		}
		if oneSegment(s) && oneSegment(got) && !strings.Contains(s, "<") && !strings.Contains(got, "<") {
			require.Equal(t, got, FixText(got), "not idempotent: %+q", s)
		}
	})
}
