package format

import (
	"encoding/binary"
	"hash/crc32"
)

// File layout constants. docs/FORMAT.md is the normative description.
const (
	// Magic is the first 8 bytes of every weight file.
	Magic = "CLIPINFR"
	// Version is the only layout version this package reads and writes.
	Version = 1
	// HeaderSize is the size of the fixed header at offset 0.
	HeaderSize = 64
	// Alignment is the alignment, in the file and in memory, of every
	// tensor data part.
	Alignment = 64

	// MaxTensors bounds the number of tensors in a file.
	MaxTensors = 1 << 16
	// MaxNameLen bounds the length in bytes of a tensor name.
	MaxNameLen = 1024
	// MaxRank bounds the number of dimensions of a tensor.
	MaxRank = 8
	// MaxMetadataSize bounds the size of the JSON metadata section.
	MaxMetadataSize = 1 << 20

	// maxParts is the largest number of data parts of a known dtype.
	maxParts = 2
	// entryFixedSize is the size of a directory entry before its dims.
	entryFixedSize = 16
	// sectionAlign is the alignment of the metadata and directory sections.
	sectionAlign = 8
	// checksumOffset is the header offset of the header checksum.
	checksumOffset = 60
	// maxEntrySize is the largest possible encoded directory entry.
	maxEntrySize = (entryFixedSize + 8*MaxRank + 16*maxParts + MaxNameLen + sectionAlign - 1) / sectionAlign * sectionAlign
)

// Header field offsets.
const (
	offMagic    = 0
	offVersion  = 8
	offFlags    = 12
	offFileSize = 16
	offMetaOff  = 24
	offMetaSize = 32
	offDirOff   = 40
	offDirSize  = 48
	offCount    = 56
	offChecksum = checksumOffset
)

// castagnoli is the CRC32C table used for every checksum in the file.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is the decoded fixed header.
type header struct {
	version  uint32
	flags    uint32
	fileSize uint64
	metaOff  uint64
	metaSize uint64
	dirOff   uint64
	dirSize  uint64
	count    uint32
	checksum uint32
}

// encode returns the 64 header bytes (with h.checksum as stored).
func (h *header) encode() []byte {
	b := make([]byte, HeaderSize)
	copy(b[offMagic:], Magic)
	le := binary.LittleEndian
	le.PutUint32(b[offVersion:], h.version)
	le.PutUint32(b[offFlags:], h.flags)
	le.PutUint64(b[offFileSize:], h.fileSize)
	le.PutUint64(b[offMetaOff:], h.metaOff)
	le.PutUint64(b[offMetaSize:], h.metaSize)
	le.PutUint64(b[offDirOff:], h.dirOff)
	le.PutUint64(b[offDirSize:], h.dirSize)
	le.PutUint32(b[offCount:], h.count)
	le.PutUint32(b[offChecksum:], h.checksum)
	return b
}

// decodeHeader decodes the first HeaderSize bytes of b (the caller checks
// the length and the magic).
func decodeHeader(b []byte) header {
	le := binary.LittleEndian
	return header{
		version:  le.Uint32(b[offVersion:]),
		flags:    le.Uint32(b[offFlags:]),
		fileSize: le.Uint64(b[offFileSize:]),
		metaOff:  le.Uint64(b[offMetaOff:]),
		metaSize: le.Uint64(b[offMetaSize:]),
		dirOff:   le.Uint64(b[offDirOff:]),
		dirSize:  le.Uint64(b[offDirSize:]),
		count:    le.Uint32(b[offCount:]),
		checksum: le.Uint32(b[offChecksum:]),
	}
}

// headerChecksum is the CRC32C of header bytes [0,60), then the metadata,
// then the directory.
func headerChecksum(hdr, meta, dir []byte) uint32 {
	c := crc32.Update(0, castagnoli, hdr[:checksumOffset])
	c = crc32.Update(c, castagnoli, meta)
	return crc32.Update(c, castagnoli, dir)
}

// part is one contiguous byte range of tensor data.
type part struct {
	off, size uint64
}

// entry is one decoded directory entry.
type entry struct {
	name  string
	dtype DType
	block uint32
	crc   uint32
	dims  []uint64
	parts []part
}

// entrySize is the encoded size of an entry, padding included.
func entrySize(rank, nparts, nameLen int) int {
	n := entryFixedSize + 8*rank + 16*nparts + nameLen
	return alignUp(n, sectionAlign)
}

// appendEntry appends the encoding of e to dst.
//
//	0  u16 name_len    2 u8 dtype   3 u8 rank   4 u8 nparts   5 [3]u8 zero
//	8  u32 block       12 u32 crc32c
//	16 rank × u64 dims, nparts × (u64 offset, u64 size), name, zero padding
func appendEntry(dst []byte, e *entry) []byte {
	le := binary.LittleEndian
	start := len(dst)
	dst = le.AppendUint16(dst, uint16(len(e.name)))
	dst = append(dst, byte(e.dtype), byte(len(e.dims)), byte(len(e.parts)), 0, 0, 0)
	dst = le.AppendUint32(dst, e.block)
	dst = le.AppendUint32(dst, e.crc)
	for _, d := range e.dims {
		dst = le.AppendUint64(dst, d)
	}
	for _, p := range e.parts {
		dst = le.AppendUint64(dst, p.off)
		dst = le.AppendUint64(dst, p.size)
	}
	dst = append(dst, e.name...)
	for (len(dst)-start)%sectionAlign != 0 {
		dst = append(dst, 0)
	}
	return dst
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }
