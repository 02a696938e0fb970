// Command clipinfer computes CLIP embeddings, zero-shot labels and
// retrieval results with models converted by the convert command.
//
// Usage:
//
//	clipinfer <command> [flags] [arguments]
//
// Run "clipinfer help" for the commands and "clipinfer <command> -h" for
// their flags. Errors are one line on stderr; the exit status is 2 for a
// wrong command line, 1 for a failure while running. Machine-readable
// output is JSON lines.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/clipinfer/clipinfer/internal/termtext"
)

// command is one subcommand.
type command struct {
	summary string
	usage   string
	run     func(env *env, args []string) error
}

var commands = map[string]command{}

func register(name string, c command) { commands[name] = c }

// env carries a command's streams, so tests can run commands in-process.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
}

func main() {
	os.Exit(run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}))
}

// run executes one command line and returns the exit status.
func run(args []string, e *env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fmt.Fprintf(e.stdout, "usage: clipinfer %s %s\n\n%s\n", args[1], c.usage, c.summary)
				return 0
			}
		}
		help(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "clipinfer: unknown command %q; run 'clipinfer help'\n", args[0])
		return exitUsage
	}
	err := c.run(e, args[1:])
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "clipinfer %s: %s; run 'clipinfer %s -h'\n", args[0], termtext.Safe(oneLine(ue.msg)), args[0])
		return exitUsage
	case errors.Is(err, errUsage):
		return exitUsage // already explained on stderr
	}
	fmt.Fprintf(e.stderr, "clipinfer %s: %s\n", args[0], termtext.Safe(oneLine(err.Error())))
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitRuntime
}

// exitError is an error with its own exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// oneLine keeps error messages to a single line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func help(w io.Writer) {
	fmt.Fprintln(w, "clipinfer: CLIP embeddings, zero-shot classification and retrieval on int8 kernels")
	fmt.Fprintln(w, "\nusage: clipinfer <command> [flags] [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"clipinfer <command> -h\" for a command's flags.")
}
