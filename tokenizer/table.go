package tokenizer

import (
	"bytes"
	_ "embed" // for the precomputed default table
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The default tokenizer is loaded from a precomputed table instead of being
// built from the merges text: parsing 48894 merge lines into string maps
// costs tens of milliseconds, and a one-shot command (or a board like a
// Raspberry Pi) should not pay that on every start. default_table.bin holds
// exactly what New(DefaultMerges(), nil) computes for BPE — the merge map
// and the symbol → id table — and TestDefaultTableIsCurrent rebuilds it and
// compares byte for byte (go test ./tokenizer -run DefaultTable -update
// rewrites it).
//
// Layout, little-endian: "CLIPBPE1", then uint32 vocabSize, sot, eot,
// merge count M, symbol count S; then M × (left, right, rank, result) int32
// in rank order; then S × int32 vocabulary ids.

//go:embed default_table.bin
var defaultTable []byte

const tableMagic = "CLIPBPE1"

// encodeTable serialises the BPE state of t.
func encodeTable(t *Tokenizer) []byte {
	type entry struct {
		key uint64
		m   merge
	}
	entries := make([]entry, 0, len(t.bpe.merges))
	for k, m := range t.bpe.merges {
		entries = append(entries, entry{k, m})
	}
	slices.SortFunc(entries, func(a, b entry) int { return int(a.m.rank) - int(b.m.rank) })
	le := binary.LittleEndian
	out := []byte(tableMagic)
	for _, v := range []int{t.vocabSize, int(t.sot), int(t.eot), len(entries), len(t.bpe.symVocab)} {
		out = le.AppendUint32(out, uint32(v))
	}
	for _, e := range entries {
		out = le.AppendUint32(out, uint32(e.key>>32))
		out = le.AppendUint32(out, uint32(e.key))
		out = le.AppendUint32(out, uint32(e.m.rank))
		out = le.AppendUint32(out, uint32(e.m.result))
	}
	for _, v := range t.bpe.symVocab {
		out = le.AppendUint32(out, uint32(v))
	}
	return out
}

// decodeTable loads a tokenizer from encodeTable's output. Its decoder is
// left nil; the caller supplies it.
func decodeTable(b []byte) (*Tokenizer, error) {
	if !bytes.HasPrefix(b, []byte(tableMagic)) || len(b) < len(tableMagic)+20 {
		return nil, errors.New("not a tokenizer table")
	}
	le := binary.LittleEndian
	p := b[len(tableMagic):]
	u := func() int { v := le.Uint32(p); p = p[4:]; return int(v) }
	t := &Tokenizer{vocabSize: u(), sot: int32(u()), eot: int32(u())}
	nm, ns := u(), u()
	if len(p) != 16*nm+4*ns {
		return nil, fmt.Errorf("tokenizer table: %d bytes for %d merges and %d symbols", len(p), nm, ns)
	}
	t.bpe.merges = make(map[uint64]merge, nm)
	for i := 0; i < nm; i++ {
		a, bb := int32(le.Uint32(p)), int32(le.Uint32(p[4:]))
		t.bpe.merges[pairKey(a, bb)] = merge{rank: int32(le.Uint32(p[8:])), result: int32(le.Uint32(p[12:]))}
		p = p[16:]
	}
	t.bpe.symVocab = make([]int32, ns)
	for i := range t.bpe.symVocab {
		t.bpe.symVocab[i] = int32(le.Uint32(p[4*i:]))
	}
	t.cache.m = make(map[string][]int32)
	return t, nil
}
