package checkpoint

import "unsafe"

// nativeLittleEndian reports whether this machine stores integers little-endian
// (true on amd64, arm64 and arm).
var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// float32Bytes returns the memory of f as bytes, so that file data can be read
// straight into a float32 slice without a second buffer.
func float32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*4)
}
