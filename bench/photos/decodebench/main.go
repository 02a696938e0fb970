//go:build linux

// Command decodebench decodes and preprocesses image files with clipinfer's
// imageproc on several workers and prints the throughput as one JSON line:
// the Go half of bench/photos/run.sh (pillow_bench.py is the Python half).
//
//	go run ./bench/photos/decodebench -workers 2 -rounds 3 [-fast] [-exif=false] [-cpuprofile f] FILE...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/clipinfer/clipinfer/imageproc"
	"github.com/clipinfer/clipinfer/internal/cputime"
)

func main() {
	workers := flag.Int("workers", 2, "files decoded at once")
	rounds := flag.Int("rounds", 3, "passes over the files; the median pass is reported")
	size := flag.Int("size", 224, "model input size (Resize and CenterCrop)")
	fast := flag.Bool("fast", false, "decode JPEGs at a reduced DCT scale (-fast-decode)")
	exif := flag.Bool("exif", false, "apply EXIF orientation")
	prof := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	files := flag.Args()
	if len(files) == 0 {
		fmt.Fprintln(os.Stderr, "decodebench: no files")
		os.Exit(2)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	cfg := imageproc.DefaultConfig()
	cfg.Size, cfg.Crop = *size, *size
	opt := imageproc.LoadOptions{FastDecode: *fast, EXIF: *exif}
	var passes, perImage []float64
	// Warm up as pillow_bench.py does (one untimed file per worker), so
	// that neither side's figures include its first-image set-up.
	var warm sync.WaitGroup
	for w := range min(*workers, len(files)) {
		warm.Add(1)
		go func() {
			defer warm.Done()
			dst := make([]float32, 3*cfg.Crop*cfg.Crop)
			if err := imageproc.LoadFileInto(dst, files[w], cfg, opt, nil); err != nil {
				fmt.Fprintln(os.Stderr, "decodebench:", err)
				os.Exit(1)
			}
		}()
	}
	warm.Wait()
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	cpu0 := time.Duration(ru0.Utime.Nano() + ru0.Stime.Nano())
	for range *rounds {
		start := time.Now()
		next := make(chan string)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		for range *workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// One thread per worker, so that its CPU clock times
				// each image (as pillow_bench.py's process_time does).
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				dst := make([]float32, 3*cfg.Crop*cfg.Crop)
				var sc imageproc.Scratch
				for p := range next {
					t0 := cputime.Thread()
					err := imageproc.LoadFileInto(dst, p, cfg, opt, &sc)
					t := cputime.Thread() - t0
					mu.Lock()
					perImage = append(perImage, t.Seconds())
					if err != nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}()
		}
		for _, f := range files {
			next <- f
		}
		close(next)
		wg.Wait()
		if firstErr != nil {
			fmt.Fprintln(os.Stderr, "decodebench:", firstErr)
			os.Exit(1)
		}
		passes = append(passes, time.Since(start).Seconds())
	}
	sort.Float64s(passes)
	med := median(passes) // as pillow_bench.py's statistics.median
	sort.Float64s(perImage)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "clipinfer", "fast": *fast, "exif": *exif, "workers": *workers, "files": len(files),
		"median_pass_s": med, "images_per_s": float64(len(files)) / med, "max_rss_mib": float64(ru.Maxrss) / 1024,
		"cpu_s_per_image": (time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) - cpu0).Seconds() / float64(len(files)**rounds),
		// The worker threads' own time, median over the images: the
		// statistic pillow_bench.py reports as its cpu_s_per_image.
		"cpu_s_per_image_median": median(perImage),
	})
}

// median of sorted xs.
func median(xs []float64) float64 {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
