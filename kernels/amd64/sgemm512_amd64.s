// Float matrix product with the second operand transposed (MatMul) on
// AVX-512F, for the avx512vnni tier. Written by hand (one routine).
//
// Algorithm. dst[i][j] = Σ_k a[i][k]·b[j][k] (+ bias[j]) in register tiles
// of 4 rows × 4 columns: per 16-value step of k, 4 a rows and 4 b rows are
// loaded and 16 VFMADD231PS update the 16 accumulators. The k mod 16 values
// left are loaded under opmask K1 with zeroing, so the masked-off lanes
// add 0·0 and no read leaves a row. The epilogue reduces the 16
// accumulators of 16 lanes into one register, row r in 128-bit lane r,
// columns in its 4 floats:
//	per row: unpack/add pairs of columns, then of column pairs
//	         (VUNPCKL/HPS, VUNPCKL/HPD, VADDPS): each 128-bit lane holds
//	         that lane's partial sums of the 4 columns
//	rows:    VSHUFF32X4 0x88/0xdd and VADDPS twice: lane r = row r's total
// (every output goes through the same tree, so a tile that moves back
// recomputes the same bits), adds bias[j..j+3] broadcast to every lane,
// and stores one 128-bit lane per row. The last row and column tiles move
// back to m-4 and n-4. Compared with the 3×3 AVX2 tiles this halves the
// multiply-adds per output at attention's k = 50..64 and cuts the
// reduction from about 6 instructions per output to 3. The caller
// guarantees m ≥ 4, n ≥ 4, k ≥ 1.
//
// Register plan:
//	Z0-Z15  accumulators, Z(4r+c) for row r, column c; after the per-row
//	        reduction row r's partial sums in Z(4r)
//	Z16-Z19 b rows 0..3 for the current step;  Z20-Z23 a rows 0..3
//	Z24     the 16 results;  Z25 bias;  Z26-Z29 reduction temporaries
//	K1      tail mask (the low k mod 16 lanes)
//	SI, R8, R9, R13   a rows 0..3;  R10, R11, R12, DI   b rows 0..3
//	AX k index (elements), DX end of the whole steps
//	stack   0: j  8: i

#include "textflag.h"

#define FMA16 \
	VFMADD231PS Z16, Z20, Z0 \
	VFMADD231PS Z17, Z20, Z1 \
	VFMADD231PS Z18, Z20, Z2 \
	VFMADD231PS Z19, Z20, Z3 \
	VFMADD231PS Z16, Z21, Z4 \
	VFMADD231PS Z17, Z21, Z5 \
	VFMADD231PS Z18, Z21, Z6 \
	VFMADD231PS Z19, Z21, Z7 \
	VFMADD231PS Z16, Z22, Z8 \
	VFMADD231PS Z17, Z22, Z9 \
	VFMADD231PS Z18, Z22, Z10 \
	VFMADD231PS Z19, Z22, Z11 \
	VFMADD231PS Z16, Z23, Z12 \
	VFMADD231PS Z17, Z23, Z13 \
	VFMADD231PS Z18, Z23, Z14 \
	VFMADD231PS Z19, Z23, Z15

// LOAD8 loads the step at AX of the 4 b rows and the 4 a rows; LOAD8Z
// the same under K1 with zeroing (the tail).
#define LOAD8 \
	VMOVUPS (R10)(AX*4), Z16; \
	VMOVUPS (R11)(AX*4), Z17; \
	VMOVUPS (R12)(AX*4), Z18; \
	VMOVUPS (DI)(AX*4), Z19; \
	VMOVUPS (SI)(AX*4), Z20; \
	VMOVUPS (R8)(AX*4), Z21; \
	VMOVUPS (R9)(AX*4), Z22; \
	VMOVUPS (R13)(AX*4), Z23

#define LOAD8Z \
	VMOVUPS.Z (R10)(AX*4), K1, Z16; \
	VMOVUPS.Z (R11)(AX*4), K1, Z17; \
	VMOVUPS.Z (R12)(AX*4), K1, Z18; \
	VMOVUPS.Z (DI)(AX*4), K1, Z19; \
	VMOVUPS.Z (SI)(AX*4), K1, Z20; \
	VMOVUPS.Z (R8)(AX*4), K1, Z21; \
	VMOVUPS.Z (R9)(AX*4), K1, Z22; \
	VMOVUPS.Z (R13)(AX*4), K1, Z23

