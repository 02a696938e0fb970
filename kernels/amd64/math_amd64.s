// Element-wise float kernels in float64 lanes: LayerNorm and GELU (erf),
// AVX2 + FMA. (QuickGELU and Softmax use the float32 exp of exp32_amd64.s.)
//
// Algorithm. Each float32 element is widened to float64 (VCVTPS2PD, four
// lanes per Y register) and computed there, then rounded once to float32, as
// the generic code does with math.Exp/math.Erf; so the results stay within a
// few float32 ulps of generic (tolerance 2e-6 relative + 1e-7, tested).
//
// EXPPD: exp(x) for four float64 lanes. x is clamped to [-708, 710] (NaN
// kept), n = roundEven(x·log2 e), r = x - n·ln2 (ln2 split hi+lo, FMA),
// e^r by its Taylor polynomial of degree 12 (|r| ≤ 0.347: truncation
// < 2e-16), times 2^n built in the exponent bits ((n+1023) << 52). Relative
// error ≈ 1e-15 for x ≥ -708; below, the result (~3e-308) rounds to the same
// float32 0 as the true value; above 709.78 it is +Inf as it should be.
//
// GELU = x·Φ(x), Φ(x) = erfc(-x/√2)/2 with, for u = |x|/√2,
//	erfc(u) ≈ t·exp(-u² + G(s)),  t = 1/(1 + u/2),  s = 2.4·t - 1.4
// where G is a degree-12 polynomial fitted (Chebyshev least squares, our own
// fit) to log(erfc(u)/t) + u² on u ∈ [0, 10]: relative error of erfc below
// 2e-10 there (checked against math.Erfc in the tests); for u > 10 the term is
// < 1e-44 and only has to stay tiny. x < 0: GELU = x·erfc(u)/2; x ≥ 0:
// x·(1 - erfc(u)/2), so the tail on both sides keeps its relative accuracy.
//
// Register use per routine is small (named in each); n is rounded down to 4
// (the Go wrapper finishes the rest with the generic arithmetic).

#include "textflag.h"
#include "reduce_amd64.h"

