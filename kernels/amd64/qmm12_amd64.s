// Int8 matrix product with one scale per row (QMatMul, block == k), AVX2,
// by widening to int16, "weight-stationary": 1 activation row × 12 weight
// columns per tile. AVX2.QMatMul runs it for large k (k > 1024, m ≥ 4),
// where the activation panel of qmmxs_amd64.s would not fit in L1.
//
// Why widening (both widening kernels). Without VNNI an int8 dot product
// costs two multiply-pipe instructions per 32 products either way:
// VPMADDUBSW + VPMADDWD(ones) in the sign trick, or two VPMADDWD on int16
// operands. What differs is the rest: the sign trick needs a VPSIGNB per
// (row, column) pair, widening needs one VPMOVSXBW per vector, which these
// kernels do once per panel instead of once per use, so the inner loop is
// exactly VPMADDWD + VPADDD per 16 products plus one VPMOVSXBW per 12
// VPMADDWD. docs/KERNELS.md has the measurements.
//
// The panel holds 12 weight columns for kc values of k (a chunk, kc a
// multiple of 16): for each 16-value step s and column c, the 16 int16
// values w[c][16s..16s+15] at wp + 384s + 32c, so one step reads 384
// contiguous bytes. The first row of each call builds it (flag qmmWiden,
// WSTEP: VPMOVSXBW from w, store, multiply) while computing; the other rows
// read it (STEP).
//
// qmm1x12 runs, for each of the m rows i:
//	Y12     = int16(x[i][16s..16s+15])             VPMOVSXBW, once per step
//	acc[c] += VPMADDWD(Y12, panel[s][c])           8 int32 lanes, c = 0..11
// over the kc/16 steps of the chunk. |x·w| ≤ 127², so each VPMADDWD lane is
// exact (≤ 2·127² < 2^31) and the int32 lanes wrap only where generic's
// int32 sum wraps too (k ≥ 133 143). Integer addition is exact in any
// order, so the lane layout does not matter for the result.
//
// The accumulators start at zero (flag qmmFirst) or are loaded from
// part[i] (12×8 int32 per row), and are stored back to part[i] after the
// chunk. With flag qmmLast (the chunk that ends k) an epilogue pass over
// all m rows follows — one pass after the rows rather than one epilogue per
// row keeps independent work in flight. Per row it is the generic kernel's
// epilogue, operation for operation: the 12 accumulators are summed to 12
// int32 (unpack + add, exact), then per column s = xs[i]·ws[c] (VMULPS),
// t = float32(sum)·s (VCVTDQ2PS, VMULPS), acc = +0 + t (VADDPS; turns -0
// into +0 like generic's acc := 0), acc += bias[c] if bias != nil, and the
// 12 floats are stored to dst[i][0..11]. No FMA: bit-identical to
// kernels/generic.
//
// Register plan (row loop):
//	Y0-Y11  int32 accumulators, column c in Yc
//	Y12     the 16 activations of the step, int16
//	Y13-Y15 VPMADDWD results (three, so each VPADDD trails its VPMADDWD)
//	SI      x row + chunk offset;  R8 panel step;  CX step pairs left
//	AX      x row;  DI dst row (prefetch only);  R10 part row;  R11 rows left
//	R12-R14 prefetch cursor (row pointer, offset, lines left); in the first
//	        row BX, R12-R14 point at weight columns 0, 3, 6, 9 and DX = ldw
//	0(SP)   flags (qmmWiden cleared after the first row)
//
// While the rows run, the raw int8 weights of the next chunk (pf, 12 rows
// ldw apart, pfkc bytes each) are prefetched, pfrow cache lines per row, and
// the end of each row's outputs in the next panel, so that neither the next
// first row nor the epilogue waits on L3 or memory.

#include "textflag.h"

#define qmmFirst 1
#define qmmLast 2
#define qmmWiden 4

// MA multiplies the step's activations with panel column c (at byte offset
// off from R8) into tmp; AC adds tmp to accumulator acc.
#define MA(off, tmp) VPMADDWD off(R8), Y12, tmp
#define AC(tmp, acc) VPADDD tmp, acc, acc

// STEP is one 16-value step: x at xo(SI), panel at po(R8) (po = 0 or 384).
// Each VPADDD is issued two VPMADDWD after its VPMADDWD.
#define STEP(xo, p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11) \
	VPMOVSXBW xo(SI), Y12; \
	MA(p0, Y13); \
	MA(p1, Y14); \
	MA(p2, Y15); \
	AC(Y13, Y0); \
	MA(p3, Y13); \
	AC(Y14, Y1); \
	MA(p4, Y14); \
	AC(Y15, Y2); \
	MA(p5, Y15); \
	AC(Y13, Y3); \
	MA(p6, Y13); \
	AC(Y14, Y4); \
	MA(p7, Y14); \
	AC(Y15, Y5); \
	MA(p8, Y15); \
	AC(Y13, Y6); \
	MA(p9, Y13); \
	AC(Y14, Y7); \
	MA(p10, Y14); \
	AC(Y15, Y8); \
	MA(p11, Y15); \
	AC(Y13, Y9); \
	AC(Y14, Y10); \
	AC(Y15, Y11)

