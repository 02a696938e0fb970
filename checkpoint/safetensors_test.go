package checkpoint

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// safetensorsFile assembles a file from a header and data bytes.
func safetensorsFile(header string, data []byte) []byte {
	var buf bytes.Buffer
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(header)))
	buf.WriteString(header)
	buf.Write(data)
	return buf.Bytes()
}

func TestSafetensorsHeaderValidation(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		data    int // bytes of data after the header
		wantErr string
	}{
		{"ok", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8, ""},
		{"ok with metadata and padding", `{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[],"data_offsets":[0,2]}}   `, 2, ""},
		{"ok empty tensor shares an offset", `{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8, ""},
		{"not an object", `[1,2]`, 0, "not a JSON object"},
		{"bad json", `{"a":`, 0, "header"},
		{"unknown dtype", `{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, 1, `unsupported dtype "F8_E4M3"`},
		{"missing shape", `{"a":{"dtype":"F32","data_offsets":[0,4]}}`, 4, "missing shape"},
		{"negative dim", `{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4, "negative dimension"},
		{"fractional dim", `{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4, "tensor \"a\""},
		{"offsets out of file", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4, "outside the 4 data bytes"},
		{"offsets reversed", `{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, 4, "outside"},
		{"offsets wrong arity", `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4, "[begin, end]"},
		{"size mismatch", `{"a":{"dtype":"F16","shape":[3],"data_offsets":[0,4]}}`, 4, "needs 6 bytes, data_offsets give 4"},
		{"huge shape", `{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4, "larger than the file"},
		{"overlap", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8, "overlap"},
		{"duplicate", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2, `names "a" twice`},
		{"metadata not strings", `{"__metadata__":{"n":1}}`, 0, "__metadata__"},
		{"trailing data", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}} {}`, 1, "after the JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := safetensorsFile(tc.header, make([]byte, tc.data))
			_, _, err := openSafetensors(bytes.NewReader(file), int64(len(file)))
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestSafetensorsHeaderLength(t *testing.T) {
	for _, n := range []uint64{0, 1, 1 << 62, 200 << 20, 1<<64 - 1} {
		var file [64]byte
		binary.LittleEndian.PutUint64(file[:], n)
		file[8] = '{'
		_, _, err := openSafetensors(bytes.NewReader(file[:]), int64(len(file)))
		assert.ErrorContains(t, err, "not plausible", "length %d", n)
	}
	_, _, err := openSafetensors(bytes.NewReader([]byte{1, 0}), 2)
	assert.ErrorContains(t, err, "too short")
}

// TestSafetensorsHeaderLengthLooksLikePickle: a header of 0x80 mod 256
// bytes makes the file's first byte a pickle's PROTO opcode; the file is
// still read as safetensors.
func TestSafetensorsHeaderLengthLooksLikePickle(t *testing.T) {
	header := `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	header += strings.Repeat(" ", 0x180-len(header))
	file := safetensorsFile(header, make([]byte, 4))
	require.Equal(t, byte(0x80), file[0])
	sd, err := openReader(bytes.NewReader(file), int64(len(file)), "x.safetensors")
	require.NoError(t, err)
	assert.Equal(t, FormatSafetensors, sd.Format)
}

func TestSafetensorsRoundTripValues(t *testing.T) {
	// F16 1.0, -2.0 ; BOOL true,false ; I8 -1
	data := []byte{0x00, 0x3c, 0x00, 0xc0, 1, 0, 0xff}
	file := safetensorsFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},`+
		`"b":{"dtype":"BOOL","shape":[2],"data_offsets":[4,6]},"i":{"dtype":"I8","shape":[],"data_offsets":[6,7]}}`, data)
	flat, _, err := openSafetensors(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	for name, want := range map[string][]float32{"h": {1, -2}, "b": {1, 0}, "i": {-1}} {
		got, err := flat.tensors[name].Float32()
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
	}
}
