// Vector helpers: Dot, Add, Scale, F16ToF32 and the two halves of Quantize.
// Each routine handles n rounded down to its step (noted per routine); the
// Go wrapper finishes the last elements with the generic arithmetic.

#include "textflag.h"

DATA absMask<>+0(SB)/4, $0x7fffffff
GLOBL absMask<>(SB), RODATA|NOPTR, $4

DATA f127<>+0(SB)/4, $127.0
GLOBL f127<>(SB), RODATA|NOPTR, $4

DATA fm127<>+0(SB)/4, $-127.0
GLOBL fm127<>(SB), RODATA|NOPTR, $4

// func dotF32(a, b *float32, n int) float32
// n rounded down to 8. Four accumulators (Y0-Y3) over 32 elements, then one
// over 8; VFMADD231PS; horizontal sum at the end.
TEXT ·dotF32(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JZ     dot8

dot32:
	VMOVUPS     (SI)(AX*4), Y4
	VMOVUPS     32(SI)(AX*4), Y5
	VMOVUPS     64(SI)(AX*4), Y6
	VMOVUPS     96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ        $32, AX
	CMPQ        AX, DX
	JB          dot32

dot8:
	MOVQ CX, DX
	ANDQ $-8, DX

dot8loop:
	CMPQ        AX, DX
	JAE         dotsum
	VMOVUPS     (SI)(AX*4), Y4
	VFMADD231PS (DI)(AX*4), Y4, Y0
	ADDQ        $8, AX
	JMP         dot8loop

dotsum:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, ret+24(FP)
	VZEROUPPER
	RET

// func addF32(dst, x *float32, n int)
// dst[i] += x[i], n rounded down to 8.
TEXT ·addF32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	ANDQ $-8, CX
	XORQ AX, AX

addloop:
	CMPQ    AX, CX
	JAE     adddone
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     addloop

adddone:
	VZEROUPPER
	RET

// func scaleF32(x *float32, n int, s float32)
// x[i] *= s, n rounded down to 8.
TEXT ·scaleF32(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS s+16(FP), Y1
	ANDQ         $-8, CX
	XORQ         AX, AX

scaleloop:
	CMPQ    AX, CX
	JAE     scaledone
	VMULPS  (DI)(AX*4), Y1, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     scaleloop

scaledone:
	VZEROUPPER
	RET

// func f16ToF32(dst *float32, src *uint16, n int)
// VCVTPH2PS, exact for every half value; n rounded down to 8.
TEXT ·f16ToF32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	ANDQ $-8, CX
	XORQ AX, AX

f16loop:
	CMPQ      AX, CX
	JAE       f16done
	VCVTPH2PS (SI)(AX*2), Y0
	VMOVUPS   Y0, (DI)(AX*4)
	ADDQ      $8, AX
	JMP       f16loop

f16done:
	VZEROUPPER
	RET

// func absMaxBits(x *float32, n int) uint32
// max over i of bits(|x[i]|) as unsigned integers (VPMAXUD), n rounded down
// to 8. For non-negative floats the integer order is the float order, and a
// NaN (bits > 0x7f800000) compares above +Inf, so the caller sees it.
TEXT ·absMaxBits(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	ANDQ         $-8, CX
	VPBROADCASTD absMask<>(SB), Y2
	VPXOR        Y0, Y0, Y0
	XORQ         AX, AX

amaxloop:
	CMPQ     AX, CX
	JAE      amaxdone
	VPAND    (SI)(AX*4), Y2, Y1
	VPMAXUD  Y1, Y0, Y0
	ADDQ     $8, AX
	JMP      amaxloop

amaxdone:
	VEXTRACTI128 $1, Y0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPMAXUD      X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPMAXUD      X1, X0, X0
	VMOVD        X0, AX
	MOVL         AX, ret+16(FP)
	VZEROUPPER
	RET

// func quantize8(dst *int8, x *float32, n int, inv float32)
// dst[i] = int8(clamp(roundToEven(x[i]·inv), -127, 127)), n rounded down to 8:
// VMULPS, VROUNDPS (nearest even), VMAXPS/VMINPS, VCVTPS2DQ (exact on
// integers), VPACKSSDW, VPACKSSWB, 8-byte store. The caller guarantees
// finite inv and x, so no NaN reaches the clamp.
TEXT ·quantize8(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS inv+24(FP), Y1
	VBROADCASTSS f127<>(SB), Y2
	VBROADCASTSS fm127<>(SB), Y3
	ANDQ         $-8, CX
	XORQ         AX, AX

qloop:
	CMPQ         AX, CX
	JAE          qdone
	VMULPS       (SI)(AX*4), Y1, Y0
	VROUNDPS     $8, Y0, Y0
	VMAXPS       Y3, Y0, Y0
	VMINPS       Y2, Y0, Y0
	VCVTPS2DQ    Y0, Y0
	VEXTRACTI128 $1, Y0, X4
	VPACKSSDW    X4, X0, X0
	VPACKSSWB    X0, X0, X0
	VMOVQ        X0, (DI)(AX*1)
	ADDQ         $8, AX
	JMP          qloop

qdone:
	VZEROUPPER
	RET

// HMAXPS(x, t) leaves the maximum of the four lanes of X register x in
// every lane; t is an X temporary.
#define HMAXPS(x, t) \
	VPERMILPS $0x4e, x, t; \
	VMAXPS    t, x, x;     \
	VPERMILPS $0xb1, x, t; \
	VMAXPS    t, x, x

// func maxF32(x *float32, n int) float32
// The largest of x[0..n) for n rounded down to 8 (n ≥ 8): VMAXPS over Y0,
// then a tree. A NaN may or may not survive (VMAXPS returns its second
// source when either is NaN); Softmax's result does not depend on it, since
// exp(NaN - max) is NaN in the sum either way.
TEXT ·maxF32(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	ANDQ    $-8, CX
	VMOVUPS (SI), Y0
	MOVQ    $8, AX

max8:
	CMPQ   AX, CX
	JAE    max8done
	VMAXPS (SI)(AX*4), Y0, Y0
	ADDQ   $8, AX
	JMP    max8

max8done:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	HMAXPS(X0, X1)
	VMOVSS       X0, ret+16(FP)
	VZEROUPPER
	RET

// func maxF32x16(x *float32, n int) float32
// maxF32 on all n ≥ 1 elements with Z registers (AVX-512F): Z0 starts as
// x[0] in every lane; the last n mod 16 elements are merged under opmask
// K1 (masked-off lanes keep Z0, and masked loads do not fault).
TEXT ·maxF32x16(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), DX
	MOVQ         DX, DI
	ANDQ         $-16, DI
	VBROADCASTSS (SI), Z0
	XORQ         AX, AX

max16:
	CMPQ   AX, DI
	JAE    max16tail
	VMAXPS (SI)(AX*4), Z0, Z0
	ADDQ   $16, AX
	JMP    max16

max16tail:
	SUBQ   AX, DX
	JZ     max16done
	MOVQ   DX, CX
	MOVL   $1, BX
	SHLL   CX, BX
	DECL   BX
	KMOVW  BX, K1
	VMAXPS (SI)(AX*4), Z0, K1, Z0

max16done:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	HMAXPS(X0, X1)
	VMOVSS        X0, ret+16(FP)
	VZEROUPPER
	RET
