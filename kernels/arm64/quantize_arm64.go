package arm64

// quantizeBlocks quantises nblocks consecutive blocks of block floats of x
// into dst, writing one scale per block (quantize_arm64.s).
//
//go:noescape
func quantizeBlocks(dst *int8, scales *float32, x *float32, nblocks, block int)
