package format

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Fingerprint returns "sha256:" and the hex SHA-256 of the model's metadata
// (without its provenance, which does not change what the model computes)
// and of every tensor's name, type, shape, block size and stored CRC32C.
// Two files get the same fingerprint exactly when they hold the same
// architecture and the same weights, however they were named or converted;
// embedding indexes and caches remember it to refuse vectors from another
// model. It reads no tensor data, so it costs microseconds.
func (f *File) Fingerprint() (string, error) {
	meta := f.meta
	meta.Provenance = Provenance{}
	mj, err := json.Marshal(meta)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	h := sha256.New()
	h.Write([]byte("clipinfer model fingerprint v1\n"))
	h.Write(mj)
	ts := f.Tensors()
	slices.SortFunc(ts, func(a, b *Tensor) int { return strings.Compare(a.Name, b.Name) })
	var b []byte
	for _, t := range ts {
		b = b[:0]
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Name)))
		b = append(b, t.Name...)
		b = append(b, byte(t.DType))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Shape)))
		for _, d := range t.Shape {
			b = binary.LittleEndian.AppendUint64(b, uint64(d))
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(t.Block))
		b = binary.LittleEndian.AppendUint32(b, t.CRC32C)
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