#define STEP0 STEP(0, 0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352)
#define STEP1 STEP(16, 384, 416, 448, 480, 512, 544, 576, 608, 640, 672, 704, 736)

// HSUM4 reduces a, b, c, d (8 int32 lanes each) to
// out = [Σa.lo Σb.lo Σc.lo Σd.lo | Σa.hi Σb.hi Σc.hi Σd.hi]; t1, t2 are clobbered.
#define HSUM4(a, b, c, d, out, t1, t2) \
	VPUNPCKLDQ  b, a, out; \
	VPUNPCKHDQ  b, a, t1; \
	VPADDD      t1, out, out; \
	VPUNPCKLDQ  d, c, t1; \
	VPUNPCKHDQ  d, c, t2; \
	VPADDD      t2, t1, t1; \
	VPUNPCKLQDQ t1, out, t2; \
	VPUNPCKHQDQ t1, out, out; \
	VPADDD      t2, out, out

// WMA is MA for the first row of a panel: it sign-extends the weights of
// column c from the int8 matrix (addr), stores them to the panel (poff(R8))
// and multiplies them.
#define WMA(addr, poff, tmp, acc) \
	VPMOVSXBW addr, tmp; \
	VMOVDQU   tmp, poff(R8); \
	VPMADDWD  tmp, Y12, tmp; \
	AC(tmp, acc)

// WSTEP is STEP for the first row: weight column c = 3q+r at
// wo(Bq)(DX*r) with B0..B3 = BX, R12, R13, R14 and DX = ldw.
#define WSTEP(xo, wo, po) \
	VPMOVSXBW xo(SI), Y12; \
	WMA(wo(BX), po+0, Y13, Y0); \
	WMA(wo(BX)(DX*1), po+32, Y14, Y1); \
	WMA(wo(BX)(DX*2), po+64, Y15, Y2); \
	WMA(wo(R12), po+96, Y13, Y3); \
	WMA(wo(R12)(DX*1), po+128, Y14, Y4); \
	WMA(wo(R12)(DX*2), po+160, Y15, Y5); \
	WMA(wo(R13), po+192, Y13, Y6); \
	WMA(wo(R13)(DX*1), po+224, Y14, Y7); \
	WMA(wo(R13)(DX*2), po+256, Y15, Y8); \
	WMA(wo(R14), po+288, Y13, Y9); \
	WMA(wo(R14)(DX*1), po+320, Y14, Y10); \
	WMA(wo(R14)(DX*2), po+352, Y15, Y11)

// func qmm1x12(dst *float32, ldd int, x *int8, ldx int, xs *float32, wp *int16, ws *float32, bias *float32, part *int32, m, kc, flags int, w *int8, ldw int, pf *int8, pfkc, pfrow, pftotal int)
TEXT ·qmm1x12(SB), NOSPLIT, $8-144
	MOVQ dst+0(FP), DI
	MOVQ x+16(FP), AX
	MOVQ xs+32(FP), R9
	MOVQ part+64(FP), R10
	MOVQ m+72(FP), R11
	MOVQ flags+88(FP), DX
	MOVQ DX, 0(SP)

	MOVQ pf+112(FP), R12
	XORQ R13, R13
	MOVQ pftotal+136(FP), R14

row:
	// Prefetch pfrow more cache lines of the next chunk's weights: pfkc
	// bytes in each of 12 rows ldw apart, R12 the current row, R13 the
	// offset in it, R14 the lines left.
	MOVQ pfrow+128(FP), BX

prefetch:
	TESTQ R14, R14
	JZ    prefetched
	PREFETCHT0 (R12)(R13*1)
	DECQ  R14
	ADDQ  $64, R13
	CMPQ  R13, pfkc+120(FP)
	JB    prefetchnext
	XORQ  R13, R13
	ADDQ  ldw+104(FP), R12

prefetchnext:
	DECQ BX
	JNZ  prefetch

prefetched:
	PREFETCHT0 95(DI) // the end of this row's outputs in the next panel
	MOVQ  0(SP), DX
	TESTQ $qmmFirst, DX
	JZ    loadpart
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	JMP   body

loadpart:
	VMOVDQU 0(R10), Y0
	VMOVDQU 32(R10), Y1
	VMOVDQU 64(R10), Y2
	VMOVDQU 96(R10), Y3
	VMOVDQU 128(R10), Y4
	VMOVDQU 160(R10), Y5
	VMOVDQU 192(R10), Y6
	VMOVDQU 224(R10), Y7
	VMOVDQU 256(R10), Y8
	VMOVDQU 288(R10), Y9
	VMOVDQU 320(R10), Y10
	VMOVDQU 352(R10), Y11

body:
	MOVQ  AX, SI
	MOVQ  wp+40(FP), R8
	MOVQ  kc+80(FP), CX
	TESTQ $qmmWiden, DX
	JNZ   widen
	SHRQ  $5, CX
	JZ    single

