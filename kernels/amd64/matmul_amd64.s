// Float matrix product with the second operand transposed (MatMul, and
// MatMulF16 with b in IEEE half precision), AVX2 + FMA (+ F16C).
//
// Algorithm. dst[i][j] = Σ_k a[i][k]·b[j][k] (+ bias[j]), in register tiles
// of 3 rows × 3 columns. Loop order: column tile (outer) → row tile → k in
// steps of 8; the 3 rows of b (converted to float32 for f16) are loaded once
// per step and each a element feeds 3 VFMADD231PS straight from memory.
// When k is not a multiple of 8, a last step reloads elements k-8..k-1 and
// masks (VANDPS) the ones already counted in both operands, so every read
// stays inside the rows. The last row and column tiles move back to m-3 and
// n-3 (same operations, same bits). Each output is reduced from its 8 lanes
// once, at the end. The caller guarantees m ≥ 3, n ≥ 3, k ≥ 8.
//
// Register plan:
//	Y0-Y8   accumulators, Y(3r+c) for row r, column c
//	Y9-Y11  b rows 0..2 for the current step
//	Y12     tail mask (lanes k-8.. already counted are 0)
//	Y13     masked a (tail) / epilogue temporaries Y13-Y15
//	SI, R8, R9   a rows 0..2;  R10-R12 b rows 0..2;  AX k index (elements)
//	stack   0: j  8: i

#include "textflag.h"

// tailMaskF+4r: 8-r zero lanes followed by r all-ones lanes.
DATA tailMaskF<>+0(SB)/8, $0
DATA tailMaskF<>+8(SB)/8, $0
DATA tailMaskF<>+16(SB)/8, $0
DATA tailMaskF<>+24(SB)/8, $0
DATA tailMaskF<>+32(SB)/8, $-1
DATA tailMaskF<>+40(SB)/8, $-1
DATA tailMaskF<>+48(SB)/8, $-1
DATA tailMaskF<>+56(SB)/8, $-1
GLOBL tailMaskF<>(SB), RODATA|NOPTR, $64

#define FMA3ROWS(idx) \
	VFMADD231PS (SI)(idx*4), Y9, Y0;  \
	VFMADD231PS (SI)(idx*4), Y10, Y1; \
	VFMADD231PS (SI)(idx*4), Y11, Y2; \
	VFMADD231PS (R8)(idx*4), Y9, Y3;  \
	VFMADD231PS (R8)(idx*4), Y10, Y4; \
	VFMADD231PS (R8)(idx*4), Y11, Y5; \
	VFMADD231PS (R9)(idx*4), Y9, Y6;  \
	VFMADD231PS (R9)(idx*4), Y10, Y7; \
	VFMADD231PS (R9)(idx*4), Y11, Y8

#define FMA3MASKED(idx) \
	VANDPS      (SI)(idx*4), Y12, Y13; \
	VFMADD231PS Y13, Y9, Y0;  \
	VFMADD231PS Y13, Y10, Y1; \
	VFMADD231PS Y13, Y11, Y2; \
	VANDPS      (R8)(idx*4), Y12, Y13; \
	VFMADD231PS Y13, Y9, Y3;  \
	VFMADD231PS Y13, Y10, Y4; \
	VFMADD231PS Y13, Y11, Y5; \
	VANDPS      (R9)(idx*4), Y12, Y13; \
	VFMADD231PS Y13, Y9, Y6;  \
	VFMADD231PS Y13, Y10, Y7; \
	VFMADD231PS Y13, Y11, Y8

#define LOADB32(idx) \
	VMOVUPS (R10)(idx*4), Y9;  \
	VMOVUPS (R11)(idx*4), Y10; \
	VMOVUPS (R12)(idx*4), Y11

#define LOADB16(idx) \
	VCVTPH2PS (R10)(idx*2), Y9;  \
	VCVTPH2PS (R11)(idx*2), Y10; \
	VCVTPH2PS (R12)(idx*2), Y11

#define MASKB \
	VANDPS Y12, Y9, Y9;   \
	VANDPS Y12, Y10, Y10; \
	VANDPS Y12, Y11, Y11

