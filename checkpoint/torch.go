package checkpoint

import (
	"fmt"
	"strings"
	"unicode"
)

// This file is the allow list of pickle globals and the torch functions it
// emulates: rebuilding tensors from storages, OrderedDict, torch.Size, and
// (for TorchScript archives) opaque __torch__ classes.

// storageType is a torch storage class such as torch.FloatStorage.
type storageType struct {
	name    string
	dtype   DType
	untyped bool // torch.UntypedStorage: numel counts bytes, dtype comes from the tensor
}

func (s storageType) String() string { return "torch." + s.name }

// dtypeValue is a torch dtype global such as torch.float16.
type dtypeValue struct {
	name  string
	dtype DType
}

func (d dtypeValue) String() string { return "torch." + d.name }

// storageRef is a storage resolved from a persistent id.
type storageRef struct {
	data  section
	typ   storageType
	numel int64 // elements of typ.dtype (bytes when untyped)
}

func (s *storageRef) String() string { return s.typ.String() + " storage" }

// pyFunc is an allowed global function (or class, for NEWOBJ) emulated in Go.
type pyFunc struct {
	name    string
	f       func(args pyTuple) (any, error)
	isClass bool
}

func (p *pyFunc) String() string                 { return p.name }
func (p *pyFunc) call(args pyTuple) (any, error) { return p.f(args) }

// construct is NEWOBJ: cls.__new__(cls, *args), an empty instance.
func (p *pyFunc) construct(pyTuple) (any, error) {
	if !p.isClass {
		return nil, fmt.Errorf("NEWOBJ on function %s", p.name)
	}
	return p.f(nil)
}

// opaqueClass is a TorchScript class (__torch__.*): instances are attribute
// bags, never code.
type opaqueClass struct{ name string }

func (c *opaqueClass) String() string { return c.name }
func (c *opaqueClass) construct(args pyTuple) (any, error) {
	return &pyObject{class: c.name, args: args}, nil
}
func (c *opaqueClass) call(args pyTuple) (any, error) { return c.construct(args) }

// torchEnv resolves the globals and persistent ids of one torch pickle.
type torchEnv struct {
	torchScript bool
	// storage returns the bytes of the storage with the given key.
	storage func(key string) (section, error)
	cache   map[string]section
}

// refuse reports a global outside the allow list.
func refuse(module, name string) error {
	hint := ""
	if name != "" && unicode.IsUpper(rune(name[0])) {
		hint = " (a checkpoint holding a pickled model object must be re-saved as its state_dict())"
	}
	return fmt.Errorf("refusing pickle global %s.%s: only tensors, storages and plain containers are allowed%s", module, name, hint)
}

func (e *torchEnv) global(module, name string) (any, error) {
	full := module + "." + name
	switch module {
	case "collections":
		if name == "OrderedDict" {
			return &pyFunc{name: full, f: orderedDict, isClass: true}, nil
		}
	case "torch._utils":
		switch name {
		case "_rebuild_tensor_v2":
			return &pyFunc{name: full, f: rebuildTensorV2}, nil
		case "_rebuild_tensor_v3":
			return &pyFunc{name: full, f: rebuildTensorV3}, nil
		case "_rebuild_parameter", "_rebuild_parameter_with_state":
			return &pyFunc{name: full, f: rebuildParameter}, nil
		}
	case "torch", "torch.storage":
		if dt, ok := torchStorageDTypes[name]; ok && module == "torch" {
			return storageType{name: name, dtype: dt}, nil
		}
		if name == "UntypedStorage" {
			return storageType{name: name, dtype: U8, untyped: true}, nil
		}
		if dt, ok := torchDTypes[name]; ok && module == "torch" {
			return dtypeValue{name: name, dtype: dt}, nil
		}
		if name == "Size" && module == "torch" {
			return &pyFunc{name: full, f: torchSize}, nil
		}
	case "builtins", "__builtin__":
		if name == "set" || name == "frozenset" {
			return &pyFunc{name: full, f: makeSet, isClass: true}, nil
		}
	case "_codecs":
		if name == "encode" {
			return &pyFunc{name: full, f: codecsEncode}, nil
		}
	case "torch.jit._pickle":
		if e.torchScript {
			switch name {
			case "build_intlist", "build_tensorlist", "build_doublelist", "build_boollist", "build_complexlist":
				return &pyFunc{name: full, f: firstArg}, nil
			case "restore_type_tag":
				return &pyFunc{name: full, f: firstArg}, nil
			}
		}
	}
	if e.torchScript && (module == "__torch__" || strings.HasPrefix(module, "__torch__.")) {
		return &opaqueClass{name: full}, nil
	}
	return nil, refuse(module, name)
}

// persistentLoad resolves ('storage', storage_type, key, location, numel).
func (e *torchEnv) persistentLoad(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) != 5 || t[0] != "storage" {
		return nil, fmt.Errorf("unsupported persistent id %s", describe(pid))
	}
	typ, ok := t[1].(storageType)
	if !ok {
		return nil, fmt.Errorf("persistent id storage type is %s", typeName(t[1]))
	}
	key, ok1 := t[2].(string)
	numel, ok2 := t[4].(int64)
	if !ok1 || !ok2 || numel < 0 {
		return nil, fmt.Errorf("malformed persistent id %s", describe(pid))
	}
	data, ok := e.cache[key]
	if !ok {
		var err error
		if data, err = e.storage(key); err != nil {
			return nil, fmt.Errorf("storage %q: %w", key, err)
		}
		e.cache[key] = data
	}
	if es := int64(typ.dtype.Size()); numel > data.n/es {
		return nil, fmt.Errorf("storage %q: %d %s elements need %d bytes, the archive holds %d",
			key, numel, typ.dtype, numel*es, data.n)
	}
	return &storageRef{data: data, typ: typ, numel: numel}, nil
}

