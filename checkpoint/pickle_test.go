package checkpoint

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plainEnv allows the torch globals but has no storages.
func plainEnv() *torchEnv {
	return &torchEnv{cache: map[string]section{}, storage: func(key string) (section, error) {
		return section{}, fmt.Errorf("no storage %q", key)
	}}
}

// toPlain turns an unpickled value into the JSON form checkpoint_ref.py's
// plain() gives the same Python value.
func toPlain(t *testing.T, v any) any {
	switch v := v.(type) {
	case nil, bool, string, float64:
		return v
	case int64:
		return json.Number(fmt.Sprint(v))
	case pyBigInt:
		return map[string]any{"bigint": true}
	case pyBytes:
		return map[string]any{"bytes": hex.EncodeToString(v)}
	case pyTuple:
		return toPlainList(t, v)
	case *pyList:
		return toPlainList(t, v.items)
	case *pySet:
		items := toPlainList(t, v.items)
		sort.Slice(items, func(i, j int) bool { return fmt.Sprint(items[i]) < fmt.Sprint(items[j]) })
		return map[string]any{"set": items}
	case *pyDict:
		m := map[string]any{}
		for i, k := range v.keys {
			m[keyString(k)] = toPlain(t, v.vals[i])
		}
		return m
	}
	t.Fatalf("unexpected value %T", v)
	return nil
}

func toPlainList(t *testing.T, items []any) []any {
	out := make([]any, len(items))
	for i, x := range items {
		out[i] = toPlain(t, x)
	}
	return out
}

func TestUnpicklePlainPythonData(t *testing.T) {
	raw, err := os.ReadFile("testdata/plain_pickles.json")
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ref struct {
		Value   map[string]any `json:"value"`
		Pickles []struct {
			Protocol int    `json:"protocol"`
			Hex      string `json:"hex"`
		} `json:"pickles"`
	}
	require.NoError(t, dec.Decode(&ref))
	// json.Number for floats too: normalise the reference's floats.
	want := normaliseNumbers(ref.Value)
	require.Len(t, ref.Pickles, 5)
	for _, p := range ref.Pickles {
		t.Run(fmt.Sprint("protocol", p.Protocol), func(t *testing.T) {
			data, err := hex.DecodeString(p.Hex)
			require.NoError(t, err)
			v, err := unpickle(data, plainEnv())
			require.NoError(t, err)
			assert.Equal(t, want, normaliseNumbers(toPlain(t, v)))
		})
	}
}

// normaliseNumbers maps every number to its float64 value so that JSON
// numbers and Go floats compare (all test values are exact in float64).
func normaliseNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, _ := v.Float64()
		return f
	case float64:
		return v
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normaliseNumbers(x)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normaliseNumbers(x)
		}
		return out
	}
	return v
}