// HSUM3 reduces a, b, c to X(out) = [Σa Σb Σc Σc]; t1, t2 clobbered.
#define HSUM3(a, b, c, out, t1, t2) \
	VUNPCKLPS    b, a, t1;      \
	VUNPCKHPS    b, a, t2;      \
	VADDPS       t2, t1, t1;    \
	VUNPCKLPS    c, c, t2;      \
	VUNPCKHPS    c, c, out;     \
	VADDPS       out, t2, t2;   \
	VUNPCKLPD    t2, t1, out;   \
	VUNPCKHPD    t2, t1, t1;    \
	VADDPS       t1, out, out

// STORE3 finishes one row: fold the 128-bit halves of Y(v), add the bias
// (X15, prepared by the caller), and store 3 floats at (DX).
#define STORE3(v, xv, xt) \
	VEXTRACTF128 $1, v, xt;  \
	VADDPS       xt, xv, xv; \
	VADDPS       X15, xv, xv; \
	VMOVSD       xv, (DX);   \
	VEXTRACTPS   $2, xv, 8(DX)

// func sgemm3x3(dst *float32, ldd int, a *float32, lda int, b *float32, ldb int, bias *float32, m, n, k int)
TEXT ·sgemm3x3(SB), NOSPLIT, $16-80
	MOVQ    k+72(FP), BX
	ANDQ    $7, BX
	LEAQ    tailMaskF<>(SB), CX
	VMOVUPS (CX)(BX*4), Y12
	MOVQ    $0, 0(SP)

col:
	MOVQ  0(SP), R10
	MOVQ  ldb+40(FP), DX
	IMULQ DX, R10
	SHLQ  $2, R10
	ADDQ  b+32(FP), R10
	SHLQ  $2, DX
	LEAQ  (R10)(DX*1), R11
	LEAQ  (R11)(DX*1), R12
	MOVQ  $0, 8(SP)

row:
	MOVQ   8(SP), SI
	MOVQ   lda+24(FP), DX
	IMULQ  DX, SI
	SHLQ   $2, SI
	ADDQ   a+16(FP), SI
	SHLQ   $2, DX
	LEAQ   (SI)(DX*1), R8
	LEAQ   (R8)(DX*1), R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	XORQ   AX, AX
	MOVQ   k+72(FP), DX
	ANDQ   $-8, DX

step:
	LOADB32(AX)
	FMA3ROWS(AX)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   step
	MOVQ  k+72(FP), BX
	TESTQ $7, BX
	JZ    epilogue
	SUBQ  $8, BX
	LOADB32(BX)
	MASKB
	FMA3MASKED(BX)

epilogue:
	// X15 = bias[j..j+2], or -0 (the identity of +) without bias
	VPCMPEQD X15, X15, X15
	VPSLLD   $31, X15, X15
	MOVQ     bias+48(FP), BX
	TESTQ    BX, BX
	JZ       store
	MOVQ     0(SP), CX
	VMOVSD   (BX)(CX*4), X15
	VINSERTPS $0x20, 8(BX)(CX*4), X15, X15

store:
	MOVQ  8(SP), AX
	MOVQ  ldd+8(FP), CX
	IMULQ CX, AX
	ADDQ  0(SP), AX
	MOVQ  dst+0(FP), DX
	LEAQ  (DX)(AX*4), DX
	SHLQ  $2, CX
	HSUM3(Y0, Y1, Y2, Y9, Y13, Y14)
	STORE3(Y9, X9, X13)
	ADDQ  CX, DX
	HSUM3(Y3, Y4, Y5, Y9, Y13, Y14)
	STORE3(Y9, X9, X13)
	ADDQ  CX, DX
	HSUM3(Y6, Y7, Y8, Y9, Y13, Y14)
	STORE3(Y9, X9, X13)

	// next row tile; the last one moves back to m-3
	MOVQ    8(SP), AX
	ADDQ    $3, AX
	MOVQ    m+56(FP), BX
	CMPQ    AX, BX
	JGE     rowdone
	SUBQ    $3, BX
	CMPQ    AX, BX
	CMOVQGT BX, AX
	MOVQ    AX, 8(SP)
	JMP     row

