package runtime

import (
	"fmt"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/quant"
)

// matrix is a weight matrix of rows output channels × cols inputs, used in
// place from the mapped file in whichever type the file stores it.
type matrix struct {
	rows, cols int
	dtype      format.DType
	f32        []float32
	f16        []uint16
	q          quant.Matrix // q8: values and scales
}

// linear is y = x·Wᵀ + b.
type linear struct {
	w matrix
	b []float32 // nil when the layer has no bias
}

// loader reads tensors from a file and checks their shapes against what the
// metadata promised, collecting the first error.
type loader struct {
	f   *format.File
	err error
}

func (l *loader) fail(format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf(format, args...)
	}
}

func (l *loader) tensor(name string, shape ...int) *format.Tensor {
	if l.err != nil {
		return nil
	}
	t, err := l.f.Tensor(name)
	if err != nil {
		l.err = err
		return nil
	}
	if len(t.Shape) != len(shape) {
		l.fail("tensor %s has shape %v, the metadata implies %v", name, t.Shape, shape)
		return nil
	}
	for i := range shape {
		if t.Shape[i] != shape[i] {
			l.fail("tensor %s has shape %v, the metadata implies %v", name, t.Shape, shape)
			return nil
		}
	}
	return t
}

// vector loads an f32 tensor of exactly n elements (gains, biases,
// embeddings that stay in float).
func (l *loader) vector(name string, shape ...int) []float32 {
	t := l.tensor(name, shape...)
	if t == nil {
		return nil
	}
	v, err := t.F32()
	if err != nil {
		l.fail("tensor %s: %w", name, err)
	}
	return v
}

// matrix loads a 2-D weight in any stored type.
func (l *loader) matrix(name string, rows, cols int) matrix {
	t := l.tensor(name, rows, cols)
	m := matrix{rows: rows, cols: cols}
	if t == nil {
		return m
	}
	m.dtype = t.DType
	var err error
	switch t.DType {
	case format.F32:
		m.f32, err = t.F32()
	case format.F16:
		m.f16, err = t.F16()
	case format.Q8:
		m.q = quant.Matrix{Rows: rows, Cols: cols, Block: t.Block}
		m.q.Data, m.q.Scales, err = t.Q8()
	default:
		err = fmt.Errorf("type %s cannot hold a weight matrix", t.DType)
	}
	if err != nil {
		l.fail("tensor %s: %w", name, err)
	}
	return m
}

func (l *loader) linear(prefix string, out, in int, bias bool) linear {
	ln := linear{w: l.matrix(prefix+".weight", out, in)}
	if bias {
		ln.b = l.vector(prefix+".bias", out)
	}
	return ln
}

// norm is a LayerNorm's gain and bias.
type norm struct{ g, b []float32 }

func (l *loader) norm(prefix string, n int) norm {
	return norm{g: l.vector(prefix+".weight", n), b: l.vector(prefix+".bias", n)}
}

// row writes row r of m as float32 into dst (token embedding lookups).
func (m *matrix) row(dst []float32, r int, f16 func([]float32, []uint16)) {
	switch m.dtype {
	case format.F32:
		copy(dst, m.f32[r*m.cols:(r+1)*m.cols])
	case format.F16:
		f16(dst, m.f16[r*m.cols:(r+1)*m.cols])
	case format.Q8:
		m.q.DequantizeRow(dst, r)
	}
}
