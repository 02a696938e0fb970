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
package checkpoint
