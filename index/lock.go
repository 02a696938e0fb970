package index

import (
	"errors"
	"fmt"
)

// ErrLocked is wrapped by LockWriter's error when another process is
// updating the same index.
var ErrLocked = errors.New("another process is updating this index")

// LockWriter takes the writer lock of the index file at path, so that two
// updates of one index cannot both save and silently lose one's entries:
// the second fails at once with an error wrapping ErrLocked. The lock is an
// exclusive advisory lock on the sidecar file path+".lock" (created if
// needed and left in place), held until unlock is called or the process
// ends, so a killed writer never leaves a stale lock. Readers (search,
// serve) need no lock: saves replace the file atomically.
func LockWriter(path string) (unlock func() error, err error) {
	lockPath := path + ".lock"
	unlock, err = lockFile(lockPath)
	if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("index %s: %w (%s is held); wait for it to finish and run again", path, ErrLocked, lockPath)
	}
	if err != nil {
		return nil, fmt.Errorf("index %s: taking the writer lock %s: %w", path, lockPath, err)
	}
	return unlock, nil
}
