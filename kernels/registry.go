package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/clipinfer/clipinfer/kernels/generic"
)

// EnvVar names the environment variable that forces a kernel by name.
const EnvVar = "CLIPINFER_KERNEL"

// Impl describes one implementation compiled into this binary.
type Impl struct {
	Kernels
	// Available reports whether the running CPU (and OS) can execute it.
	Available bool
	// Needs names the CPU features the implementation requires.
	Needs string
	// Why says what this CPU or OS lacks when Available is false.
	Why string
}

// registered lists every implementation for this architecture, best first;
// generic is always last. The arch-specific dispatch_*.go files fill it.
var registered = append(archImpls(), Impl{Kernels: generic.Kernels{}, Available: true, Needs: "nothing"})

// List returns every implementation compiled for this architecture, best
// first, with whether the CPU can run it.
func List() []Impl { return append([]Impl(nil), registered...) }

// Available returns the implementations the CPU can execute, best first.
func Available() []Kernels {
	var out []Kernels
	for _, im := range registered {
		if im.Available {
			out = append(out, im.Kernels)
		}
	}
	return out
}

// Best returns the fastest implementation the CPU can execute.
func Best() Kernels { return Available()[0] }

// Get returns the implementation with the given name, or an error if the
// name is unknown or the CPU cannot execute it. "" and "auto" mean Best.
func Get(name string) (Kernels, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || name == "auto" {
		return Best(), nil
	}
	var names []string
	for _, im := range registered {
		names = append(names, im.Name())
		if im.Name() != name {
			continue
		}
		if !im.Available {
			if im.Why != "" {
				return nil, fmt.Errorf("kernel %q needs %s; this machine lacks %s", name, im.Needs, im.Why)
			}
			return nil, fmt.Errorf("kernel %q needs %s, which this CPU does not have", name, im.Needs)
		}
		return im.Kernels, nil
	}
	return nil, fmt.Errorf("unknown kernel %q (this build has: %s)", name, strings.Join(names, ", "))
}

var (
	defaultOnce sync.Once
	defaultK    Kernels
	defaultErr  error
)

// Default returns the kernel named by CLIPINFER_KERNEL, or Best when it is
// unset. The choice is made once per process.
func Default() (Kernels, error) {
	defaultOnce.Do(func() {
		defaultK, defaultErr = Get(os.Getenv(EnvVar))
		if defaultErr != nil {
			defaultErr = fmt.Errorf("%s: %w", EnvVar, defaultErr)
		}
	})
	return defaultK, defaultErr
}