func TestUnpickleErrors(t *testing.T) {
	tests := []struct {
		name, pkl, wantErr string
	}{
		{"empty", "", "no STOP"},
		{"no stop", "\x80\x02}", "no STOP"},
		{"stack underflow", "\x80\x02.", "stack underflow"},
		{"protocol 6", "\x80\x06}.", "unsupported pickle protocol 6"},
		{"unknown opcode", "\x80\x02\xff", "unknown pickle opcode 0xff"},
		{"INST", "i__main__\nX\n", "unsupported pickle opcode INST"},
		{"text unicode", "Vabc\n.", "unsupported pickle opcode UNICODE"},
		{"string past end", "X\xff\x00\x00\x00ab.", "exceeds"},
		{"huge BINUNICODE8", "\x8d\xff\xff\xff\xff\xff\xff\xff\xff.", "exceeds"},
		{"bad utf8", "X\x01\x00\x00\x00\xff.", "UTF-8"},
		{"memo miss", "h\x05.", "memo key 5 not defined"},
		{"pop mark without mark", "1.", "no MARK"},
		{"append to dict", "}K\x01a.", "APPEND to dict"},
		{"setitem on list", "]K\x01K\x02s.", "SETITEM on list"},
		{"odd setitems", "}(K\x01u.", "odd number"},
		{"unhashable key", "}]K\x01s.", "unsupported dict key of type list"},
		{"reduce non callable", "K\x01)R.", "not an allowed callable"},
		{"reduce non tuple", "ccollections\nOrderedDict\nK\x01R.", "not a tuple"},
		{"build on int", "K\x01}b.", "BUILD on int"},
		{"newobj on function", "ctorch._utils\n_rebuild_tensor_v2\n)\x81.", "NEWOBJ on function"},
		{"eval", "cbuiltins\neval\n.", "refusing pickle global builtins.eval"},
		{"getattr", "\x8c\x08builtins\x8c\x07getattr\x93.", "refusing pickle global builtins.getattr"},
		{"torch load", "ctorch\nload\n.", "refusing pickle global torch.load: only tensors"},
		{"model class", "copen_clip.model\nCLIP\n.", "refusing pickle global open_clip.model.CLIP: only tensors, storages and plain containers are allowed (a checkpoint holding a pickled model object must be re-saved as its state_dict())"},
		{"numpy", "cnumpy.core.multiarray\n_reconstruct\n.", "refusing pickle global numpy.core.multiarray._reconstruct"},
		{"jit helper outside torchscript", "ctorch.jit._pickle\nbuild_intlist\n.", "refusing"},
		{"persid not storage", "X\x01\x00\x00\x00aQ.", "unsupported persistent id"},
		{"persid bad type", "(X\x07\x00\x00\x00storageK\x01X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQ.", "storage type is int"},
		{"tensor from int", "ctorch._utils\n_rebuild_tensor_v2\n(K\x01K\x00)))tR.", "storage is int"},
		{"codecs other encoding", "c_codecs\nencode\nX\x01\x00\x00\x00aX\x05\x00\x00\x00utf-8\x86R.", "encoding \"utf-8\""},
		{"codecs non latin1", "c_codecs\nencode\nX\x02\x00\x00\x00\xc4\x80X\x06\x00\x00\x00latin1\x86R.", "not latin-1"},
		{"frame past end", "\x95\xff\x00\x00\x00\x00\x00\x00\x00.", "exceeds"},
		{"deep marks", strings.Repeat("(", maxPickleDepth+1), "MARK nesting too deep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := unpickle([]byte(tc.pkl), plainEnv())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestUnpickleValues(t *testing.T) {
	tests := []struct {
		name string
		pkl  string
		want any
	}{
		{"LONG1 negative", "\x8a\x02\x00\xff.", int64(-256)},
		{"LONG1 empty", "\x8a\x00.", int64(0)},
		{"LONG1 8 bytes", "\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f.", int64(1<<63 - 1)},
		{"LONG1 9 bytes", "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.", pyBigInt{bytes: 9}},
		{"BININT negative", "J\xfe\xff\xff\xff.", int64(-2)},
		{"INT text", "I42\n.", int64(42)},
		{"INT bool", "I01\n.", true},
		{"LONG text", "L-7L\n.", int64(-7)},
		{"FLOAT text", "F0.25\n.", 0.25},
		{"BINFLOAT", "G\x3f\xf8\x00\x00\x00\x00\x00\x00.", 1.5},
		{"PUT GET", "K\x03p1\n0g1\n.", int64(3)},
		{"DUP", "K\x03\x32\x86.", pyTuple{int64(3), int64(3)}},
		{"POP", "K\x01K\x020.", int64(1)},
		{"POP_MARK", "K\x01(K\x02K\x031.", int64(1)},
		{"SHORT_BINSTRING", "U\x02hi.", "hi"},
		{"torch.Size", "ctorch\nSize\n(K\x02K\x03t\x85R.", pyTuple{int64(2), int64(3)}},
		{"dtype", "ctorch\nbfloat16\n.", dtypeValue{name: "bfloat16", dtype: BF16}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := unpickle([]byte(tc.pkl), plainEnv())
			require.NoError(t, err)
			assert.Equal(t, tc.want, v)
		})
	}
}

func TestFlattenGuards(t *testing.T) {
	// A dict that contains itself.
	d := newDict()
	require.NoError(t, d.set("self", d))
	tensor := &Tensor{DType: F32, numel: 1}
	require.NoError(t, d.set("t", tensor))
	f, err := flatten(d)
	require.NoError(t, err)
	assert.Equal(t, []string{"t"}, sortedNames(f.tensors))
	assert.Equal(t, []string{`"self" is the container already read as "": not read twice`}, f.notes)

	// Sharing one list 40 levels deep unfolds to 2^40 paths: each list is
	// read once.
	l := &pyList{items: []any{tensor}}
	for range 40 {
		l = &pyList{items: []any{l, l}}
	}
	f, err = flatten(l)
	require.NoError(t, err)
	assert.Equal(t, []string{strings.Repeat("0.", 40) + "0"}, sortedNames(f.tensors))
	assert.Len(t, f.notes, maxSkipNotes+1)

	// Nesting deeper than maxWalkDepth.
	deep := &pyList{items: []any{tensor}}
	for range maxWalkDepth + 1 {
		deep = &pyList{items: []any{deep}}
	}
	_, err = flatten(deep)
	assert.ErrorContains(t, err, "nesting deeper")

	// A tensor reached twice under the same name keeps the first.
	top := newDict()
	require.NoError(t, top.set("a.b", tensor))
	inner := newDict()
	require.NoError(t, inner.set("b", tensor))
	require.NoError(t, top.set("a", inner))
	f, err = flatten(top)
	require.NoError(t, err)
	assert.Len(t, f.tensors, 1)
	assert.True(t, containsSubstring(f.notes, `duplicate tensor name "a.b"`))
}

func TestModulePrefixOnlyStrippedWhenUniversal(t *testing.T) {
	tensor := &Tensor{DType: F32, numel: 1}
	d := newDict()
	require.NoError(t, d.set("module.a", tensor))
	require.NoError(t, d.set("b", tensor))
	f, err := flatten(d)
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "module.a"}, sortedNames(f.tensors))
	assert.Empty(t, f.notes)
}
