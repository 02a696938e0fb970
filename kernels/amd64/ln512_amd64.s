// LayerNorm's three passes on AVX-512F for the avx512vnni tier: the same
// float64 arithmetic as lnSum, lnSumSq and lnApply in math_amd64.s, eight
// float64 lanes per Z register. The sums keep two accumulators (16
// elements per iteration) so the float64 add latency does not bound them;
// the last n mod 8 elements go through opmask K1 (masked loads do not
// fault; masked-off lanes are zeroed where they would enter a sum), so
// every element is done here.
//
// Registers: SI x, AX index, CX end of the 16-element iterations, DX
// elements left; Z0/Z3 accumulators, Z1/Z4 values, Z2 mean (Z3 inv in
// ln512Apply).

#include "textflag.h"
#include "reduce_amd64.h"

// LNTAIL sets K1 to the low DX lanes (DX = 1..7); clobbers BX and CX.
#define LNTAIL \
	MOVQ  DX, CX; \
	MOVL  $1, BX; \
	SHLL  CX, BX; \
	DECL  BX;     \
	KMOVW BX, K1

// LNREDUCE adds Z3 into Z0 and Z0's eight lanes into X0.
#define LNREDUCE \
	VADDPD        Z3, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPD        Y1, Y0, Y0; \
	HSUMPD(Y0, X0, X1)

// func ln512Sum(x *float32, n int) float64
TEXT ·ln512Sum(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), DX
	MOVQ   DX, CX
	ANDQ   $-16, CX
	VXORPD Z0, Z0, Z0
	VXORPD Z3, Z3, Z3
	XORQ   AX, AX

ls16:
	CMPQ      AX, CX
	JAE       ls8
	VCVTPS2PD (SI)(AX*4), Z1
	VCVTPS2PD 32(SI)(AX*4), Z4
	VADDPD    Z1, Z0, Z0
	VADDPD    Z4, Z3, Z3
	ADDQ      $16, AX
	JMP       ls16

ls8:
	SUBQ      AX, DX
	CMPQ      DX, $8
	JB        lstail
	VCVTPS2PD (SI)(AX*4), Z1
	VADDPD    Z1, Z0, Z0
	ADDQ      $8, AX
	SUBQ      $8, DX

lstail:
	TESTQ       DX, DX
	JZ          lsdone
	LNTAIL
	VCVTPS2PD.Z (SI)(AX*4), K1, Z1
	VADDPD      Z1, Z3, Z3

lsdone:
	LNREDUCE
	VMOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func ln512SumSq(x *float32, n int, mean float64) float64
// Σ (float64(x[i]) - mean)²; the tail's masked-off lanes are zeroed after
// the subtraction, so they add 0.
TEXT ·ln512SumSq(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), DX
	MOVQ         DX, CX
	ANDQ         $-16, CX
	VBROADCASTSD mean+16(FP), Z2
	VXORPD       Z0, Z0, Z0
	VXORPD       Z3, Z3, Z3
	XORQ         AX, AX

lq16:
	CMPQ        AX, CX
	JAE         lq8
	VCVTPS2PD   (SI)(AX*4), Z1
	VCVTPS2PD   32(SI)(AX*4), Z4
	VSUBPD      Z2, Z1, Z1
	VSUBPD      Z2, Z4, Z4
	VFMADD231PD Z1, Z1, Z0
	VFMADD231PD Z4, Z4, Z3
	ADDQ        $16, AX
	JMP         lq16

lq8:
	SUBQ        AX, DX
	CMPQ        DX, $8
	JB          lqtail
	VCVTPS2PD   (SI)(AX*4), Z1
	VSUBPD      Z2, Z1, Z1
	VFMADD231PD Z1, Z1, Z0
	ADDQ        $8, AX
	SUBQ        $8, DX

lqtail:
	TESTQ       DX, DX
	JZ          lqdone
	LNTAIL
	VCVTPS2PD   (SI)(AX*4), K1, Z1
	VSUBPD.Z    Z2, Z1, K1, Z1
	VFMADD231PD Z1, Z1, Z3

lqdone:
	LNREDUCE
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func ln512Apply(dst, x, gamma, beta *float32, n int, mean, inv float64)
// dst[i] = float32((float64(x[i])-mean)·inv)·gamma[i] + beta[i], the float32
// multiply and add unfused as in generic, 8 elements per step, the last
// n mod 8 under K1. dst may alias x. DI dst, R8 gamma, R9 beta.
TEXT ·ln512Apply(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gamma+16(FP), R8
	MOVQ         beta+24(FP), R9
	MOVQ         n+32(FP), DX
	MOVQ         DX, R10
	ANDQ         $-8, R10
	VBROADCASTSD mean+40(FP), Z2
	VBROADCASTSD inv+48(FP), Z3
	XORQ         AX, AX

la8:
	CMPQ      AX, R10
	JAE       latail
	VCVTPS2PD (SI)(AX*4), Z0
	VSUBPD    Z2, Z0, Z0
	VMULPD    Z3, Z0, Z0
	VCVTPD2PS Z0, Y0
	VMULPS    (R8)(AX*4), Y0, Y0
	VADDPS    (R9)(AX*4), Y0, Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       la8

latail:
	SUBQ        AX, DX
	JZ          ladone
	LNTAIL
	VCVTPS2PD.Z (SI)(AX*4), K1, Z0
	VSUBPD      Z2, Z0, Z0
	VMULPD      Z3, Z0, Z0
	VCVTPD2PS   Z0, Y0
	VMULPS.Z    (R8)(AX*4), Y0, K1, Y0
	VADDPS.Z    (R9)(AX*4), Y0, K1, Y0
	VMOVUPS     Y0, K1, (DI)(AX*4)

ladone:
	VZEROUPPER
	RET