DATA cExpLo<>+0(SB)/8, $0xc086200000000000
DATA cExpLo<>+8(SB)/8, $0xc086200000000000
DATA cExpLo<>+16(SB)/8, $0xc086200000000000
DATA cExpLo<>+24(SB)/8, $0xc086200000000000
GLOBL cExpLo<>(SB), RODATA|NOPTR, $32 // -708.0
DATA cExpHi<>+0(SB)/8, $0x4086300000000000
DATA cExpHi<>+8(SB)/8, $0x4086300000000000
DATA cExpHi<>+16(SB)/8, $0x4086300000000000
DATA cExpHi<>+24(SB)/8, $0x4086300000000000
GLOBL cExpHi<>(SB), RODATA|NOPTR, $32 // 710.0
DATA cLog2e<>+0(SB)/8, $0x3ff71547652b82fe
DATA cLog2e<>+8(SB)/8, $0x3ff71547652b82fe
DATA cLog2e<>+16(SB)/8, $0x3ff71547652b82fe
DATA cLog2e<>+24(SB)/8, $0x3ff71547652b82fe
GLOBL cLog2e<>(SB), RODATA|NOPTR, $32 // 1.4426950408889634
DATA cLn2Hi<>+0(SB)/8, $0x3fe62e42fee00000
DATA cLn2Hi<>+8(SB)/8, $0x3fe62e42fee00000
DATA cLn2Hi<>+16(SB)/8, $0x3fe62e42fee00000
DATA cLn2Hi<>+24(SB)/8, $0x3fe62e42fee00000
GLOBL cLn2Hi<>(SB), RODATA|NOPTR, $32 // 0.6931471803691238
DATA cLn2Lo<>+0(SB)/8, $0x3dea39ef35793c76
DATA cLn2Lo<>+8(SB)/8, $0x3dea39ef35793c76
DATA cLn2Lo<>+16(SB)/8, $0x3dea39ef35793c76
DATA cLn2Lo<>+24(SB)/8, $0x3dea39ef35793c76
GLOBL cLn2Lo<>(SB), RODATA|NOPTR, $32 // 1.9082149292705877e-10
DATA cE0<>+0(SB)/8, $0x3ff0000000000000
DATA cE0<>+8(SB)/8, $0x3ff0000000000000
DATA cE0<>+16(SB)/8, $0x3ff0000000000000
DATA cE0<>+24(SB)/8, $0x3ff0000000000000
GLOBL cE0<>(SB), RODATA|NOPTR, $32 // 1.0
DATA cE1<>+0(SB)/8, $0x3ff0000000000000
DATA cE1<>+8(SB)/8, $0x3ff0000000000000
DATA cE1<>+16(SB)/8, $0x3ff0000000000000
DATA cE1<>+24(SB)/8, $0x3ff0000000000000
GLOBL cE1<>(SB), RODATA|NOPTR, $32 // 1.0
DATA cE2<>+0(SB)/8, $0x3fe0000000000000
DATA cE2<>+8(SB)/8, $0x3fe0000000000000
DATA cE2<>+16(SB)/8, $0x3fe0000000000000
DATA cE2<>+24(SB)/8, $0x3fe0000000000000
GLOBL cE2<>(SB), RODATA|NOPTR, $32 // 0.5
DATA cE3<>+0(SB)/8, $0x3fc5555555555555
DATA cE3<>+8(SB)/8, $0x3fc5555555555555
DATA cE3<>+16(SB)/8, $0x3fc5555555555555
DATA cE3<>+24(SB)/8, $0x3fc5555555555555
GLOBL cE3<>(SB), RODATA|NOPTR, $32 // 0.16666666666666666
DATA cE4<>+0(SB)/8, $0x3fa5555555555555
DATA cE4<>+8(SB)/8, $0x3fa5555555555555
DATA cE4<>+16(SB)/8, $0x3fa5555555555555
DATA cE4<>+24(SB)/8, $0x3fa5555555555555
GLOBL cE4<>(SB), RODATA|NOPTR, $32 // 0.041666666666666664
DATA cE5<>+0(SB)/8, $0x3f81111111111111
DATA cE5<>+8(SB)/8, $0x3f81111111111111
DATA cE5<>+16(SB)/8, $0x3f81111111111111
DATA cE5<>+24(SB)/8, $0x3f81111111111111
GLOBL cE5<>(SB), RODATA|NOPTR, $32 // 0.008333333333333333
DATA cE6<>+0(SB)/8, $0x3f56c16c16c16c17
DATA cE6<>+8(SB)/8, $0x3f56c16c16c16c17
DATA cE6<>+16(SB)/8, $0x3f56c16c16c16c17
DATA cE6<>+24(SB)/8, $0x3f56c16c16c16c17
GLOBL cE6<>(SB), RODATA|NOPTR, $32 // 0.001388888888888889
DATA cE7<>+0(SB)/8, $0x3f2a01a01a01a01a
DATA cE7<>+8(SB)/8, $0x3f2a01a01a01a01a
DATA cE7<>+16(SB)/8, $0x3f2a01a01a01a01a
DATA cE7<>+24(SB)/8, $0x3f2a01a01a01a01a
GLOBL cE7<>(SB), RODATA|NOPTR, $32 // 0.0001984126984126984
DATA cE8<>+0(SB)/8, $0x3efa01a01a01a01a
DATA cE8<>+8(SB)/8, $0x3efa01a01a01a01a
DATA cE8<>+16(SB)/8, $0x3efa01a01a01a01a
DATA cE8<>+24(SB)/8, $0x3efa01a01a01a01a
GLOBL cE8<>(SB), RODATA|NOPTR, $32 // 2.48015873015873e-05
DATA cE9<>+0(SB)/8, $0x3ec71de3a556c734
DATA cE9<>+8(SB)/8, $0x3ec71de3a556c734
DATA cE9<>+16(SB)/8, $0x3ec71de3a556c734
DATA cE9<>+24(SB)/8, $0x3ec71de3a556c734
GLOBL cE9<>(SB), RODATA|NOPTR, $32 // 2.7557319223985893e-06
DATA cE10<>+0(SB)/8, $0x3e927e4fb7789f5c
DATA cE10<>+8(SB)/8, $0x3e927e4fb7789f5c
DATA cE10<>+16(SB)/8, $0x3e927e4fb7789f5c
DATA cE10<>+24(SB)/8, $0x3e927e4fb7789f5c
GLOBL cE10<>(SB), RODATA|NOPTR, $32 // 2.755731922398589e-07
DATA cE11<>+0(SB)/8, $0x3e5ae64567f544e4
DATA cE11<>+8(SB)/8, $0x3e5ae64567f544e4
DATA cE11<>+16(SB)/8, $0x3e5ae64567f544e4
DATA cE11<>+24(SB)/8, $0x3e5ae64567f544e4
GLOBL cE11<>(SB), RODATA|NOPTR, $32 // 2.505210838544172e-08
DATA cE12<>+0(SB)/8, $0x3e21eed8eff8d898
DATA cE12<>+8(SB)/8, $0x3e21eed8eff8d898
DATA cE12<>+16(SB)/8, $0x3e21eed8eff8d898
DATA cE12<>+24(SB)/8, $0x3e21eed8eff8d898
GLOBL cE12<>(SB), RODATA|NOPTR, $32 // 2.08767569878681e-09
DATA cOne<>+0(SB)/8, $0x3ff0000000000000
DATA cOne<>+8(SB)/8, $0x3ff0000000000000
DATA cOne<>+16(SB)/8, $0x3ff0000000000000
DATA cOne<>+24(SB)/8, $0x3ff0000000000000
GLOBL cOne<>(SB), RODATA|NOPTR, $32 // 1.0
DATA cHalf<>+0(SB)/8, $0x3fe0000000000000
DATA cHalf<>+8(SB)/8, $0x3fe0000000000000
DATA cHalf<>+16(SB)/8, $0x3fe0000000000000
DATA cHalf<>+24(SB)/8, $0x3fe0000000000000
GLOBL cHalf<>(SB), RODATA|NOPTR, $32 // 0.5
DATA cRSqrt2<>+0(SB)/8, $0x3fe6a09e667f3bcc
DATA cRSqrt2<>+8(SB)/8, $0x3fe6a09e667f3bcc
DATA cRSqrt2<>+16(SB)/8, $0x3fe6a09e667f3bcc
DATA cRSqrt2<>+24(SB)/8, $0x3fe6a09e667f3bcc
GLOBL cRSqrt2<>(SB), RODATA|NOPTR, $32 // 0.7071067811865475
DATA cSInv<>+0(SB)/8, $0x4003333333333333
DATA cSInv<>+8(SB)/8, $0x4003333333333333
DATA cSInv<>+16(SB)/8, $0x4003333333333333
DATA cSInv<>+24(SB)/8, $0x4003333333333333
GLOBL cSInv<>(SB), RODATA|NOPTR, $32 // 2.4
DATA cSOff<>+0(SB)/8, $0xbff6666666666667
DATA cSOff<>+8(SB)/8, $0xbff6666666666667
DATA cSOff<>+16(SB)/8, $0xbff6666666666667
DATA cSOff<>+24(SB)/8, $0xbff6666666666667
GLOBL cSOff<>(SB), RODATA|NOPTR, $32 // -1.4000000000000001
DATA cG0<>+0(SB)/8, $0xbfe1e0035ba80e2a
DATA cG0<>+8(SB)/8, $0xbfe1e0035ba80e2a
DATA cG0<>+16(SB)/8, $0xbfe1e0035ba80e2a
DATA cG0<>+24(SB)/8, $0xbfe1e0035ba80e2a
GLOBL cG0<>(SB), RODATA|NOPTR, $32 // -0.5585953512349466
DATA cG1<>+0(SB)/8, $0x3fe23ff4c9b40092
DATA cG1<>+8(SB)/8, $0x3fe23ff4c9b40092
DATA cG1<>+16(SB)/8, $0x3fe23ff4c9b40092
DATA cG1<>+24(SB)/8, $0x3fe23ff4c9b40092
GLOBL cG1<>(SB), RODATA|NOPTR, $32 // 0.5703071536554651
DATA cG2<>+0(SB)/8, $0x3f901f6dfd2905fe
DATA cG2<>+8(SB)/8, $0x3f901f6dfd2905fe
DATA cG2<>+16(SB)/8, $0x3f901f6dfd2905fe
DATA cG2<>+24(SB)/8, $0x3f901f6dfd2905fe
GLOBL cG2<>(SB), RODATA|NOPTR, $32 // 0.01574489457767036
DATA cG3<>+0(SB)/8, $0xbf9e2dbcd9260191
DATA cG3<>+8(SB)/8, $0xbf9e2dbcd9260191
DATA cG3<>+16(SB)/8, $0xbf9e2dbcd9260191
DATA cG3<>+24(SB)/8, $0xbf9e2dbcd9260191
GLOBL cG3<>(SB), RODATA|NOPTR, $32 // -0.029471350434961577
DATA cG4<>+0(SB)/8, $0xbf51189435d106f8
DATA cG4<>+8(SB)/8, $0xbf51189435d106f8
DATA cG4<>+16(SB)/8, $0xbf51189435d106f8
DATA cG4<>+24(SB)/8, $0xbf51189435d106f8
GLOBL cG4<>(SB), RODATA|NOPTR, $32 // -0.0010434577336728128
DATA cG5<>+0(SB)/8, $0x3f6e6b0bb6f562ce
DATA cG5<>+8(SB)/8, $0x3f6e6b0bb6f562ce
DATA cG5<>+16(SB)/8, $0x3f6e6b0bb6f562ce
DATA cG5<>+24(SB)/8, $0x3f6e6b0bb6f562ce
GLOBL cG5<>(SB), RODATA|NOPTR, $32 // 0.00371315277122295
DATA cG6<>+0(SB)/8, $0xbf32abc2f60c1c70
DATA cG6<>+8(SB)/8, $0xbf32abc2f60c1c70
DATA cG6<>+16(SB)/8, $0xbf32abc2f60c1c70
DATA cG6<>+24(SB)/8, $0xbf32abc2f60c1c70
GLOBL cG6<>(SB), RODATA|NOPTR, $32 // -0.0002848959903051845
DATA cG7<>+0(SB)/8, $0xbf41ef09c3bc4e36
DATA cG7<>+8(SB)/8, $0xbf41ef09c3bc4e36
DATA cG7<>+16(SB)/8, $0xbf41ef09c3bc4e36
DATA cG7<>+24(SB)/8, $0xbf41ef09c3bc4e36
GLOBL cG7<>(SB), RODATA|NOPTR, $32 // -0.0005472943953201473
DATA cG8<>+0(SB)/8, $0x3f2347d899a99fd1
DATA cG8<>+8(SB)/8, $0x3f2347d899a99fd1
DATA cG8<>+16(SB)/8, $0x3f2347d899a99fd1
DATA cG8<>+24(SB)/8, $0x3f2347d899a99fd1
GLOBL cG8<>(SB), RODATA|NOPTR, $32 // 0.00014709967657044893
DATA cG9<>+0(SB)/8, $0x3f11c843ca527676
DATA cG9<>+8(SB)/8, $0x3f11c843ca527676
DATA cG9<>+16(SB)/8, $0x3f11c843ca527676
DATA cG9<>+24(SB)/8, $0x3f11c843ca527676
GLOBL cG9<>(SB), RODATA|NOPTR, $32 // 6.78340316703998e-05
DATA cG10<>+0(SB)/8, $0xbf04037167dc3c6c
DATA cG10<>+8(SB)/8, $0xbf04037167dc3c6c
DATA cG10<>+16(SB)/8, $0xbf04037167dc3c6c
DATA cG10<>+24(SB)/8, $0xbf04037167dc3c6c
GLOBL cG10<>(SB), RODATA|NOPTR, $32 // -3.817262493843111e-05
DATA cG11<>+0(SB)/8, $0xbed3c9a27b084055
DATA cG11<>+8(SB)/8, $0xbed3c9a27b084055
DATA cG11<>+16(SB)/8, $0xbed3c9a27b084055
DATA cG11<>+24(SB)/8, $0xbed3c9a27b084055
GLOBL cG11<>(SB), RODATA|NOPTR, $32 // -4.7177399413873165e-06
DATA cG12<>+0(SB)/8, $0x3ed56a1db38261ed
DATA cG12<>+8(SB)/8, $0x3ed56a1db38261ed
DATA cG12<>+16(SB)/8, $0x3ed56a1db38261ed
DATA cG12<>+24(SB)/8, $0x3ed56a1db38261ed
GLOBL cG12<>(SB), RODATA|NOPTR, $32 // 5.105618406408137e-06
DATA exp1023<>+0(SB)/8, $0x000003ff000003ff
DATA exp1023<>+8(SB)/8, $0x000003ff000003ff
GLOBL exp1023<>(SB), RODATA|NOPTR, $16