pair:
	STEP0
	STEP1
	ADDQ $32, SI
	ADDQ $768, R8
	DECQ CX
	JNZ  pair

single:
	MOVQ  kc+80(FP), CX
	TESTQ $16, CX
	JZ    stepsdone
	STEP0
	JMP   stepsdone

widen:
	// First row of the panel: build the panel while using it.
	ANDQ $~qmmWiden, DX
	MOVQ DX, 0(SP)
	MOVQ w+96(FP), BX
	MOVQ ldw+104(FP), DX
	LEAQ (DX)(DX*2), R13
	LEAQ (BX)(R13*1), R12  // column 3
	LEAQ (R12)(R13*1), R13 // column 6
	LEAQ (R13)(DX*2), R14
	ADDQ DX, R14           // column 9
	SHRQ $5, CX
	JZ   wsingle

wpair:
	WSTEP(0, 0, 0)
	WSTEP(16, 16, 384)
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, R12
	ADDQ $32, R13
	ADDQ $32, R14
	ADDQ $768, R8
	DECQ CX
	JNZ  wpair

wsingle:
	MOVQ  kc+80(FP), CX
	TESTQ $16, CX
	JZ    wdone
	WSTEP(0, 0, 0)

wdone:
	// Restart the prefetch cursor (its registers held the weight rows).
	MOVQ pf+112(FP), R12
	XORQ R13, R13
	MOVQ pftotal+136(FP), R14

stepsdone:
	VMOVDQU Y0, 0(R10)
	VMOVDQU Y1, 32(R10)
	VMOVDQU Y2, 64(R10)
	VMOVDQU Y3, 96(R10)
	VMOVDQU Y4, 128(R10)
	VMOVDQU Y5, 160(R10)
	VMOVDQU Y6, 192(R10)
	VMOVDQU Y7, 224(R10)
	VMOVDQU Y8, 256(R10)
	VMOVDQU Y9, 288(R10)
	VMOVDQU Y10, 320(R10)
	VMOVDQU Y11, 352(R10)

nextrow:
	ADDQ ldx+24(FP), AX
	MOVQ ldd+8(FP), BX
	LEAQ (DI)(BX*4), DI
	ADDQ $384, R10
	DECQ R11
	JNZ  row
	MOVQ 0(SP), DX
	TESTQ $qmmLast, DX
	JZ   done

	// Epilogue over all rows, once the panel is done: independent rows
	// keep every pipe busy, unlike one epilogue at the end of each row.
	MOVQ dst+0(FP), DI
	MOVQ part+64(FP), R10
	MOVQ m+72(FP), R11
	MOVQ ws+48(FP), BX
	MOVQ bias+56(FP), DX
	MOVQ ldd+8(FP), CX
	SHLQ $2, CX

epirow:
	VMOVDQU 0(R10), Y0
	VMOVDQU 32(R10), Y1
	VMOVDQU 64(R10), Y2
	VMOVDQU 96(R10), Y3
	VMOVDQU 128(R10), Y4
	VMOVDQU 160(R10), Y5
	VMOVDQU 192(R10), Y6
	VMOVDQU 224(R10), Y7
	VMOVDQU 256(R10), Y8
	VMOVDQU 288(R10), Y9
	VMOVDQU 320(R10), Y10
	VMOVDQU 352(R10), Y11
	HSUM4(Y0, Y1, Y2, Y3, Y12, Y13, Y14)
	HSUM4(Y4, Y5, Y6, Y7, Y15, Y0, Y1)
	VPERM2I128   $0x20, Y15, Y12, Y13
	VPERM2I128   $0x31, Y15, Y12, Y14
	VPADDD       Y14, Y13, Y13 // sums of columns 0..7
	HSUM4(Y8, Y9, Y10, Y11, Y12, Y2, Y3)
	VEXTRACTI128 $1, Y12, X14
	VPADDD       X14, X12, X12 // sums of columns 8..11
	VCVTDQ2PS    Y13, Y13
	VCVTDQ2PS    X12, X12
	VBROADCASTSS (R9), Y15
	VMULPS       (BX), Y15, Y14 // s = xs[i]·ws[c]
	VMULPS       Y14, Y13, Y13  // t = float32(sum)·s
	VMULPS       32(BX), X15, X14
	VMULPS       X14, X12, X12
	VXORPS       Y14, Y14, Y14
	VADDPS       Y14, Y13, Y13  // acc = +0 + t
	VADDPS       X14, X12, X12
	TESTQ        DX, DX
	JZ           store
	VADDPS       (DX), Y13, Y13
	VADDPS       32(DX), X12, X12

store:
	VMOVUPS Y13, (DI)
	VMOVUPS X12, 32(DI)
	ADDQ    CX, DI
	ADDQ    $4, R9
	ADDQ    $384, R10
	DECQ    R11
	JNZ     epirow

done:
	VZEROUPPER
	RET
