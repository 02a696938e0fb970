package format

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkVerifyAdvice measures Open+Verify of the ViT-B/32 f32 file with
// madvise hints and MAP_POPULATE, with the file in the page cache (warm)
// and after evicting it with POSIX_FADV_DONTNEED (cold; the disk below may
// still cache it). It is the evidence behind using no hints by default.
// cpu-ns/op includes the eviction.
func BenchmarkVerifyAdvice(b *testing.B) {
	if testing.Short() {
		b.Skip("writes a 605 MB file")
	}
	path := filepath.Join(b.TempDir(), "vitb32-f32.cif")
	size := writeViTB32(b, path, false)
	mapAndOpen := func(b *testing.B, flags, advice int) *File {
		fd, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer fd.Close()
		data, err := unix.Mmap(int(fd.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED|flags)
		if err != nil {
			b.Fatal(err)
		}
		if advice >= 0 {
			if err := unix.Madvise(data, advice); err != nil {
				b.Fatal(err)
			}
		}
		f, err := open("bench", data, func() error { return unix.Munmap(data) }, OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	evict := func(b *testing.B) {
		fd, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer fd.Close()
		if err := unix.Fadvise(int(fd.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			b.Fatal(err)
		}
	}
	variants := []struct {
		name          string
		flags, advice int
	}{
		{"none", 0, -1},
		{"populate", unix.MAP_POPULATE, -1},
		{"willneed", 0, unix.MADV_WILLNEED},
		{"sequential", 0, unix.MADV_SEQUENTIAL},
		{"random", 0, unix.MADV_RANDOM},
	}
	for _, cold := range []bool{false, true} {
		for _, v := range variants {
			b.Run(fmt.Sprintf("cold=%v/%s", cold, v.name), func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					if cold {
						b.StopTimer()
						evict(b)
						b.StartTimer()
					}
					f := mapAndOpen(b, v.flags, v.advice)
					if err := f.Verify(); err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
				reportCPU(b, cpu0)
			})
		}
	}
}
