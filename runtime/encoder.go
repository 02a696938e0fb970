package runtime

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/clipinfer/clipinfer/format"
	"github.com/clipinfer/clipinfer/kernels"
)

// engine is what every forward pass shares: the kernels and the workers.
type engine struct {
	k kernels.Kernels
	w *workers
}

// block is one pre-LN residual attention block:
// x += out(attn(ln1(x))); x += fc2(act(fc1(ln2(x)))).
type block struct {
	ln1, ln2           norm
	qkv, out, fc1, fc2 linear
}

// encoder is a stack of blocks, shared by the image and the text tower.
type encoder struct {
	width, heads, mlp int
	eps               float32
	act               epilogue // the MLP activation
	causal            bool
	blocks            []block
}

func (l *loader) encoder(prefix string, width, heads, mlp, layers int, eps float32, act string, causal bool) encoder {
	e := encoder{width: width, heads: heads, mlp: mlp, eps: eps, act: epiQuickGELU, causal: causal}
	switch act {
	case format.ActGELU:
		e.act = epiGELU
	case format.ActGELUTanh:
		e.act = epiGELUTanh
	}
	for i := 0; i < layers && l.err == nil; i++ {
		p := prefix + ".blocks." + strconv.Itoa(i)
		e.blocks = append(e.blocks, block{
			ln1: l.norm(p+".ln1", width),
			qkv: l.linear(p+".attn.qkv", 3*width, width, true),
			out: l.linear(p+".attn.out", width, width, true),
			ln2: l.norm(p+".ln2", width),
			fc1: l.linear(p+".mlp.fc1", mlp, width, true),
			fc2: l.linear(p+".mlp.fc2", width, mlp, true),
		})
	}
	return e
}

// span is one sequence inside a ragged batch: rows [start, start+n), of
// which row start+pool is the one the tower's output is read from.
type span struct{ start, n, pool int }

// state is the scratch memory of one forward pass. Its slices grow to the
// largest batch seen and are reused through a sync.Pool, so a steady stream
// of same-sized calls allocates nothing.
type state struct {
	x, h, qkv, att, tmp, mlp []float32
	xq                       []int8
	xs                       []float32
	xp                       []byte      // activations packed for a kernels.QPacker
	scores, vt               [][]float32 // per participant of a parallel call
	in, out                  []float32   // tower inputs and pooled rows
	spans                    []span
	active                   []int // SimpleCLIP: sequences still running
	par                      batch
	// ctx is the caller's context for this pass (nil: never cancelled);
	// the towers check it between blocks.
	ctx context.Context

	prep prepJob
	mm   mmJob
	attn attnJob
	// qkvAttn runs a block's QKV product and attention by heads.
	qkvAttn qkvAttnJob
}

