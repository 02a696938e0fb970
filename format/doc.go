// Package format reads and writes clipinfer weight files: one little-endian
// file per model holding a fixed header, a JSON metadata section, a tensor
// directory and 64-byte aligned tensor data. The byte-level specification is
// docs/FORMAT.md.
//
// The reader is built for memory-mapped, zero-copy use: [Open] maps the file
// read-only, checks the header, metadata and directory (their CRC32C and every
// offset, size and shape) and hands out tensor views that point straight into
// the mapping. Opening therefore costs the same for a 16 MB and a 600 MB file,
// and resident memory grows only with the pages the caller touches. The
// per-tensor CRC32C checksums of the data are checked by [File.Verify], or at
// open time with [OpenOptions].VerifyData.
//
// Views ([Tensor.F32], [Tensor.F16], [Tensor.Q8], [Tensor.Bytes]) are
// read-only and valid only until [File.Close]: writing through one, or using
// one after Close, crashes the program (the mapping is read-only, then gone).
//
// The [Writer] streams tensors to a temporary file next to the destination and
// renames it into place on [Writer.Commit], so a failed or aborted conversion
// never leaves a partial file behind and never damages an existing one.
//
// Tensor views reinterpret the file's little-endian bytes in place, so the
// reader refuses to run on big-endian hosts.
package format
