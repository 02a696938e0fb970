package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is a restricted pickle virtual machine. It understands the opcodes
// of protocols 0 to 5 that torch.save and torch.jit.save emit, builds plain Go
// values from them, and never runs code: every GLOBAL is looked up in an allow
// list (see torch.go) and anything else is refused by name.

// Values the machine builds. Python None is nil, bool is bool, int is int64,
// float is float64, str is string.
type (
	pyTuple []any
	pyBytes []byte
	pyList  struct{ items []any }
	pySet   struct{ items []any }
	// pyDict keeps insertion order, as Python dicts do.
	pyDict struct {
		keys []any
		vals []any
		idx  map[any]int
	}
	// pyBigInt stands for an integer that does not fit in 64 bits.
	pyBigInt struct{ bytes int }
	// pyObject is an instance of an opaque class (a TorchScript __torch__.*
	// class): its state is kept as data and never interpreted as code.
	pyObject struct {
		class string
		args  pyTuple
		state any
	}
)

func newDict() *pyDict { return &pyDict{idx: map[any]int{}} }

// set stores d[k] = v, replacing an earlier value for the same key.
func (d *pyDict) set(k, v any) error {
	switch k.(type) {
	case string, int64, float64, bool, nil:
	default:
		return fmt.Errorf("unsupported dict key of type %s", typeName(k))
	}
	if i, ok := d.idx[k]; ok {
		d.vals[i] = v
		return nil
	}
	d.idx[k] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

// get returns d[k] for a string key.
func (d *pyDict) get(k string) (any, bool) {
	i, ok := d.idx[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// callable is a global the allow list lets REDUCE (and NEWOBJ) call.
type callable interface {
	call(args pyTuple) (any, error)
}

// constructor is a class NEWOBJ may instantiate.
type constructor interface {
	construct(args pyTuple) (any, error)
}

// pickleEnv resolves globals and persistent ids for the machine.
type pickleEnv interface {
	// global returns the value the allow list gives module.name, or an error.
	global(module, name string) (any, error)
	// persistentLoad resolves a persistent id (BINPERSID / PERSID).
	persistentLoad(pid any) (any, error)
}

// unpickler is the state of the machine for one pickle stream.
type unpickler struct {
	data  []byte
	pos   int
	stack []any
	marks []int // stack lengths at each MARK
	memo  map[uint64]any
	env   pickleEnv
	// budget is what is left of the bytes the machine may allocate for
	// this pickle (see pickleBudget).
	budget int64
	limit  int64
}

// maxPickleDepth bounds MARK nesting and thus the marks slice.
const maxPickleDepth = 1 << 16

// The machine's memory budget for one pickle: pickleBytesPerByte bytes of
// values per byte of pickle plus pickleBaseBudget, and never more than
// pickleMaxBudget. Every opcode consumes at least one byte of input, so the
// opcode count is bounded by the pickle's size; the budget bounds what those
// opcodes build, counting every allocation (a value popped and dropped is
// still counted). Real state dicts and TorchScript archives spend 16 to 28
// bytes per byte of pickle; a pickle of nothing but EMPTY_DICT opcodes would
// spend 224.
const (
	pickleBytesPerByte = 64
	pickleBaseBudget   = 4 << 20
	pickleMaxBudget    = 128 << 20
)

// pickleBudget returns the allocation budget for a pickle of n bytes.
func pickleBudget(n int) int64 {
	return min(int64(n)*pickleBytesPerByte+pickleBaseBudget, pickleMaxBudget)
}

// Estimated bytes of the machine's values, for the budget (64-bit sizes with
// allocator rounding; a little high on 32-bit platforms).
const (
	costSlot   = 16  // one interface value on the stack or in a container
	costList   = 48  // a *pyList or *pySet
	costDict   = 208 // a *pyDict with its index map
	costDictKV = 64  // one key/value pair in a dict (two slots and an index entry)
	costMemo   = 48  // one memo entry
	costCall   = 256 // a value a global builds (tensor, storage reference, object)
)

var errPickleTruncated = errors.New("pickle truncated")

// errPickleBudget is wrapped by the error for a pickle whose values exceed the
// machine's memory budget.
var errPickleBudget = errors.New("pickle builds more values than its size allows")

// unpickle runs the pickle program in data and returns the value left by STOP.
func unpickle(data []byte, env pickleEnv) (any, error) {
	limit := pickleBudget(len(data))
	u := &unpickler{data: data, memo: map[uint64]any{}, env: env, budget: limit, limit: limit}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle at byte %d: %w", u.pos, err)
	}
	return v, nil
}

func (u *unpickler) read(n int) ([]byte, error) {
	if n < 0 || n > len(u.data)-u.pos {
		return nil, errPickleTruncated
	}
	b := u.data[u.pos : u.pos+n]
	u.pos += n
	return b, nil
}

func (u *unpickler) readByte() (byte, error) {
	if u.pos >= len(u.data) {
		return 0, errPickleTruncated
	}
	b := u.data[u.pos]
	u.pos++
	return b, nil
}

// readLine reads up to and excluding the next '\n' (text-protocol operands).
func (u *unpickler) readLine() (string, error) {
	i := bytes.IndexByte(u.data[u.pos:], '\n')
	if i < 0 {
		return "", errPickleTruncated
	}
	if err := u.spend(int64(i)); err != nil {
		return "", err
	}
	s := string(u.data[u.pos : u.pos+i])
	u.pos += i + 1
	return s, nil
}

// readLen reads an n-byte little-endian length and checks it against the
// remaining input, so no allocation exceeds the pickle's own size.
func (u *unpickler) readLen(n int) (int, error) {
	b, err := u.read(n)
	if err != nil {
		return 0, err
	}
	var l uint64
	switch n {
	case 1:
		l = uint64(b[0])
	case 4:
		l = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		l = binary.LittleEndian.Uint64(b)
	}
	if l > uint64(len(u.data)-u.pos) {
		return 0, fmt.Errorf("length %d exceeds the %d bytes left: %w", l, len(u.data)-u.pos, errPickleTruncated)
	}
	return int(l), nil
}

// readOperand reads a length-prefixed operand (n-byte length) that the
// machine copies into a value, and charges the copy to the budget.
func (u *unpickler) readOperand(n int) ([]byte, error) {
	l, err := u.readLen(n)
	if err != nil {
		return nil, err
	}
	if err := u.spend(int64(l)); err != nil {
		return nil, err
	}
	return u.read(l)
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

// spend takes n bytes from the budget, failing once it is exhausted.
func (u *unpickler) spend(n int64) error {
	u.budget -= n
	if u.budget < 0 {
		return fmt.Errorf("%w (more than %d bytes of values for a %d-byte pickle)", errPickleBudget, u.limit, len(u.data))
	}
	return nil
}

func (u *unpickler) pop() (any, error) {
	base := 0
	if len(u.marks) > 0 {
		base = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= base {
		return nil, errors.New("stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	base := 0
	if len(u.marks) > 0 {
		base = u.marks[len(u.marks)-1]
	}
	if len(u.stack) <= base {
		return nil, errors.New("stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops everything above the last MARK and the mark itself.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	if err := u.spend(costSlot * int64(len(u.stack)-m)); err != nil {
		return nil, err
	}
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) memoGet(i uint64) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo key %d not defined", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) memoPut(i uint64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

// Opcode names for the ones the machine refuses, for clear errors.
var refusedOps = map[byte]string{
	'i': "INST", 'o': "OBJ", 'S': "STRING", 'V': "UNICODE",
	0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
	0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

func (u *unpickler) run() (any, error) {
	for {
		op, err := u.readByte()
		if err != nil {
			return nil, fmt.Errorf("no STOP opcode: %w", err)
		}
		if err := u.spend(costSlot + opCost(op)); err != nil {
			return nil, err
		}
		if op == '.' { // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			return v, nil
		}
		c := cap(u.stack)
		if err := u.step(op); err != nil {
			return nil, err
		}
		if cap(u.stack) != c { // the stack grew: a new array
			if err := u.spend(costSlot * int64(cap(u.stack))); err != nil {
				return nil, err
			}
		}
	}
}

// opCost estimates what an opcode allocates beyond one stack slot, for the
// ones whose cost does not depend on their operands.
func opCost(op byte) int64 {
	switch op {
	case ']', 0x8f: // EMPTY_LIST, EMPTY_SET
		return costList
	case '}': // EMPTY_DICT
		return costDict
	case 'q', 0x94, 'r', 'p': // memo puts
		return costMemo
	case 's': // SETITEM
		return costDictKV
	case 'a': // APPEND
		return costSlot
	case 0x85, 0x86, 0x87: // TUPLE1..3
		return 3 * costSlot
	case 'R', 0x81, 0x92, 'Q', 'P', 'c', 0x93: // values built by allowed globals
		return costCall
	}
	return 0
}

// step executes one opcode other than STOP.
func (u *unpickler) step(op byte) error {
	switch op {
	case 0x80: // PROTO
		p, err := u.readByte()
		if err != nil {
			return err
		}
		if p > 5 {
			return fmt.Errorf("unsupported pickle protocol %d", p)
		}
	case 0x95: // FRAME: the data is in memory already, only check the length
		if _, err := u.readLen(8); err != nil {
			return err
		}
	case '(': // MARK
		if len(u.marks) >= maxPickleDepth {
			return errors.New("MARK nesting too deep")
		}
		u.marks = append(u.marks, len(u.stack))
	case '0': // POP
		if len(u.marks) > 0 && u.marks[len(u.marks)-1] == len(u.stack) {
			_, err := u.popMark()
			return err
		}
		_, err := u.pop()
		return err
	case '1': // POP_MARK
		_, err := u.popMark()
		return err
	case '2': // DUP
		v, err := u.top()
		if err != nil {
			return err
		}
		u.push(v)

	// Constants and scalars.
	case 'N': // NONE
		u.push(nil)
	case 0x88: // NEWTRUE
		u.push(true)
	case 0x89: // NEWFALSE
		u.push(false)
	case 'J': // BININT
		b, err := u.read(4)
		if err != nil {
			return err
		}
		u.push(int64(int32(binary.LittleEndian.Uint32(b))))
	case 'K': // BININT1
		b, err := u.readByte()
		if err != nil {
			return err
		}
		u.push(int64(b))
	case 'M': // BININT2
		b, err := u.read(2)
		if err != nil {
			return err
		}
		u.push(int64(binary.LittleEndian.Uint16(b)))
	case 0x8a, 0x8b: // LONG1, LONG4
		w := 1
		if op == 0x8b {
			w = 4
		}
		b, err := u.readOperand(w)
		if err != nil {
			return err
		}
		u.push(decodeLong(b))
	case 'I': // INT (text)
		s, err := u.readLine()
		if err != nil {
			return err
		}
		switch s {
		case "00":
			u.push(false)
		case "01":
			u.push(true)
		default:
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("INT operand %q: %w", s, err)
			}
			u.push(v)
		}
	case 'L': // LONG (text)
		s, err := u.readLine()
		if err != nil {
			return err
		}
		v, err := strconv.ParseInt(strings.TrimSuffix(s, "L"), 10, 64)
		if err != nil {
			u.push(pyBigInt{bytes: len(s)})
		} else {
			u.push(v)
		}
	case 'G': // BINFLOAT (big-endian)
		b, err := u.read(8)
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case 'F': // FLOAT (text)
		s, err := u.readLine()
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("FLOAT operand %q: %w", s, err)
		}
		u.push(v)

	// Strings and bytes.
	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		w := map[byte]int{'X': 4, 0x8c: 1, 0x8d: 8}[op]
		b, err := u.readOperand(w)
		if err != nil {
			return err
		}
		if !utf8.Valid(b) {
			return errors.New("string is not valid UTF-8")
		}
		u.push(string(b))
	case 'T', 'U': // BINSTRING, SHORT_BINSTRING (Python 2 str, decoded as text)
		w := 4
		if op == 'U' {
			w = 1
		}
		b, err := u.readOperand(w)
		if err != nil {
			return err
		}
		u.push(string(b))
	case 'B', 'C', 0x8e, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
		w := map[byte]int{'B': 4, 'C': 1, 0x8e: 8, 0x96: 8}[op]
		b, err := u.readOperand(w)
		if err != nil {
			return err
		}
		u.push(pyBytes(append([]byte(nil), b...)))

	// Containers.
	case ')': // EMPTY_TUPLE
		u.push(pyTuple{})
	case 't': // TUPLE
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(pyTuple(items))
	case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
		n := int(op-0x85) + 1
		t := make(pyTuple, n)
		for i := n - 1; i >= 0; i-- {
			v, err := u.pop()
			if err != nil {
				return err
			}
			t[i] = v
		}
		u.push(t)
	case ']': // EMPTY_LIST
		u.push(&pyList{})
	case 'l': // LIST
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&pyList{items: items})
	case '}': // EMPTY_DICT
		u.push(newDict())
	case 'd': // DICT
		items, err := u.popMark()
		if err != nil {
			return err
		}
		if err := u.spend(costDict + costDictKV*int64(len(items)/2)); err != nil {
			return err
		}
		d := newDict()
		if err := setItems(d, items); err != nil {
			return err
		}
		u.push(d)
	case 0x8f: // EMPTY_SET
		u.push(&pySet{})
	case 0x91: // FROZENSET
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&pySet{items: items})
	case 'a': // APPEND
		v, err := u.pop()
		if err != nil {
			return err
		}
		return u.extend([]any{v})
	case 'e': // APPENDS
		items, err := u.popMark()
		if err != nil {
			return err
		}
		if err := u.spend(costSlot * int64(len(items))); err != nil {
			return err
		}
		return u.extend(items)
	case 0x90: // ADDITEMS
		items, err := u.popMark()
		if err != nil {
			return err
		}
		if err := u.spend(costSlot * int64(len(items))); err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		s, ok := t.(*pySet)
		if !ok {
			return fmt.Errorf("ADDITEMS on %s", typeName(t))
		}
		s.items = append(s.items, items...)
	case 's': // SETITEM
		v, err := u.pop()
		if err != nil {
			return err
		}
		k, err := u.pop()
		if err != nil {
			return err
		}
		return u.setItems([]any{k, v})
	case 'u': // SETITEMS
		items, err := u.popMark()
		if err != nil {
			return err
		}
		if err := u.spend(costDictKV * int64(len(items)/2)); err != nil {
			return err
		}
		return u.setItems(items)

	// Memo.
	case 'q', 0x94, 'r', 'p': // BINPUT, MEMOIZE, LONG_BINPUT, PUT
		var i uint64
		switch op {
		case 'q':
			b, err := u.readByte()
			if err != nil {
				return err
			}
			i = uint64(b)
		case 'r':
			b, err := u.read(4)
			if err != nil {
				return err
			}
			i = uint64(binary.LittleEndian.Uint32(b))
		case 'p':
			s, err := u.readLine()
			if err != nil {
				return err
			}
			if i, err = strconv.ParseUint(s, 10, 64); err != nil {
				return fmt.Errorf("PUT operand %q: %w", s, err)
			}
		default:
			i = uint64(len(u.memo))
		}
		return u.memoPut(i)
	case 'h': // BINGET
		b, err := u.readByte()
		if err != nil {
			return err
		}
		return u.memoGet(uint64(b))
	case 'j': // LONG_BINGET
		b, err := u.read(4)
		if err != nil {
			return err
		}
		return u.memoGet(uint64(binary.LittleEndian.Uint32(b)))
	case 'g': // GET
		s, err := u.readLine()
		if err != nil {
			return err
		}
		i, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("GET operand %q: %w", s, err)
		}
		return u.memoGet(i)

	// Globals, calls and objects.
	case 'c': // GLOBAL "module\nname\n"
		module, err := u.readLine()
		if err != nil {
			return err
		}
		name, err := u.readLine()
		if err != nil {
			return err
		}
		return u.global(module, name)
	case 0x93: // STACK_GLOBAL
		n, err := u.pop()
		if err != nil {
			return err
		}
		m, err := u.pop()
		if err != nil {
			return err
		}
		module, ok1 := m.(string)
		name, ok2 := n.(string)
		if !ok1 || !ok2 {
			return errors.New("STACK_GLOBAL operands are not strings")
		}
		return u.global(module, name)
	case 'R': // REDUCE
		args, err := u.pop()
		if err != nil {
			return err
		}
		f, err := u.pop()
		if err != nil {
			return err
		}
		t, ok := args.(pyTuple)
		if !ok {
			return fmt.Errorf("REDUCE arguments are a %s, not a tuple", typeName(args))
		}
		c, ok := f.(callable)
		if !ok {
			return fmt.Errorf("REDUCE on %s, which is not an allowed callable", typeName(f))
		}
		v, err := c.call(t)
		if err != nil {
			return err
		}
		u.push(v)
	case 0x81, 0x92: // NEWOBJ, NEWOBJ_EX
		if op == 0x92 {
			kw, err := u.pop()
			if err != nil {
				return err
			}
			if d, ok := kw.(*pyDict); !ok || len(d.keys) != 0 {
				return errors.New("NEWOBJ_EX with keyword arguments is not supported")
			}
		}
		args, err := u.pop()
		if err != nil {
			return err
		}
		cls, err := u.pop()
		if err != nil {
			return err
		}
		t, ok := args.(pyTuple)
		if !ok {
			return fmt.Errorf("NEWOBJ arguments are a %s, not a tuple", typeName(args))
		}
		c, ok := cls.(constructor)
		if !ok {
			return fmt.Errorf("NEWOBJ on %s, which is not an allowed class", typeName(cls))
		}
		v, err := c.construct(t)
		if err != nil {
			return err
		}
		u.push(v)
	case 'b': // BUILD
		state, err := u.pop()
		if err != nil {
			return err
		}
		obj, err := u.top()
		if err != nil {
			return err
		}
		return build(obj, state)
	case 'Q': // BINPERSID
		pid, err := u.pop()
		if err != nil {
			return err
		}
		v, err := u.env.persistentLoad(pid)
		if err != nil {
			return err
		}
		u.push(v)
	case 'P': // PERSID (text)
		s, err := u.readLine()
		if err != nil {
			return err
		}
		v, err := u.env.persistentLoad(s)
		if err != nil {
			return err
		}
		u.push(v)
	default:
		if name, ok := refusedOps[op]; ok {
			return fmt.Errorf("unsupported pickle opcode %s", name)
		}
		return fmt.Errorf("unknown pickle opcode 0x%02x", op)
	}
	return nil
}

func (u *unpickler) global(module, name string) error {
	v, err := u.env.global(module, name)
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

// extend appends items to the list on top of the stack.
func (u *unpickler) extend(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	l, ok := t.(*pyList)
	if !ok {
		return fmt.Errorf("APPEND to %s", typeName(t))
	}
	l.items = append(l.items, items...)
	return nil
}

// setItems stores key/value pairs into the dict on top of the stack.
func (u *unpickler) setItems(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	d, ok := t.(*pyDict)
	if !ok {
		return fmt.Errorf("SETITEM on %s", typeName(t))
	}
	return setItems(d, items)
}

func setItems(d *pyDict, items []any) error {
	if len(items)%2 != 0 {
		return errors.New("odd number of items for a dict")
	}
	for i := 0; i < len(items); i += 2 {
		if err := d.set(items[i], items[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// build applies BUILD's state to obj without running any __setstate__.
func build(obj, state any) error {
	switch o := obj.(type) {
	case *pyObject:
		o.state = state
	case *pyDict:
		// An OrderedDict's instance __dict__ (a state dict's _metadata): not data.
	case *Tensor:
		// Tensor attributes (_rebuild_parameter_with_state): not data.
	default:
		return fmt.Errorf("BUILD on %s", typeName(obj))
	}
	return nil
}

// decodeLong decodes a two's-complement little-endian integer (LONG1/LONG4).
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) > 8 {
		return pyBigInt{bytes: len(b)}
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if b[len(b)-1]&0x80 != 0 && len(b) < 8 {
		v |= ^uint64(0) << (8 * len(b))
	}
	return int64(v)
}

// typeName names the Python type of a machine value for error messages.
func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, pyBigInt:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case pyBytes:
		return "bytes"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case *pySet:
		return "set"
	case *pyObject:
		return v.class + " object"
	case *Tensor:
		return "tensor"
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprintf("%T", v)
	}
}
