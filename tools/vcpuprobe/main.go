// Command vcpuprobe measures what a parallel forward pass depends on and a
// one-thread pass does not, on a shared virtual machine: how long a cache
// line takes to go from one thread to another and back (the two vCPUs'
// distance), and how often each vCPU stops running.
//
//	go run ./tools/vcpuprobe            # round trip, then stalls for 5 s
//	go run ./tools/vcpuprobe -stalls=0  # round trip only
//
// The round trip is a store on one thread answered by a store on the
// other, timed per thousand exchanges (min, median, 90th percentile); the
// stalls are gaps of 20 µs or more between two clock reads in a tight loop
// on each of two locked threads.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	stalls := flag.Duration("stalls", 5*time.Second, "how long to watch for stalls (0: skip)")
	flag.Parse()
	runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	roundTrip()
	if *stalls > 0 {
		watchStalls(*stalls)
	}
}

// line is one cache line holding the exchanged counter.
type line struct {
	v atomic.Int64
	_ [56]byte
}

func roundTrip() {
	const n, per = 200_000, 1000
	var l line
	go func() {
		runtime.LockOSThread()
		for i := int64(1); i <= n; i++ {
			for l.v.Load() != 2*i-1 {
			}
			l.v.Store(2 * i)
		}
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ns []float64
	t := time.Now()
	for i := int64(1); i <= n; i++ {
		l.v.Store(2*i - 1)
		for l.v.Load() != 2*i {
		}
		if i%per == 0 {
			ns = append(ns, float64(time.Since(t).Nanoseconds())/per)
			t = time.Now()
		}
	}
	slices.Sort(ns)
	fmt.Printf("round trip: min %.0f ns, median %.0f ns, p90 %.0f ns\n", ns[0], ns[len(ns)/2], ns[len(ns)*9/10])
}

func watchStalls(d time.Duration) {
	var wg sync.WaitGroup
	out := make([]string, 2)
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var gaps []time.Duration
			start := time.Now()
			last := start
			for last.Sub(start) < d {
				now := time.Now()
				if g := now.Sub(last); g >= 20*time.Microsecond {
					gaps = append(gaps, g)
				}
				last = now
			}
			var sum time.Duration
			for _, g := range gaps {
				sum += g
			}
			slices.Sort(gaps)
			longest := time.Duration(0)
			if len(gaps) > 0 {
				longest = gaps[len(gaps)-1]
			}
			out[c] = fmt.Sprintf("thread %d: %.0f stalls/s, %.1f %% of the time, longest %v", c,
				float64(len(gaps))/d.Seconds(), 100*sum.Seconds()/d.Seconds(), longest)
		}()
	}
	wg.Wait()
	for _, s := range out {
		fmt.Println(s)
	}
}