// ROWSUM(a, b, c, d) reduces row accumulators a..d to a: in every 128-bit
// lane, that lane's partial sums of columns a, b, c, d.
#define ROWSUM(a, b, c, d) \
	VUNPCKLPS b, a, Z26;   \
	VUNPCKHPS b, a, Z27;   \
	VADDPS    Z27, Z26, Z26; \
	VUNPCKLPS d, c, Z27;   \
	VUNPCKHPS d, c, Z28;   \
	VADDPS    Z28, Z27, Z27; \
	VUNPCKLPD Z27, Z26, Z28; \
	VUNPCKHPD Z27, Z26, Z29; \
	VADDPS    Z29, Z28, a

// func sgemm4x4z(dst *float32, ldd int, a *float32, lda int, b *float32, ldb int, bias *float32, m, n, k int)
TEXT ·sgemm4x4z(SB), NOSPLIT, $16-80
	MOVQ  k+72(FP), CX
	ANDQ  $15, CX
	MOVL  $1, BX
	SHLL  CX, BX
	DECL  BX
	KMOVW BX, K1
	MOVQ  $0, 0(SP)

col:
	MOVQ  0(SP), R10
	MOVQ  ldb+40(FP), DX
	IMULQ DX, R10
	SHLQ  $2, R10
	ADDQ  b+32(FP), R10
	SHLQ  $2, DX
	LEAQ  (R10)(DX*1), R11
	LEAQ  (R11)(DX*1), R12
	LEAQ  (R12)(DX*1), DI
	MOVQ  $0, 8(SP)

row:
	MOVQ  8(SP), SI
	MOVQ  lda+24(FP), DX
	IMULQ DX, SI
	SHLQ  $2, SI
	ADDQ  a+16(FP), SI
	SHLQ  $2, DX
	LEAQ  (SI)(DX*1), R8
	LEAQ  (R8)(DX*1), R9
	LEAQ  (R9)(DX*1), R13
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	XORQ  AX, AX
	MOVQ  k+72(FP), DX
	ANDQ  $-16, DX

step:
	CMPQ AX, DX
	JAE  tail
	LOAD8
	FMA16
	ADDQ $16, AX
	JMP  step

tail:
	MOVQ  k+72(FP), BX
	TESTQ $15, BX
	JZ    reduce
	LOAD8Z
	FMA16

reduce:
	ROWSUM(Z0, Z1, Z2, Z3)
	ROWSUM(Z4, Z5, Z6, Z7)
	ROWSUM(Z8, Z9, Z10, Z11)
	ROWSUM(Z12, Z13, Z14, Z15)
	VSHUFF32X4 $0x88, Z4, Z0, Z26
	VSHUFF32X4 $0xdd, Z4, Z0, Z27
	VADDPS     Z27, Z26, Z26
	VSHUFF32X4 $0x88, Z12, Z8, Z27
	VSHUFF32X4 $0xdd, Z12, Z8, Z28
	VADDPS     Z28, Z27, Z27
	VSHUFF32X4 $0x88, Z27, Z26, Z28
	VSHUFF32X4 $0xdd, Z27, Z26, Z29
	VADDPS     Z29, Z28, Z24
	MOVQ       bias+48(FP), BX
	TESTQ      BX, BX
	JZ         store
	MOVQ       0(SP), CX
	VBROADCASTF32X4 (BX)(CX*4), Z25
	VADDPS     Z25, Z24, Z24

store:
	MOVQ          8(SP), AX
	MOVQ          ldd+8(FP), CX
	IMULQ         CX, AX
	ADDQ          0(SP), AX
	MOVQ          dst+0(FP), DX
	LEAQ          (DX)(AX*4), DX
	SHLQ          $2, CX
	VMOVUPS       X24, (DX)
	ADDQ          CX, DX
	VEXTRACTF32X4 $1, Z24, (DX)
	ADDQ          CX, DX
	VEXTRACTF32X4 $2, Z24, (DX)
	ADDQ          CX, DX
	VEXTRACTF32X4 $3, Z24, (DX)

	// next row tile; the last one moves back to m-4
	MOVQ    8(SP), AX
	ADDQ    $4, AX
	MOVQ    m+56(FP), BX
	CMPQ    AX, BX
	JGE     rowdone
	SUBQ    $4, BX
	CMPQ    AX, BX
	CMOVQGT BX, AX
	MOVQ    AX, 8(SP)
	JMP     row

rowdone:
	MOVQ    0(SP), AX
	ADDQ    $4, AX
	MOVQ    n+64(FP), BX
	CMPQ    AX, BX
	JGE     done
	SUBQ    $4, BX
	CMPQ    AX, BX
	CMOVQGT BX, AX
	MOVQ    AX, 0(SP)
	JMP     col

done:
	VZEROUPPER
	RET