// describe prints a short form of a pickle value for error messages.
func describe(v any) string {
	if t, ok := v.(pyTuple); ok {
		parts := make([]string, len(t))
		for i, x := range t {
			switch x := x.(type) {
			case string:
				parts[i] = fmt.Sprintf("%q", x)
			case int64:
				parts[i] = fmt.Sprint(x)
			default:
				parts[i] = typeName(x)
			}
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return typeName(v)
}

func orderedDict(args pyTuple) (any, error) {
	d := newDict()
	if len(args) == 0 {
		return d, nil
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("OrderedDict takes at most 1 argument, got %d", len(args))
	}
	var pairs []any
	switch a := args[0].(type) {
	case *pyList:
		pairs = a.items
	case pyTuple:
		pairs = a
	case *pyDict:
		for i, k := range a.keys {
			if err := d.set(k, a.vals[i]); err != nil {
				return nil, err
			}
		}
		return d, nil
	default:
		return nil, fmt.Errorf("OrderedDict of %s", typeName(args[0]))
	}
	for _, p := range pairs {
		kv, ok := p.(pyTuple)
		if !ok || len(kv) != 2 {
			return nil, fmt.Errorf("OrderedDict item is %s, not a pair", typeName(p))
		}
		if err := d.set(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func torchSize(args pyTuple) (any, error) {
	if len(args) == 0 {
		return pyTuple{}, nil
	}
	if len(args) == 1 {
		switch a := args[0].(type) {
		case pyTuple:
			return a, nil
		case *pyList:
			return pyTuple(a.items), nil
		}
	}
	return nil, fmt.Errorf("torch.Size of %s", describe(args))
}

func makeSet(args pyTuple) (any, error) {
	if len(args) == 0 {
		return &pySet{}, nil
	}
	switch a := args[0].(type) {
	case *pyList:
		return &pySet{items: append([]any(nil), a.items...)}, nil
	case pyTuple:
		return &pySet{items: append([]any(nil), a...)}, nil
	}
	return nil, fmt.Errorf("set of %s", describe(args))
}

// codecsEncode emulates _codecs.encode(str, "latin1"), which protocol 2
// pickles use for bytes objects.
func codecsEncode(args pyTuple) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("_codecs.encode takes 2 arguments, got %d", len(args))
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("_codecs.encode of %s", describe(args))
	}
	switch strings.ToLower(enc) {
	case "latin1", "latin-1", "iso-8859-1":
	default:
		return nil, fmt.Errorf("_codecs.encode with encoding %q", enc)
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("_codecs.encode: %U is not latin-1", r)
		}
		b = append(b, byte(r))
	}
	return pyBytes(b), nil
}

func firstArg(args pyTuple) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("missing argument")
	}
	return args[0], nil
}

func rebuildParameter(args pyTuple) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("_rebuild_parameter without arguments")
	}
	t, ok := args[0].(*Tensor)
	if !ok {
		return nil, fmt.Errorf("_rebuild_parameter of %s", typeName(args[0]))
	}
	return t, nil
}

// rebuildTensorV2 emulates _rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]).
func rebuildTensorV2(args pyTuple) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 takes at least 4 arguments, got %d", len(args))
	}
	s, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2 storage is %s", typeName(args[0]))
	}
	return rebuild(s, s.typ.dtype, args[1], args[2], args[3])
}

// rebuildTensorV3 emulates _rebuild_tensor_v3(storage, storage_offset, size,
// stride, requires_grad, backward_hooks, dtype[, metadata]).
func rebuildTensorV3(args pyTuple) (any, error) {
	if len(args) < 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v3 takes at least 7 arguments, got %d", len(args))
	}
	s, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v3 storage is %s", typeName(args[0]))
	}
	dt, ok := args[6].(dtypeValue)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v3 dtype is %s", typeName(args[6]))
	}
	return rebuild(s, dt.dtype, args[1], args[2], args[3])
}

func rebuild(s *storageRef, dt DType, offsetV, sizeV, strideV any) (*Tensor, error) {
	offset, ok := offsetV.(int64)
	if !ok {
		return nil, fmt.Errorf("storage offset is %s", typeName(offsetV))
	}
	size, err := intTuple(sizeV)
	if err != nil {
		return nil, fmt.Errorf("tensor size: %w", err)
	}
	stride, err := intTuple(strideV)
	if err != nil {
		return nil, fmt.Errorf("tensor stride: %w", err)
	}
	elems := s.numel
	if s.typ.dtype != dt {
		if !s.typ.untyped {
			return nil, fmt.Errorf("%s storage used as %s", s.typ, dt)
		}
		elems = s.numel / int64(dt.Size())
	}
	t, err := newView(s.data, dt, elems, offset, size, stride)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func intTuple(v any) ([]int64, error) {
	var items []any
	switch v := v.(type) {
	case pyTuple:
		items = v
	case *pyList:
		items = v.items
	default:
		return nil, fmt.Errorf("%s is not a tuple", typeName(v))
	}
	out := make([]int64, len(items))
	for i, x := range items {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("element %d is %s, not int", i, typeName(x))
		}
		out[i] = n
	}
	return out, nil
}