rowdone:
	MOVQ    0(SP), AX
	ADDQ    $3, AX
	MOVQ    n+64(FP), BX
	CMPQ    AX, BX
	JGE     done
	SUBQ    $3, BX
	CMPQ    AX, BX
	CMOVQGT BX, AX
	MOVQ    AX, 0(SP)
	JMP     col

done:
	VZEROUPPER
	RET

// func sgemm3x3h(dst *float32, ldd int, a *float32, lda int, b *uint16, ldb int, bias *float32, m, n, k int)
TEXT ·sgemm3x3h(SB), NOSPLIT, $16-80
	MOVQ    k+72(FP), BX
	ANDQ    $7, BX
	LEAQ    tailMaskF<>(SB), CX
	VMOVUPS (CX)(BX*4), Y12
	MOVQ    $0, 0(SP)

col:
	MOVQ  0(SP), R10
	MOVQ  ldb+40(FP), DX
	IMULQ DX, R10
	SHLQ  $1, R10
	ADDQ  b+32(FP), R10
	SHLQ  $1, DX
	LEAQ  (R10)(DX*1), R11
	LEAQ  (R11)(DX*1), R12
	MOVQ  $0, 8(SP)

row:
	MOVQ   8(SP), SI
	MOVQ   lda+24(FP), DX
	IMULQ  DX, SI
	SHLQ   $2, SI
	ADDQ   a+16(FP), SI
	SHLQ   $2, DX
	LEAQ   (SI)(DX*1), R8
	LEAQ   (R8)(DX*1), R9
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	XORQ   AX, AX
	MOVQ   k+72(FP), DX
	ANDQ   $-8, DX

step:
	LOADB16(AX)
	FMA3ROWS(AX)
	ADDQ $8, AX
	CMPQ AX, DX
	JB   step
	MOVQ  k+72(FP), BX
	TESTQ $7, BX
	JZ    epilogue
	SUBQ  $8, BX
	LOADB16(BX)
	MASKB
	FMA3MASKED(BX)

epilogue:
	// X15 = bias[j..j+2], or -0 (the identity of +) without bias
	VPCMPEQD X15, X15, X15
	VPSLLD   $31, X15, X15
	MOVQ     bias+48(FP), BX
	TESTQ    BX, BX
	JZ       store
	MOVQ     0(SP), CX
	VMOVSD   (BX)(CX*4), X15
	VINSERTPS $0x20, 8(BX)(CX*4), X15, X15

store:
	MOVQ  8(SP), AX
	MOVQ  ldd+8(FP), CX
	IMULQ CX, AX
	ADDQ  0(SP), AX
	MOVQ  dst+0(FP), DX
	LEAQ  (DX)(AX*4), DX
	SHLQ  $2, CX
	HSUM3(Y0, Y1, Y2, Y9, Y13, Y14)
	STORE3(Y9, X9, X13)
	ADDQ  CX, DX
	HSUM3(Y3, Y4, Y5, Y9, Y13, Y14)
	STORE3(Y9, X9, X13)
	ADDQ  CX, DX
	HSUM3(Y6, Y7, Y8, Y9, Y13, Y14)
	STORE3(Y9, X9, X13)

	// next row tile; the last one moves back to m-3
	MOVQ    8(SP), AX
	ADDQ    $3, AX
	MOVQ    m+56(FP), BX
	CMPQ    AX, BX
	JGE     rowdone
	SUBQ    $3, BX
	CMPQ    AX, BX
	CMOVQGT BX, AX
	MOVQ    AX, 8(SP)
	JMP     row

rowdone:
	MOVQ    0(SP), AX
	ADDQ    $3, AX
	MOVQ    n+64(FP), BX
	CMPQ    AX, BX
	JGE     done
	SUBQ    $3, BX
	CMPQ    AX, BX
	CMOVQGT BX, AX
	MOVQ    AX, 0(SP)
	JMP     col

done:
	VZEROUPPER
	RET
