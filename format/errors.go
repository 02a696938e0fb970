package format

import (
	"errors"
	"fmt"
)

// Errors returned by this package, for use with errors.Is. Messages always
// name the file and the precise problem; these only classify it.
var (
	// ErrBadMagic means the file is not a clipinfer weight file at all.
	ErrBadMagic = errors.New("not a clipinfer weight file")
	// ErrUnsupportedVersion means the file has a layout version this
	// package cannot read.
	ErrUnsupportedVersion = errors.New("unsupported format version")
	// ErrCorrupt means the file is damaged or inconsistent: a structural
	// check failed, it is truncated, or a checksum does not match.
	ErrCorrupt = errors.New("corrupt weight file")
	// ErrTruncated means the file is shorter than its header says. Errors
	// matching it also match ErrCorrupt.
	ErrTruncated = errors.New("truncated weight file")
	// ErrChecksum means a CRC32C does not match. Errors matching it also
	// match ErrCorrupt.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNotFound means a tensor of that name is not in the file.
	ErrNotFound = errors.New("tensor not found")
	// ErrDType means a view of the wrong type was asked for.
	ErrDType = errors.New("wrong tensor dtype")
	// ErrClosed means the File was closed.
	ErrClosed = errors.New("weight file closed")
	// ErrBigEndian means the host is big-endian; tensor views need a
	// little-endian host.
	ErrBigEndian = errors.New("big-endian hosts are not supported")
)

// formatError is an error with a precise message and a sentinel kind.
type formatError struct {
	kind error
	msg  string
}

func (e *formatError) Error() string { return e.msg }

// Is makes truncation and checksum errors also match ErrCorrupt.
func (e *formatError) Is(target error) bool {
	if target == e.kind {
		return true
	}
	return target == ErrCorrupt && (e.kind == ErrTruncated || e.kind == ErrChecksum)
}

func errorf(kind error, format string, args ...any) error {
	return &formatError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func corruptf(format string, args ...any) error { return errorf(ErrCorrupt, format, args...) }
