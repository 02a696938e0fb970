// Package quant holds the numerics of clipinfer's weight format: the q8
// encoding (symmetric int8 values with one float32 scale per row and per
// block of columns; docs/DESIGN.md §3) and the f16 codec. It imports nothing of clipinfer, so
// the converter, the kernels and the index all share its one definition.
//
// A weight matrix W (rows = output channels, cols = K) is stored as int8
// q[r][c] ∈ [-127, 127] and scales s[r][b] = amax/127 of each block, so
// W ≈ q·s. Activations are quantised the same way, row by row, just before
// each int8 matmul (kernels.Kernels.Quantize); weights use the very same
// rounding (ties to even), so one definition serves both.
package quant

import (
	"errors"
	"fmt"
	"math"
)

// Matrix is a q8 matrix.
type Matrix struct {
	Rows, Cols int
	// Block is the number of columns sharing one scale; Block == Cols
	// means one scale per row (per-channel).
	Block  int
	Data   []int8    // Rows·Cols values, row-major
	Scales []float32 // Rows·(Cols/Block) scales, row-major
}

// BlocksPerRow returns Cols/Block.
func (m *Matrix) BlocksPerRow() int { return m.Cols / m.Block }

// EffectiveBlock returns the block size Quantize uses for a row of cols
// values when block is requested: block itself when it divides cols, else
// cols (one scale per row). block ≤ 0 also means one scale per row.
func EffectiveBlock(cols, block int) int {
	if block <= 0 || block >= cols || cols%block != 0 {
		return cols
	}
	return block
}

// Quantize converts a rows×cols float32 matrix to q8 with the given block
// size (see EffectiveBlock). Non-finite weights are an error.
func Quantize(w []float32, rows, cols, block int) (*Matrix, error) {
	if rows <= 0 || cols <= 0 || len(w) != rows*cols {
		return nil, fmt.Errorf("quant: %d values for a %d×%d matrix", len(w), rows, cols)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("quant: non-finite weight %v at row %d, column %d", v, i/cols, i%cols)
		}
	}
	block = EffectiveBlock(cols, block)
	m := &Matrix{Rows: rows, Cols: cols, Block: block, Data: make([]int8, rows*cols), Scales: make([]float32, rows*(cols/block))}
	nb := cols / block
	for r := 0; r < rows; r++ {
		QuantizeRow(m.Data[r*cols:(r+1)*cols], m.Scales[r*nb:(r+1)*nb], w[r*cols:(r+1)*cols], block)
	}
	return m, nil
}

// QuantizeRow quantises one row x in blocks of block values: each block's
// scale is amax/127 and its values round(x·127/amax) to even, clamped to
// [-127, 127]; a block of zeros (or with a NaN) gets scale 0 and zeros. It
// is the one definition of the format's rounding: weights are quantised
// with it, and every kernel's activation Quantize must match it bit for bit.
func QuantizeRow(dst []int8, scales []float32, x []float32, block int) {
	for b := 0; b*block < len(x); b++ {
		xb := x[b*block : (b+1)*block]
		qb := dst[b*block : (b+1)*block]
		var amax float32
		for _, v := range xb {
			amax = max(amax, abs32(v))
		}
		if amax == 0 || amax != amax {
			scales[b] = 0
			clear(qb)
			continue
		}
		scales[b] = amax / 127
		inv := 127 / amax
		for i, v := range xb {
			qb[i] = int8(max(-127, min(127, math.RoundToEven(float64(v*inv)))))
		}
	}
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// Dequantize returns q·s as float32.
func (m *Matrix) Dequantize() []float32 {
	out := make([]float32, m.Rows*m.Cols)
	m.DequantizeRow(out, 0)
	for r := 1; r < m.Rows; r++ {
		m.DequantizeRow(out[r*m.Cols:], r)
	}
	return out
}

// DequantizeRow writes row r of q·s into dst[:Cols] (embedding lookups use
// it on q8 token tables).
func (m *Matrix) DequantizeRow(dst []float32, r int) {
	nb := m.BlocksPerRow()
	q := m.Data[r*m.Cols : (r+1)*m.Cols]
	for b := 0; b < nb; b++ {
		s := m.Scales[r*nb+b]
		for i := b * m.Block; i < (b+1)*m.Block; i++ {
			dst[i] = float32(q[i]) * s
		}
	}
}

// Validate checks that the slices and sizes agree and every value is in
// [-127, 127] with finite, non-negative scales.
func (m *Matrix) Validate() error {
	switch {
	case m.Rows <= 0 || m.Cols <= 0 || m.Block <= 0:
		return fmt.Errorf("quant: bad shape %d×%d block %d", m.Rows, m.Cols, m.Block)
	case m.Cols%m.Block != 0:
		return fmt.Errorf("quant: block %d does not divide %d columns", m.Block, m.Cols)
	case len(m.Data) != m.Rows*m.Cols:
		return fmt.Errorf("quant: %d values for %d×%d", len(m.Data), m.Rows, m.Cols)
	case len(m.Scales) != m.Rows*m.BlocksPerRow():
		return fmt.Errorf("quant: %d scales for %d rows of %d blocks", len(m.Scales), m.Rows, m.BlocksPerRow())
	}
	for _, v := range m.Data {
		if v == -128 {
			return errors.New("quant: value -128 outside [-127, 127]")
		}
	}
	for _, s := range m.Scales {
		if !(s >= 0) || math.IsInf(float64(s), 0) {
			return fmt.Errorf("quant: bad scale %v", s)
		}
	}
	return nil
}

// Error summarises how far a quantised matrix is from the original.
type Error struct {
	// Relative is ‖W − Ŵ‖ / ‖W‖ (Frobenius norms).
	Relative float64
	// MaxAbs is the largest |W − Ŵ| element.
	MaxAbs float64
	// SNR is 20·log10(‖W‖ / ‖W − Ŵ‖) in decibels.
	SNR float64
}

// Measure compares w with its quantised form.
func Measure(w []float32, m *Matrix) Error {
	var num, den, mx float64
	row := make([]float32, m.Cols)
	for r := 0; r < m.Rows; r++ {
		m.DequantizeRow(row, r)
		for c, v := range row {
			d := float64(w[r*m.Cols+c]) - float64(v)
			num += d * d
			den += float64(w[r*m.Cols+c]) * float64(w[r*m.Cols+c])
			mx = math.Max(mx, math.Abs(d))
		}
	}
	e := Error{MaxAbs: mx}
	if den > 0 {
		e.Relative = math.Sqrt(num / den)
	}
	if num > 0 {
		e.SNR = 10 * math.Log10(den/num)
	} else {
		e.SNR = math.Inf(1)
	}
	return e
}
