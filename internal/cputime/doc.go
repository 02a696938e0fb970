// Package cputime reads the CPU time of the calling OS thread (Linux), for
// benchmarks that compare implementations by the work they do rather than
// by wall time on a shared machine.
package cputime
