// Int8 matrix product with per-block scales (QMatMul), AVX2.
//
// Algorithm. dst[i][j] = Σ_b float32(Σ_{k∈b} x[i][k]·w[j][k]) · (xs[i][b]·ws[j][b]) (+ bias[j]).
// The output is cut into register tiles of 2 rows × 4 columns. Loop order:
// column tile (outer) → row tile → block → 32-byte step, so the 4 weight rows
// of a column tile (4·k bytes) stay in L1 while every activation row streams
// past them. The last column and row tiles move back to n-4 and m-2 when n or
// m is not a multiple of the tile: they recompute a few outputs with the same
// operations, which gives the same bits. x rows are ldx bytes apart and xs
// rows ldxs floats apart (0 and 0 run one row twice, with ldd = 0). The
// caller guarantees m ≥ 2, n ≥ 4, block ≥ 32, k = nb·block and x, w values
// in [-127, 127].
//
// One 32-byte step of the int8 dot products ("sign trick"):
//	xa  = VPABSB x            |x| as unsigned bytes, once per row
//	t   = VPSIGNB w by x      sign(x)·w, per (row, column) pair
//	t   = VPMADDUBSW xa, t    16 × int16 pair sums, |.| ≤ 2·127·127 < 2^15: never saturates
//	t   = VPMADDWD t, ones    8 × int32
//	acc = VPADDD acc, t       (the first step of a block writes acc instead)
// Steps are unrolled by two. A block whose length is not a multiple of 32
// ends with one step that reloads the block's last 32 bytes and zeroes, with
// a mask, the weight bytes already counted (the read stays inside the block).
// The int32 lanes cannot overflow for k < 133k. (The VPMOVSXBW + VPMADDWD
// step measured no faster; see docs/KERNELS.md.)
//
// Epilogue, once per block, exactly as the generic kernel: the 8 int32 vectors
// of the tile are reduced (unpack + add, exact in any order) to one vector of
// the 8 sums; then s = xs·ws (VMULPS), t = float32(sum)·s (VCVTDQ2PS, VMULPS)
// and acc += t (VADDPS), acc starting at +0; after the last block acc += bias.
// No FMA anywhere, so the result is bit-identical to kernels/generic for any
// block size.
//
// Register plan:
//	Y0-Y3   int32 accumulators, row 0 × columns 0..3
//	Y4-Y7   int32 accumulators, row 1 × columns 0..3
//	Y8, Y9  |x| of rows 0, 1
//	Y10     weight bytes of the current column
//	Y11     product temporary
//	Y12     sixteen int16 ones (VPMADDWD reduction)
//	Y13     tail mask (0x00 for bytes already counted, 0xff for the rest)
//	Y14     float32 accumulators [row 0 cols 0..3 | row 1 cols 0..3]
//	Y15     epilogue temporary
//	SI, R8  x rows 0, 1;  R9-R12 w rows 0..3;  AX offset in the row (bytes)
//	DX      end of the block's full steps; BX end of the unrolled pairs / tail offset
//	CX      &xs[i][b];  DI &ws[j][b];  R13 nb·4;  R14 blocks left
//	stack   0: j  8: i  16: block&^31  24: block&31  32: ldxs·4

#include "textflag.h"

DATA onesW<>+0(SB)/8, $0x0001000100010001
DATA onesW<>+8(SB)/8, $0x0001000100010001
DATA onesW<>+16(SB)/8, $0x0001000100010001
DATA onesW<>+24(SB)/8, $0x0001000100010001
GLOBL onesW<>(SB), RODATA|NOPTR, $32

// tailMask+r is 32-r zero bytes followed by r 0xff bytes.
DATA tailMask<>+0(SB)/8, $0
DATA tailMask<>+8(SB)/8, $0
DATA tailMask<>+16(SB)/8, $0
DATA tailMask<>+24(SB)/8, $0
DATA tailMask<>+32(SB)/8, $-1
DATA tailMask<>+40(SB)/8, $-1
DATA tailMask<>+48(SB)/8, $-1
DATA tailMask<>+56(SB)/8, $-1
GLOBL tailMask<>(SB), RODATA|NOPTR, $64