// EXPPD(x, t1, t2): x = exp(x) for four float64 lanes; t1, t2 clobbered.
#define EXPPD(x, xx, t1, t1x, t2) \
	VBROADCASTSD cExpLo<>(SB), t1; \
	VMAXPD       x, t1, x; \
	VBROADCASTSD cExpHi<>(SB), t1; \
	VMINPD       x, t1, x; \
	VMULPD       cLog2e<>(SB), x, t1; \
	VROUNDPD     $8, t1, t1; \
	VFNMADD231PD cLn2Hi<>(SB), t1, x; \
	VFNMADD231PD cLn2Lo<>(SB), t1, x; \
	VMOVUPD      cE12<>(SB), t2; \
	VFMADD213PD  cE11<>(SB), x, t2; \
	VFMADD213PD  cE10<>(SB), x, t2; \
	VFMADD213PD  cE9<>(SB), x, t2; \
	VFMADD213PD  cE8<>(SB), x, t2; \
	VFMADD213PD  cE7<>(SB), x, t2; \
	VFMADD213PD  cE6<>(SB), x, t2; \
	VFMADD213PD  cE5<>(SB), x, t2; \
	VFMADD213PD  cE4<>(SB), x, t2; \
	VFMADD213PD  cE3<>(SB), x, t2; \
	VFMADD213PD  cE2<>(SB), x, t2; \
	VFMADD213PD  cE1<>(SB), x, t2; \
	VFMADD213PD  cE0<>(SB), x, t2; \
	VCVTPD2DQY   t1, t1x; \
	VPADDD       exp1023<>(SB), t1x, t1x; \
	VPMOVZXDQ    t1x, x; \
	VPSLLQ       $52, x, x; \
	VMULPD       t2, x, x



