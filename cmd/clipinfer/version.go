package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/clipinfer/clipinfer/kernels"
)

func init() {
	register("version", command{
		summary: "Print the clipinfer version, the source revision it was built from, the Go version and the kernel this CPU gets.",
		usage:   "",
		run:     runVersion,
	})
}

// revision is the source revision when the build sets it
// (-ldflags "-X main.revision=…", as the Makefile does) and the build
// information has none.
var revision string

// buildVersion describes the running binary from its embedded build
// information: the module version ("(devel)" for a build from a clone)
// and, when built inside a git checkout, the revision and whether the
// tree had uncommitted changes.
func buildVersion() (version, rev string) {
	version, rev = "(unknown)", "unknown"
	if revision != "" {
		rev = revision
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, rev
	}
	version = bi.Main.Version
	var vcs, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			vcs = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if vcs != "" {
		rev = vcs
		if when != "" {
			rev += " (" + when + ")"
		}
		if dirty {
			rev += " with uncommitted changes"
		}
	}
	return version, rev
}

func runVersion(e *env, args []string) error {
	fs := flags(e, "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := nargs(fs, 0, 0, ""); err != nil {
		return err
	}
	version, rev := buildVersion()
	kernel := "none"
	if k, err := kernels.Default(); err == nil {
		kernel = k.Name()
	} else {
		kernel = "none (" + err.Error() + ")"
	}
	fmt.Fprintf(e.stdout, "clipinfer %s\nrevision:  %s\ngo:        %s %s/%s\nkernel:    %s (of %v)\n",
		version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH, kernel, buildKernels())
	return nil
}