// MAC2AO multiplies the weight vector in Y10 with rows 0 and 1 at displacement off.
#define MAC2AO(off, idx, a0, a1) \
	VPSIGNB         off(SI)(idx*1), Y10, Y11; \
	VPMADDUBSW   Y11, Y8, Y11; \
	VPMADDWD       Y12, Y11, Y11; \
	VPADDD           Y11, a0, a0; \
	VPSIGNB         off(R8)(idx*1), Y10, Y11; \
	VPMADDUBSW   Y11, Y9, Y11; \
	VPMADDWD       Y12, Y11, Y11; \
	VPADDD           Y11, a1, a1

#define STEP2AO(off, idx) \
	VPABSB        off(SI)(idx*1), Y8; \
	VPABSB        off(R8)(idx*1), Y9; \
	VMOVDQU      off(R9)(idx*1), Y10; \
	MAC2AO(off, idx, Y0, Y4); \
	VMOVDQU      off(R10)(idx*1), Y10; \
	MAC2AO(off, idx, Y1, Y5); \
	VMOVDQU      off(R11)(idx*1), Y10; \
	MAC2AO(off, idx, Y2, Y6); \
	VMOVDQU      off(R12)(idx*1), Y10; \
	MAC2AO(off, idx, Y3, Y7)

// MAC2AF and FIRST2A are the first step of a block: they write the accumulators.
#define MAC2AF(idx, a0, a1) \
	VPSIGNB         (SI)(idx*1), Y10, Y11; \
	VPMADDUBSW   Y11, Y8, Y11; \
	VPMADDWD       Y12, Y11, a0; \
	VPSIGNB         (R8)(idx*1), Y10, Y11; \
	VPMADDUBSW   Y11, Y9, Y11; \
	VPMADDWD       Y12, Y11, a1

#define FIRST2A(idx) \
	VPABSB        (SI)(idx*1), Y8; \
	VPABSB        (R8)(idx*1), Y9; \
	VMOVDQU      (R9)(idx*1), Y10; \
	MAC2AF(idx, Y0, Y4); \
	VMOVDQU      (R10)(idx*1), Y10; \
	MAC2AF(idx, Y1, Y5); \
	VMOVDQU      (R11)(idx*1), Y10; \
	MAC2AF(idx, Y2, Y6); \
	VMOVDQU      (R12)(idx*1), Y10; \
	MAC2AF(idx, Y3, Y7)

// TAIL2A is a step with the weight bytes masked by Y13.
#define TAIL2A(idx) \
	VPABSB        (SI)(idx*1), Y8; \
	VPABSB        (R8)(idx*1), Y9; \
	VPAND          (R9)(idx*1), Y13, Y10; \
	MAC2AO(0, idx, Y0, Y4); \
	VPAND          (R10)(idx*1), Y13, Y10; \
	MAC2AO(0, idx, Y1, Y5); \
	VPAND          (R11)(idx*1), Y13, Y10; \
	MAC2AO(0, idx, Y2, Y6); \
	VPAND          (R12)(idx*1), Y13, Y10; \
	MAC2AO(0, idx, Y3, Y7)

// HSUM4 reduces a, b, c, d (8 int32 lanes each) to
// out = [Σa.lo Σb.lo Σc.lo Σd.lo | Σa.hi Σb.hi Σc.hi Σd.hi]; t1, t2 are clobbered.
#define HSUM4(a, b, c, d, out, t1, t2) \
	VPUNPCKLDQ    b, a, out; \
	VPUNPCKHDQ    b, a, t1; \
	VPADDD            t1, out, out; \
	VPUNPCKLDQ    d, c, t1; \
	VPUNPCKHDQ    d, c, t2; \
	VPADDD            t2, t1, t1; \
	VPUNPCKLQDQ  t1, out, t2; \
	VPUNPCKHQDQ  t1, out, out; \
	VPADDD            t2, out, out

// WSVEC loads ws[j..j+3][b] (stride R13 bytes, base DI) into X10.
#define WSVEC \
	VMOVSS          (DI), X10; \
	VINSERTPS    $0x10, (DI)(R13*1), X10, X10; \
	VINSERTPS    $0x20, (DI)(R13*2), X10, X10; \
	LEAQ              (DI)(R13*2), DX; \
	VINSERTPS    $0x30, (DX)(R13*1), X10, X10