// stopped returns a wrapped ctx error once the pass's context has ended,
// naming where the pass stopped, and nil otherwise. It is checked at
// layer boundaries: a block's kernels are never interrupted, so a
// cancelled pass leaves nothing half-written that a later pass reads.
func (s *state) stopped(where string, i, n int) error {
	if s.ctx == nil {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("stopped before %s %d of %d: %w", where, i+1, n, err)
	}
	return nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// forward runs the blocks over s.x (rows×width, rows = Σ spans.n) and
// leaves the pooled row of each span in s.x's first len(s.spans) rows.
//
// With prune, the last block computes attention only for the pooled query
// rows and its projection and MLP only for those rows: nothing else is
// read afterwards, and those rows do not depend on the skipped work (their
// keys and values are still computed for every row). Without prune every
// row runs through every block (the reference the tests compare with).
//
// It returns the context's error, wrapped, if the pass's context ends
// before a block starts.
func (e *engine) forward(enc *encoder, s *state, rows int, prune bool) error {
	if err := e.blocks(enc, s, rows, prune); err != nil {
		return err
	}
	if !prune {
		w := enc.width
		for i, sp := range s.spans {
			copy(s.x[i*w:(i+1)*w], s.x[(sp.start+sp.pool)*w:(sp.start+sp.pool+1)*w])
		}
	}
	return nil
}

// blocks runs the blocks over s.x as forward does, but without prune
// leaves every row of every span in place (towers that pool with their
// own head read them all). Before each block it checks the pass's context
// and returns its error, wrapped, once it has ended.
func (e *engine) blocks(enc *encoder, s *state, rows int, prune bool) error {
	w := enc.width
	s.h = grow(s.h, rows*w)
	s.qkv = grow(s.qkv, rows*3*w)
	s.att = grow(s.att, rows*w)
	s.tmp = grow(s.tmp, rows*w)
	s.mlp = grow(s.mlp, rows*enc.mlp)
	maxN := 0
	for _, sp := range s.spans {
		maxN = max(maxN, sp.n)
	}
	hd := w / enc.heads
	parts := e.w.threads
	s.scores = grow(s.scores, parts)
	s.vt = grow(s.vt, parts)
	for c := range parts {
		s.scores[c] = grow(s.scores[c], maxN*maxN)
		s.vt[c] = grow(s.vt[c], hd*maxN)
	}
	act := enc.act
	for bi := range enc.blocks {
		if err := s.stopped("block", bi, len(enc.blocks)); err != nil {
			return err
		}
		b := &enc.blocks[bi]
		last := bi == len(enc.blocks)-1
		pooled := last && prune
		e.normAttention(s, enc, b, rows, pooled)
		if pooled {
			// Keep only the pooled rows of the residual stream; the
			// attention output is already compact.
			for i, sp := range s.spans {
				copy(s.x[i*w:(i+1)*w], s.x[(sp.start+sp.pool)*w:(sp.start+sp.pool+1)*w])
			}
			rows = len(s.spans)
		}
		e.linear(s, &b.out, s.att, rows, s.tmp, epiResidual, s.x)
		e.normLinear(s, &b.ln2, enc.eps, s.x, s.h, &b.fc1, rows, s.mlp, act, nil)
		e.linear(s, &b.fc2, s.mlp, rows, s.tmp, epiResidual, s.x)
	}
	return nil
}

// layerNorm applies n to rows of x (w values each) into dst, which may be
// x: a prepJob with nothing after its LayerNorm.
func (e *engine) layerNorm(s *state, n *norm, x, dst []float32, rows, w int, eps float32) {
	s.prep = prepJob{k: e.k, ln: n, eps: eps, x: x, h: dst, cols: w, rows: rows}
	e.w.parallel(&s.prep, rows, 1, &s.par)
}

// prepJob prepares the activation rows of a matrix product: an optional
// LayerNorm (x into h, which the product then reads), quantisation to int8
// for q8 weights, and packing for a kernel that packs its activations
// (kernels.QPacker). Each row needs only itself, so one parallel call over
// the rows does all three, and the product's column pieces share the one
// packed copy.
type prepJob struct {
	k    kernels.Kernels
	ln   *norm // nil: no LayerNorm
	eps  float32
	x, h []float32
	cols int
	xq   []int8 // nil: no quantisation (float weights)
	xs   []float32
	bs   int
	pk   kernels.QPacker // nil: not packed
	xp   []byte
	rows int
}

func (j *prepJob) run(_, lo, hi int) {
	w, nb := j.cols, 0
	if j.xq != nil {
		nb = w / j.bs
	}
	for r := lo; r < hi; r++ {
		src := j.x[r*w : (r+1)*w]
		if j.ln != nil {
			j.k.LayerNorm(j.h[r*w:(r+1)*w], src, j.ln.g, j.ln.b, j.eps)
			src = j.h[r*w : (r+1)*w]
		}
		if j.xq != nil {
			j.k.Quantize(j.xq[r*w:(r+1)*w], j.xs[r*nb:(r+1)*nb], src, j.bs)
		}
	}
	if j.pk != nil {
		j.pk.QPack(j.xp, j.xq, j.xs, j.rows, w, j.bs, lo, hi)
	}
}

// prepRows is the row grain of a prepJob: a packed row group (four rows of
// sixteen bytes per cache line for avx512vnni) stays with one participant.
const prepRows = 4

// epilogue is what a matmul job does to its output columns.
type epilogue int

const (
	epiNone      epilogue = iota
	epiGELU               // dst = GELU(dst)
	epiQuickGELU          // dst = QuickGELU(dst)
	epiResidual           // res += dst
	epiReLU               // dst = max(dst, 0)
	epiGELUTanh           // dst = tanh-approximated GELU(dst)
)

// mmJob computes output columns [lo, hi) of dst = x·Wᵀ + b for all rows,
// then applies the epilogue to those columns.
type mmJob struct {
	k    kernels.Kernels
	l    *linear
	x    []float32
	xq   []int8
	xs   []float32
	pk   kernels.QPacker // non-nil: xp holds the packed activations
	xp   []byte
	dst  []float32
	res  []float32
	rows int
	epi  epilogue
}

func (j *mmJob) run(_, lo, hi int) {
	w := &j.l.w
	k := w.cols
	// Column blocks whose weights fit in L2: the kernels sweep every row
	// past a block, so its weights are read from memory once per call
	// rather than once per row panel (which matters for batches). A kernel
	// that packs the activations blocks the weights itself and gets the
	// whole range in one call.
	g := colGrain(j.k)
	step := max(g, weightBlockBytes/(k*w.dtype.ElemSize())/g*g)
	if j.pk != nil {
		step = hi - lo
	}
	n := w.rows
	for c0 := lo; c0 < hi; c0 += step {
		j.block(c0, min(c0+step, hi))
	}
	if j.epi == epiNone {
		return
	}
	for r := 0; r < j.rows; r++ {
		out := j.dst[r*n+lo : r*n+hi]
		switch j.epi {
		case epiGELU:
			j.k.GELU(out)
		case epiQuickGELU:
			j.k.QuickGELU(out)
		case epiResidual:
			j.k.Add(j.res[r*n+lo:r*n+hi], out)
		case epiReLU:
			for i, v := range out {
				out[i] = max(v, 0)
			}
		case epiGELUTanh:
			geluTanh(out)
		}
	}
}

// weightBlockBytes bounds the weights of one matmul call (about half of a
// typical 512 KiB–1 MiB L2).
const weightBlockBytes = 256 << 10

// block computes output columns [lo, hi) for all rows.
func (j *mmJob) block(lo, hi int) {
	w := &j.l.w
	n, k := w.rows, w.cols
	var bias []float32
	if j.l.b != nil {
		bias = j.l.b[lo:hi]
	}
	dst := j.dst[lo:]
	switch w.dtype {
	case format.Q8:
		nb := k / w.q.Block
		if j.pk != nil {
			j.pk.QMatMulPacked(dst, n, j.xp, w.q.Data[lo*k:hi*k], w.q.Scales[lo*nb:hi*nb], bias, j.rows, hi-lo, k, w.q.Block)
			return
		}
		j.k.QMatMul(dst, n, j.xq, j.xs, w.q.Data[lo*k:hi*k], w.q.Scales[lo*nb:hi*nb], bias, j.rows, hi-lo, k, w.q.Block)
	case format.F16:
		j.k.MatMulF16(dst, n, j.x, k, w.f16[lo*k:hi*k], k, bias, j.rows, hi-lo, k)
	default:
		j.k.MatMul(dst, n, j.x, k, w.f32[lo*k:hi*k], k, bias, j.rows, hi-lo, k)
	}
}

// colGrain returns the column chunk of a parallel matrix product: the
// smallest multiple of the kernel's Grain that is at least minChunkCols, so
// a chunk never splits one of the kernel's column tiles and is still large
// enough to be worth a scheduling step.
func colGrain(k kernels.Kernels) int {
	g := max(1, k.Grain())
	return (minChunkCols + g - 1) / g * g
}

// minChunkCols is the smallest column chunk worth handing to a participant.
const minChunkCols = 48

// linear computes dst = x·Wᵀ + b over rows rows (x is rows×in), quantising
// x first when W is q8, and applies epi.
func (e *engine) linear(s *state, l *linear, x []float32, rows int, dst []float32, epi epilogue, res []float32) {
	e.normLinear(s, nil, 0, x, nil, l, rows, dst, epi, res)
}

// normLinear is linear on LayerNorm(x) when n is not nil: h (rows×in)
// receives the normalised rows, and the product reads them. The row work
// (LayerNorm, quantisation, packing) is one parallel call over the rows,
// the product a second one over the output columns.
func (e *engine) normLinear(s *state, n *norm, eps float32, x, h []float32, l *linear, rows int, dst []float32, epi epilogue, res []float32) {
	e.prepare(s, n, eps, x, h, l, rows, dst, epi, res)
	e.w.parallel(&s.mm, l.w.rows, colGrain(e.k), &s.par)
}

// prepare runs the row work of normLinear and leaves the product's job in
// s.mm, ready to run over column ranges.
func (e *engine) prepare(s *state, n *norm, eps float32, x, h []float32, l *linear, rows int, dst []float32, epi epilogue, res []float32) {
	in := l.w.cols
	s.mm = mmJob{k: e.k, l: l, x: x, dst: dst, res: res, rows: rows, epi: epi}
	s.prep = prepJob{k: e.k, ln: n, eps: eps, x: x, h: h, cols: in, rows: rows}
	if n != nil {
		s.mm.x = h
	}
	if l.w.dtype == format.Q8 {
		bs := l.w.q.Block
		s.xq = grow(s.xq, rows*in)
		s.xs = grow(s.xs, rows*(in/bs))
		s.prep.xq, s.prep.xs, s.prep.bs = s.xq, s.xs, bs
		s.mm.xq, s.mm.xs = s.xq, s.xs
		if pk, ok := e.k.(kernels.QPacker); ok {
			if size := pk.QPackSize(rows, in, bs); size > 0 {
				s.xp = grow(s.xp, size)
				s.prep.pk, s.prep.xp = pk, s.xp
				s.mm.pk, s.mm.xp = pk, s.xp
			}
		}
	}
	if n != nil || s.prep.xq != nil {
		e.w.parallel(&s.prep, rows, prepRows, &s.par)
	}
}

// attnJob runs multi-head attention for (sequence, head) pairs. With
// pooled, only each sequence's pooled query row is computed and written to
// row i of s.att (compact); otherwise every row, in place.
type attnJob struct {
	k      kernels.Kernels
	s      *state
	width  int
	heads  int
	causal bool
	pooled bool
}

func (j *attnJob) run(c, lo, hi int) {
	s, w := j.s, j.width
	hd := w / j.heads
	scale := float32(1 / math.Sqrt(float64(hd)))
	for p := lo; p < hi; p++ {
		si, h := p/j.heads, p%j.heads
		sp := s.spans[si]
		n := sp.n
		base := sp.start * 3 * w
		kk := s.qkv[base+w+h*hd:]
		v := s.qkv[base+2*w+h*hd:]
		// Query rows [q0, q1) of the sequence, keys [0, nk).
		q0, q1, nk := 0, n, n
		out := s.att[sp.start*w+h*hd:]
		if j.pooled {
			q0, q1 = sp.pool, sp.pool+1
			out = s.att[si*w+h*hd:]
			if j.causal {
				nk = sp.pool + 1
			}
		}
		q := s.qkv[base+q0*3*w+h*hd:]
		vt := s.vt[c][:hd*nk]
		for t := 0; t < nk; t++ {
			vr := v[t*3*w : t*3*w+hd]
			for d, val := range vr {
				vt[d*nk+t] = val
			}
		}
		// Query rows go in blocks; with a causal mask a block only needs
		// the keys up to its last row, which skips about 40 % of a full
		// sequence's score and value products.
		step := q1 - q0
		if j.causal {
			step = causalRows
		}
		scores := s.scores[c][:(q1-q0)*nk]
		for b0 := q0; b0 < q1; b0 += step {
			b1 := min(b0+step, q1)
			kb := nk
			if j.causal {
				kb = min(nk, b1)
			}
			sc := scores[(b0-q0)*nk:]
			j.k.MatMul(sc, nk, q[(b0-q0)*3*w:], 3*w, kk, 3*w, nil, b1-b0, kb, hd)
			for i := b0; i < b1; i++ {
				row := sc[(i-b0)*nk : (i-b0)*nk+kb]
				lim := kb
				if j.causal {
					lim = min(kb, i+1)
				}
				j.k.Scale(row[:lim], scale)
				j.k.Softmax(row[:lim])
				clear(row[lim:])
			}
			j.k.MatMul(out[(b0-q0)*w:], w, sc, nk, vt, nk, nil, b1-b0, hd, kb)
		}
	}
}

// causalRows is the query block of causal attention: small enough to skip
// most of the masked products, large enough for the MatMul tiles.
const causalRows = 16

func (e *engine) attention(s *state, enc *encoder, pooled bool) {
	s.attn = attnJob{k: e.k, s: s, width: enc.width, heads: enc.heads, causal: enc.causal, pooled: pooled}
	e.w.parallel(&s.attn, len(s.spans)*enc.heads, 1, &s.par)
}

// qkvAttnJob computes, per head, that head's query, key and value columns
// of the QKV product and then its attention: a participant reads only the
// columns it has just written, and one parallel call covers both steps.
type qkvAttnJob struct {
	mm    *mmJob
	attn  *attnJob
	width int
	hd    int
	seqs  int
	heads int
}

func (j *qkvAttnJob) run(c, lo, hi int) {
	for part := 0; part < 3; part++ { // the heads' queries, keys, values
		off := part * j.width
		j.mm.run(c, off+lo*j.hd, off+hi*j.hd)
	}
	for si := 0; si < j.seqs; si++ {
		p := si * j.heads
		j.attn.run(c, p+lo, p+hi)
	}
}

// normAttention computes s.att = attention(LayerNorm₁(s.x)·Wqkvᵀ + b) for
// block b (pooled as for attention). When a head's columns are whole
// column tiles of the kernel, the QKV product and the attention run
// together by heads (qkvAttnJob); otherwise the product runs over column
// chunks and the attention after it.
func (e *engine) normAttention(s *state, enc *encoder, b *block, rows int, pooled bool) {
	hd := enc.width / enc.heads
	if hd%max(1, e.k.Grain()) != 0 {
		e.normLinear(s, &b.ln1, enc.eps, s.x, s.h, &b.qkv, rows, s.qkv, epiNone, nil)
		e.attention(s, enc, pooled)
		return
	}
	e.prepare(s, &b.ln1, enc.eps, s.x, s.h, &b.qkv, rows, s.qkv, epiNone, nil)
	s.attn = attnJob{k: e.k, s: s, width: enc.width, heads: enc.heads, causal: enc.causal, pooled: pooled}
	s.qkvAttn = qkvAttnJob{mm: &s.mm, attn: &s.attn, width: enc.width, hd: hd, seqs: len(s.spans), heads: enc.heads}
	e.w.parallel(&s.qkvAttn, enc.heads, 1, &s.par)
}

// geluTanh is PyTorch's gelu(approximate="tanh"),
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), in float64 and rounded once.
// The kernels have no such op: it runs in Go.
func geluTanh(x []float32) {
	const c = 0.7978845608028654 // √(2/π)
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Tanh(c*(f+0.044715*f*f*f))))
	}
}