// GPOLY(s, p): p = G(s), Horner with FMA.
#define GPOLY(s, p) \
	VMOVUPD      cG12<>(SB), p; \
	VFMADD213PD  cG11<>(SB), s, p; \
	VFMADD213PD  cG10<>(SB), s, p; \
	VFMADD213PD  cG9<>(SB), s, p; \
	VFMADD213PD  cG8<>(SB), s, p; \
	VFMADD213PD  cG7<>(SB), s, p; \
	VFMADD213PD  cG6<>(SB), s, p; \
	VFMADD213PD  cG5<>(SB), s, p; \
	VFMADD213PD  cG4<>(SB), s, p; \
	VFMADD213PD  cG3<>(SB), s, p; \
	VFMADD213PD  cG2<>(SB), s, p; \
	VFMADD213PD  cG1<>(SB), s, p; \
	VFMADD213PD  cG0<>(SB), s, p

// func gelu(x *float32, n int)
// Y0 f, Y1 u, Y2 t, Y3 s, Y4 G/exponent, Y5-Y6 temporaries, Y7 result.
TEXT ·gelu(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	ANDQ $-4, CX
	XORQ AX, AX

geloop:
	CMPQ         AX, CX
	JAE          gedone
	VCVTPS2PD    (SI)(AX*4), Y0
	VMULPD       cRSqrt2<>(SB), Y0, Y1
	VPCMPEQQ     Y5, Y5, Y5
	VPSRLQ       $1, Y5, Y5
	VANDPD       Y5, Y1, Y1                    // u = |f|/√2
	VMOVUPD      cHalf<>(SB), Y2
	VFMADD213PD  cOne<>(SB), Y1, Y2            // 1 + u/2
	VMOVUPD      cOne<>(SB), Y5
	VDIVPD       Y2, Y5, Y2                    // t
	VMOVUPD      cSInv<>(SB), Y3
	VFMADD213PD  cSOff<>(SB), Y2, Y3           // s = 2.4t - 1.4
	GPOLY(Y3, Y4)
	VFNMADD231PD Y1, Y1, Y4                    // G - u²
	EXPPD(Y4, X4, Y5, X5, Y6)
	VMULPD       Y2, Y4, Y4                    // erfc(u)
	VMULPD       cHalf<>(SB), Y4, Y4           // erfc/2
	VMOVUPD      cOne<>(SB), Y5
	VSUBPD       Y4, Y5, Y5                    // 1 - erfc/2
	VBLENDVPD    Y0, Y4, Y5, Y7                // f < 0 ? erfc/2 : 1 - erfc/2
	VMULPD       Y7, Y0, Y0
	VCVTPD2PSY   Y0, X0
	VMOVUPS      X0, (SI)(AX*4)
	ADDQ         $4, AX
	JMP          geloop

gedone:
	VZEROUPPER
	RET

// func lnSum(x *float32, n int) float64
// Σ float64(x[i]) in four float64 lanes.
TEXT ·lnSum(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	ANDQ   $-4, CX
	VXORPD Y0, Y0, Y0
	XORQ   AX, AX

lsloop:
	CMPQ      AX, CX
	JAE       lsdone
	VCVTPS2PD (SI)(AX*4), Y1
	VADDPD    Y1, Y0, Y0
	ADDQ      $4, AX
	JMP       lsloop

lsdone:
	HSUMPD(Y0, X0, X1)
	VMOVSD       X0, ret+16(FP)
	VZEROUPPER
	RET

// func lnSumSq(x *float32, n int, mean float64) float64
// Σ (float64(x[i]) - mean)² in four float64 lanes.
TEXT ·lnSumSq(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	ANDQ         $-4, CX
	VBROADCASTSD mean+16(FP), Y2
	VXORPD       Y0, Y0, Y0
	XORQ         AX, AX

lqloop:
	CMPQ        AX, CX
	JAE         lqdone
	VCVTPS2PD   (SI)(AX*4), Y1
	VSUBPD      Y2, Y1, Y1
	VFMADD231PD Y1, Y1, Y0
	ADDQ        $4, AX
	JMP         lqloop

lqdone:
	HSUMPD(Y0, X0, X1)
	VMOVSD       X0, ret+24(FP)
	VZEROUPPER
	RET

// func lnApply(dst, x, gamma, beta *float32, n int, mean, inv float64)
// dst[i] = float32((float64(x[i])-mean)·inv)·gamma[i] + beta[i], the float32
// multiply and add unfused as in generic. dst may alias x.
TEXT ·lnApply(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gamma+16(FP), R8
	MOVQ         beta+24(FP), R9
	MOVQ         n+32(FP), CX
	ANDQ         $-4, CX
	VBROADCASTSD mean+40(FP), Y2
	VBROADCASTSD inv+48(FP), Y3
	XORQ         AX, AX

laloop:
	CMPQ       AX, CX
	JAE        ladone
	VCVTPS2PD  (SI)(AX*4), Y0
	VSUBPD     Y2, Y0, Y0
	VMULPD     Y3, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMULPS     (R8)(AX*4), X0, X0
	VADDPS     (R9)(AX*4), X0, X0
	VMOVUPS    X0, (DI)(AX*4)
	ADDQ       $4, AX
	JMP        laloop

ladone:
	VZEROUPPER
	RET
