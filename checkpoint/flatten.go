package checkpoint

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// wrapperKeys are the keys under which training scripts nest the model's state
// dict, in the order they are tried.
var wrapperKeys = []string{"state_dict", "model_state_dict", "model", "module", "net"}

// maxWalkNodes bounds the values visited while flattening (a ViT-L/14 state
// dict has about 600).
const maxWalkNodes = 1 << 20

// maxNameBytes bounds one dotted name, and maxTotalNameBytes all the names
// built while flattening: a long key shared through the memo at every level
// of a deep nesting would otherwise make names of gigabytes from a small
// pickle.
const (
	maxNameBytes      = 4096
	maxTotalNameBytes = 64 << 20
)

// maxSkipNotes bounds the notes about shared containers.
const maxSkipNotes = 10

// maxWalkDepth bounds container nesting.
const maxWalkDepth = 512

// flattened is the result of turning an unpickled object into dotted names.
type flattened struct {
	tensors map[string]*Tensor
	scalars map[string]float64
	notes   []string
}

// flatten picks the state dict inside a loaded checkpoint (unwrapping
// {"state_dict": ...}-style wrappers), names every tensor and number inside it
// with dotted paths, and strips a "module." prefix that every tensor shares.
func flatten(root any) (*flattened, error) {
	w := &walker{
		out:  &flattened{tensors: map[string]*Tensor{}, scalars: map[string]float64{}},
		seen: map[any]string{},
	}
	sub, key := pickRoot(root)
	if key != "" {
		d := root.(*pyDict)
		var others []string
		for i, k := range d.keys {
			ks, _ := k.(string)
			if ks == key {
				continue
			}
			others = append(others, keyString(k))
			// Numbers beside the wrapper (epoch, step, ...) are kept as scalars.
			switch v := d.vals[i].(type) {
			case int64:
				w.out.scalars[keyString(k)] = float64(v)
			case float64:
				w.out.scalars[keyString(k)] = v
			}
		}
		note := fmt.Sprintf("using checkpoint[%q]", key)
		if len(others) > 0 {
			note += "; other top-level entries not read as weights: " + strings.Join(others, ", ")
		}
		w.out.notes = append(w.out.notes, note)
	}
	if err := w.walk(sub, "", 0); err != nil {
		return nil, err
	}
	if w.skips > maxSkipNotes {
		w.out.notes = append(w.out.notes, fmt.Sprintf("%d more shared containers not read twice", w.skips-maxSkipNotes))
	}
	if len(w.out.tensors) == 0 {
		return nil, errors.New("no tensors found in the checkpoint")
	}
	stripModulePrefix(w.out)
	return w.out, nil
}

// pickRoot returns the value holding the weights and the wrapper key used
// ("" when root itself is the state dict).
func pickRoot(root any) (any, string) {
	d, ok := root.(*pyDict)
	if !ok {
		return root, ""
	}
	for _, v := range d.vals {
		if _, ok := v.(*Tensor); ok {
			return root, "" // a plain state dict
		}
	}
	for _, k := range wrapperKeys {
		v, ok := d.get(k)
		if !ok {
			continue
		}
		switch v.(type) {
		case *pyDict, *pyObject:
			if containsTensor(v, 0) {
				return v, k
			}
		}
	}
	return root, ""
}

func containsTensor(v any, depth int) bool {
	if depth > 8 {
		return false
	}
	switch v := v.(type) {
	case *Tensor:
		return true
	case *pyDict:
		for _, x := range v.vals {
			if containsTensor(x, depth+1) {
				return true
			}
		}
	case *pyObject:
		return containsTensor(v.state, depth+1)
	}
	return false
}

type walker struct {
	out   *flattened
	seen  map[any]string // containers already walked, with the name they were walked under
	nodes int
	skips int
	names int // bytes of names built
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// keyString names a dict key in a dotted path.
func keyString(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case int64:
		return strconv.FormatInt(k, 10)
	case bool:
		return strconv.FormatBool(k)
	case float64:
		return strconv.FormatFloat(k, 'g', -1, 64)
	}
	return "None"
}

func (w *walker) walk(v any, name string, depth int) error {
	w.nodes++
	if w.nodes > maxWalkNodes {
		return errors.New("checkpoint structure is too large (containers shared too often)")
	}
	if depth > maxWalkDepth {
		return fmt.Errorf("checkpoint nesting deeper than %d at %q", maxWalkDepth, name)
	}
	w.names += len(name)
	if len(name) > maxNameBytes || w.names > maxTotalNameBytes {
		return fmt.Errorf("checkpoint names are too long (a name of %d bytes, %d in all; the limits are %d and %d)",
			len(name), w.names, maxNameBytes, maxTotalNameBytes)
	}
	switch v := v.(type) {
	case *Tensor:
		if _, dup := w.out.tensors[name]; dup {
			w.out.notes = append(w.out.notes, fmt.Sprintf("duplicate tensor name %q: kept the first", name))
			return nil
		}
		c := *v
		c.Name = name
		w.out.tensors[name] = &c
	case int64:
		if name != "" {
			w.out.scalars[name] = float64(v)
		}
	case float64:
		if name != "" {
			w.out.scalars[name] = v
		}
	case *pyDict:
		if w.visited(v, name) {
			return nil
		}
		for i, k := range v.keys {
			if err := w.walk(v.vals[i], join(name, keyString(k)), depth+1); err != nil {
				return err
			}
		}
	case *pyObject: // TorchScript module: its state is a dict of attributes
		if w.visited(v, name) {
			return nil
		}
		return w.walk(v.state, name, depth+1)
	case *pyList:
		if w.visited(v, name) {
			return nil
		}
		return w.walkItems(v.items, name, depth)
	case pyTuple:
		return w.walkItems(v, name, depth)
	}
	// Strings, bools, None, bytes, sets, big ints: not weights.
	return nil
}

// visited reports whether container c was walked before (shared, or a cycle),
// and otherwise records it. Walking each container once keeps flattening linear
// in the pickle's size even when it shares containers exponentially often.
func (w *walker) visited(c any, name string) bool {
	first, ok := w.seen[c]
	if !ok {
		w.seen[c] = name
		return false
	}
	w.skips++
	if w.skips <= maxSkipNotes {
		w.out.notes = append(w.out.notes, fmt.Sprintf("%q is the container already read as %q: not read twice", name, first))
	}
	return true
}

func (w *walker) walkItems(items []any, name string, depth int) error {
	for i, x := range items {
		if err := w.walk(x, join(name, strconv.Itoa(i)), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// stripModulePrefix removes the "module." that DistributedDataParallel puts in
// front of every name, when every tensor has it.
func stripModulePrefix(f *flattened) {
	const p = "module."
	for name := range f.tensors {
		if !strings.HasPrefix(name, p) {
			return
		}
	}
	tensors := make(map[string]*Tensor, len(f.tensors))
	for name, t := range f.tensors {
		t.Name = strings.TrimPrefix(name, p)
		tensors[t.Name] = t
	}
	f.tensors = tensors
	scalars := make(map[string]float64, len(f.scalars))
	for name, v := range f.scalars {
		scalars[strings.TrimPrefix(name, p)] = v
	}
	f.scalars = scalars
	f.notes = append(f.notes, fmt.Sprintf("stripped the leading %q from all %d tensor names", p, len(tensors)))
}

// sortedNames returns the keys of m in sorted order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
