//go:build !unix

package format

import "time"

// cpuTime is unknown here.
func cpuTime() time.Duration { return -1 }