// func qmm2x4(dst *float32, ldd int, x *int8, ldx int, xs *float32, ldxs int, w *int8, ws *float32, bias *float32, m, n, k, block, nb int)
TEXT ·qmm2x4(SB), NOSPLIT, $48-112
	VMOVDQU      onesW<>(SB), Y12
	MOVQ         block+96(FP), AX
	MOVQ         AX, BX
	ANDQ         $31, BX
	MOVQ         BX, 24(SP)
	LEAQ         tailMask<>(SB), CX
	VMOVDQU      (CX)(BX*1), Y13
	ANDQ         $-32, AX
	MOVQ         AX, 16(SP)
	MOVQ         nb+104(FP), R13
	SHLQ         $2, R13
	MOVQ         ldxs+40(FP), AX
	SHLQ         $2, AX
	MOVQ         AX, 32(SP)
	MOVQ         $0, 0(SP)
col:
	MOVQ         0(SP), R9
	MOVQ         k+88(FP), DX
	IMULQ        DX, R9
	ADDQ         w+48(FP), R9
	LEAQ         (R9)(DX*1), R10
	LEAQ         (R10)(DX*1), R11
	LEAQ         (R11)(DX*1), R12
	MOVQ         $0, 8(SP)
row:
	MOVQ         8(SP), SI
	MOVQ         ldx+24(FP), DX
	IMULQ        DX, SI
	ADDQ         x+16(FP), SI
	LEAQ         (SI)(DX*1), R8
	MOVQ         8(SP), CX
	IMULQ        32(SP), CX
	ADDQ         xs+32(FP), CX
	MOVQ         0(SP), DI
	IMULQ        R13, DI
	ADDQ         ws+56(FP), DI
	MOVQ         nb+104(FP), R14
	VXORPS       Y14, Y14, Y14
	XORQ         AX, AX
blk:
	MOVQ         16(SP), DX
	ADDQ         AX, DX
	FIRST2A(AX)
	ADDQ         $32, AX
	LEAQ         -32(DX), BX
	CMPQ         AX, BX
	JAE          single
step2:
	STEP2AO(0, AX)
	STEP2AO(32, AX)
	ADDQ         $64, AX
	CMPQ         AX, BX
	JB           step2
single:
	CMPQ         AX, DX
	JAE          tail
	STEP2AO(0, AX)
	ADDQ         $32, AX
tail:
	MOVQ         24(SP), BX
	TESTQ        BX, BX
	JZ           reduce
	LEAQ         -32(AX)(BX*1), BX
	TAIL2A(BX)
	LEAQ         32(BX), AX
reduce:
	HSUM4(Y0, Y1, Y2, Y3, Y10, Y8, Y9)
	HSUM4(Y4, Y5, Y6, Y7, Y11, Y8, Y9)
	VPERM2I128   $0x20, Y11, Y10, Y8
	VPERM2I128   $0x31, Y11, Y10, Y9
	VPADDD       Y9, Y8, Y8
	VCVTDQ2PS    Y8, Y8
	VBROADCASTSS (CX), X15
	MOVQ         32(SP), DX
	VBROADCASTSS (CX)(DX*1), X9
	VINSERTF128  $1, X9, Y15, Y15
	WSVEC
	VINSERTF128  $1, X10, Y10, Y10
	VMULPS       Y10, Y15, Y15
	VMULPS       Y15, Y8, Y8
	VADDPS       Y8, Y14, Y14
	ADDQ         $4, CX
	ADDQ         $4, DI
	DECQ         R14
	JNZ          blk
	MOVQ         bias+64(FP), BX
	TESTQ        BX, BX
	JZ           store
	MOVQ         0(SP), DX
	VBROADCASTF128 (BX)(DX*4), Y9
	VADDPS       Y9, Y14, Y14
store:
	MOVQ         ldd+8(FP), BX
	MOVQ         8(SP), AX
	IMULQ        BX, AX
	ADDQ         0(SP), AX
	MOVQ         dst+0(FP), DX
	LEAQ         (DX)(AX*4), DX
	VMOVUPS      X14, (DX)
	VEXTRACTF128 $1, Y14, (DX)(BX*4)
	MOVQ         8(SP), AX
	ADDQ         $2, AX
	MOVQ         m+72(FP), BX
	CMPQ         AX, BX
	JGE          rowdone
	SUBQ         $2, BX
	CMPQ         AX, BX
	CMOVQGT      BX, AX
	MOVQ         AX, 8(SP)
	JMP          row
rowdone:
	MOVQ         0(SP), AX
	ADDQ         $4, AX
	MOVQ         n+80(FP), BX
	CMPQ         AX, BX
	JGE          done
	SUBQ         $4, BX
	CMPQ         AX, BX
	CMOVQGT      BX, AX
	MOVQ         AX, 0(SP)
	JMP          col
done:
	VZEROUPPER
	RET
