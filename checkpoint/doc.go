// Package checkpoint reads the model checkpoints users have on disk into named
// tensors, without executing anything in them.
//
// Supported inputs:
//   - PyTorch zip checkpoints (torch.save since 1.6: .pt, .pth, .bin), read by a
//     restricted pickle machine that only knows tensors, storages and plain
//     containers and refuses every other global by name;
//   - TorchScript archives (torch.jit.save, e.g. OpenAI's released JIT CLIP
//     files), whose __torch__ objects are read as attribute bags;
//   - safetensors files, single or sharded through *.index.json;
//   - Hugging Face CLIPModel directories (OpenHF): config.json, weights,
//     tokenizer files and preprocessor_config.json.
//
// Tensor data is not loaded at open: each Tensor reads its bytes from the file
// when Float32 or Raw is called (uncompressed zip entries in place), so a
// multi-gigabyte checkpoint costs only its metadata until used. Reading goes
// through io.ReaderAt rather than a memory map so that 32-bit ARM boards, whose
// address space cannot map a large file, read the same files.
//
// Every size, offset, shape and stride is checked against the file before it
// is used: a malformed file gives an error, never a panic or an out-of-range
// read.
//
// Every input has a budget, so that a small hostile file cannot demand large
// work: only regular files are opened (a FIFO or device is refused at once);
// data.pkl is at most 64 MiB; the pickle machine may allocate at most 64
// bytes per byte of pickle plus 4 MiB, and never more than 128 MiB; compressed
// storages are inflated as a stream when a tensor is read, only as far as
// that tensor reaches inside the size the archive declares, so a zip bomb
// behind a small tensor inflates the tensor's bytes; dotted names are at most
// 4096 bytes (64 MiB in all); JSON and text files of a Hugging Face directory
// at most 64 MiB each.
package checkpoint
