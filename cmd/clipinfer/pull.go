package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/pull"
)

// mirrorEnv names the environment variable -base-url defaults to.
const mirrorEnv = pull.MirrorEnv

func init() {
	register("pull", command{
		summary: "Download a well-known CLIP checkpoint (or one at a URL), resume it if interrupted, verify its SHA-256, convert it, and print the path of the .clip file (in the user cache folder unless -o). \"clipinfer pull -list\" names the known checkpoints.",
		usage:   "[-q q8|f16|f32] [-o FILE] [-base-url URL] [-timeout 1m] [-keep] NAME|URL\n       clipinfer pull -list",
		run:     runPull,
	})
}

func runPull(e *env, args []string) error {
	fs := flags(e, "pull")
	q := fs.String("q", "q8", "weight type of the large matrices: q8, f16 or f32")
	out := fs.String("o", "", "the .clip file to write (default: NAME-Q.clip in the cache folder, reused when present)")
	base := fs.String("base-url", "", "fetch from this mirror, which serves the same paths (default: $"+mirrorEnv+", then the publisher)")
	stall := fs.Duration("timeout", time.Minute, "give up when no data arrives for this long (the .part file stays for a resume)")
	keep := fs.Bool("keep", false, "keep the downloaded checkpoint (in the cache folder's downloads/) after converting it")
	list := fs.Bool("list", false, "list the known checkpoints and exit")
	quiet := fs.Bool("quiet", false, "no progress output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *list {
		if err := nargs(fs, 0, 0, ""); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		for _, c := range pull.Known {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Approx, c.Summary)
		}
		return tw.Flush()
	}
	if err := nargs(fs, 1, 1, "NAME or URL"); err != nil {
		return err
	}
	if err := (convert.Options{Quant: *q}).Validate(); err != nil {
		return usagef("-q: %s", err)
	}
	if *stall <= 0 {
		return usagef("-timeout must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var bar *progress
	current := ""
	opt := pull.PullOptions{
		Options: pull.Options{StallTimeout: *stall, Retries: 2, Progress: func(name string, done, total int64) {
			if name != current {
				bar.finish()
				current = name
				bar = newProgress(e, "MiB of "+name, int(total>>20))
				bar.quiet = *quiet
			}
			bar.update(int(done>>20), 0)
		}},
		Base: *base, Quant: *q, Output: *out, Keep: *keep,
		Converting: func() {
			bar.finish()
			if !*quiet {
				fmt.Fprintln(e.stderr, "verified; converting")
			}
		},
	}
	res, err := pull.Pull(ctx, fs.Arg(0), opt)
	bar.finish()
	if err != nil {
		return err
	}
	if !*quiet {
		if res.Cached {
			fmt.Fprintf(e.stderr, "already pulled (delete the file to fetch it again)\n")
		} else {
			st, _ := os.Stat(res.Path)
			fmt.Fprintf(e.stderr, "wrote %s (%.1f MiB, %s)\n", res.Path, float64(st.Size())/(1<<20), *q)
		}
	}
	fmt.Fprintln(e.stdout, res.Path)
	return nil
}
