package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses, the same in clipinfer and convert.
const (
	exitOK      = 0
	exitRuntime = 1 // the command ran and failed: unreadable model, bad image, I/O
	exitUsage   = 2 // the command line is wrong: unknown flag, missing flag or argument
	// exitSomeFailed: clipinfer index finished but could not embed every
	// image file it found.
	exitSomeFailed = 3
)

// errUsage marks a command-line mistake; run exits with exitUsage. Errors
// made by usagef match it.
var errUsage = errors.New("usage")

// usageError is a command-line mistake explained in one line.
type usageError struct{ msg string }

func (u *usageError) Error() string        { return u.msg }
func (u *usageError) Is(target error) bool { return target == errUsage }

// usagef returns a usage error; run prints it as one line followed by a
// pointer to the command's -h.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// flags creates a command's flag set. Its Usage prints the command's full
// help; parse turns flag errors into one-line usage errors instead.
func flags(e *env, name string) *flag.FlagSet {
	c := commands[name]
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: clipinfer %s %s\n\n%s\n\nflags:\n", name, c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args. -h prints the full help and returns flag.ErrHelp; an
// unknown flag or a bad value returns a usage error naming the flag.
func parse(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	}
	return usagef("%s", err)
}

// required returns a usage error naming the first of the flags that was
// left empty, with its help text.
func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			panic("required: no flag -" + n) // a programming error
		}
		if f.Value.String() == "" {
			return usagef("missing -%s: %s", n, f.Usage)
		}
	}
	return nil
}

// nargs checks the number of positional arguments: between lo and hi
// (hi < 0: no upper bound); what names them, e.g. "IMAGE".
func nargs(fs *flag.FlagSet, lo, hi int, what string) error {
	n := fs.NArg()
	switch {
	case n < lo && lo == 1:
		return usagef("missing %s argument", what)
	case n < lo:
		return usagef("want at least %d %s arguments, got %d", lo, what, n)
	case hi >= 0 && n > hi && hi == 0:
		return usagef("unexpected argument %q (every input is given by a flag)", fs.Arg(0))
	case hi >= 0 && n > hi:
		return usagef("want at most %d %s argument(s), got %d (flags go before arguments)", hi, what, n)
	}
	return nil
}

// checkFlagOrder reports a flag given after the positional arguments,
// which the flag package would silently take for an argument.
func checkFlagOrder(fs *flag.FlagSet) error {
	for _, a := range fs.Args() {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && fs.Lookup(name) != nil {
			return usagef("flag %s comes after the arguments: put every flag before them", a)
		}
	}
	return nil
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
