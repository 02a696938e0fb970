package checkpoint

import (
	"bytes"
	"testing"
)

// readAll reads every tensor of f so that fuzzing reaches the data paths.
func readAll(f *flattened) {
	for _, t := range f.tensors {
		_, _ = t.Float32()
		_, _ = t.Raw()
	}
}

// FuzzUnpickle runs the restricted pickle machine on arbitrary bytes with a
// 4 KiB storage for every key: no panic, no hang, no read outside a storage.
func FuzzUnpickle(f *testing.F) {
	f.Add([]byte("\x80\x02}q\x00."), false)
	f.Add(append(bytes.Repeat([]byte("}"), 4096), '.'), false)
	f.Add([]byte("\x80\x02]q\x00(h\x00h\x00h\x00tq\x01h\x01h\x01\x86."), false)
	f.Add([]byte("\x80\x02X\x03\x00\x00\x00keyq\x00}h\x00}h\x00}sss."), false)
	storage := bytes.Repeat([]byte{0x3c, 0x00, 0x80, 0x3f}, 1024)
	f.Fuzz(func(t *testing.T, data []byte, torchScript bool) {
		env := &torchEnv{
			torchScript: torchScript,
			cache:       map[string]section{},
			storage: func(string) (section, error) {
				return section{r: bytes.NewReader(storage), n: int64(len(storage))}, nil
			},
		}
		v, err := unpickle(data, env)
		if err != nil {
			return
		}
		flat, err := flatten(v)
		if err != nil {
			return
		}
		readAll(flat)
	})
}

// FuzzTorchZip opens arbitrary bytes as a PyTorch zip checkpoint.
func FuzzTorchZip(f *testing.F) {
	short := deflated(f, "archive/data/0", make([]byte, 8))
	short.uncompressed = 16
	f.Add(rawZip(f, deflated(f, "archive/data.pkl", torchPickle("0", 4, 0, "(K\x04tq", "(K\x01tq")), short))
	f.Add(rawZip(f, deflated(f, "archive/data.pkl", threeTensorPickle(4)),
		deflated(f, "archive/data/0", make([]byte, 16)), deflated(f, "archive/data/1", make([]byte, 64)),
		deflated(f, "archive/data/2", make([]byte, 4))))
	f.Fuzz(func(t *testing.T, data []byte) {
		flat, _, err := openTorchZip(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		readAll(flat)
	})
}

// FuzzSafetensors opens arbitrary bytes as a safetensors file: header length,
// JSON header validation and tensor reads.
func FuzzSafetensors(f *testing.F) {
	f.Add(safetensorsFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		flat, _, err := openSafetensors(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		readAll(flat)
	})
}

// FuzzSafetensorsHeader checks the header parser alone against a data section
// of any size.
func FuzzSafetensorsHeader(f *testing.F) {
	f.Add([]byte(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}`), int64(8))
	f.Add([]byte(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`), int64(8))
	f.Fuzz(func(t *testing.T, header []byte, dataSize int64) {
		if dataSize < 0 {
			return
		}
		h, err := parseSafetensorsHeader(header, dataSize)
		if err != nil {
			return
		}
		for _, e := range h.entries {
			if e.begin < 0 || e.end > dataSize || e.end < e.begin {
				t.Fatalf("accepted entry %+v outside %d bytes", e, dataSize)
			}
		}
	})
}
