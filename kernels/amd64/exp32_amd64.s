// Float32 exponentials for the hot element-wise kernels: QuickGELU and the
// softmax of attention, AVX2 + FMA, eight float32 lanes per Y register
// (twice the lanes of the float64 code in math_amd64.s). The constants are
// 64 bytes wide, so the macros run unchanged on Z registers (exp512_amd64.s,
// the avx512vnni tier: same operations per lane, so the same bits).
//
// exp(x), in two macros so QuickGELU can add the low part of its argument
// between them:
// EXPRED(x, n, ROUND):
//	x  = clamp(x, -104, 89)          VMAXPS/VMINPS, NaN kept (x is the
//	                                 second source, which MAXPS returns)
//	n  = roundEven(x·log2 e)         ROUND $8 (VROUNDPS, or VRNDSCALEPS
//	                                 on ZMM); n ∈ [-150, 128]
//	x  = r = x - n·ln2               ln2 split hi + lo (Cody–Waite), FMA;
//	                                 |r| ≤ 0.347
// EXPFIN(x, n, t1, t2):
//	p  = Σ_{k=0..7} r^k/k!           Horner with FMA, truncation < 6e-9
//	x  = p · 2^n1 · 2^n2             n1 = n>>1, n2 = n - n1: both factors are
//	                                 normal floats, p·2^n1 is exact and the
//	                                 last product rounds once, so results in
//	                                 the subnormal range round correctly,
//	                                 below -103.97 to 0 (exp(-Inf) = 0) and
//	                                 above 88.72 to +Inf, like float32(math.Exp).
// p is within about one float32 ulp of e^r.
//
// QuickGELU's argument z = -1.702·xc is carried as zhi + zlo (zhi = xc·chi
// rounded, zlo = fma(xc, chi, -zhi) + xc·clo with chi + clo = -1.702), since
// rounding z alone would cost up to |z|/2 ulps of exp(z). xc is x clamped
// to [-52.29, 61.1], which keeps z inside EXPRED's clamp (so zlo stays
// tiny) without changing any result: beyond it x/(1 + e^z) is x or a
// number below 2e-37 in magnitude. Measured against the float64 generic code
// (avx2_amd64_test.go): QuickGELU and Softmax within 2 ulp on a dense grid
// and on random rows, far inside the stated 2e-6 relative tolerance.

#include "textflag.h"
#include "reduce_amd64.h"

DATA fExpLo<>+0(SB)/8, $0xc2d00000c2d00000
DATA fExpLo<>+8(SB)/8, $0xc2d00000c2d00000
DATA fExpLo<>+16(SB)/8, $0xc2d00000c2d00000
DATA fExpLo<>+24(SB)/8, $0xc2d00000c2d00000
DATA fExpLo<>+32(SB)/8, $0xc2d00000c2d00000
DATA fExpLo<>+40(SB)/8, $0xc2d00000c2d00000
DATA fExpLo<>+48(SB)/8, $0xc2d00000c2d00000
DATA fExpLo<>+56(SB)/8, $0xc2d00000c2d00000
GLOBL fExpLo<>(SB), RODATA|NOPTR, $64 // -104: exp rounds to 0 below = -104.0
DATA fExpHi<>+0(SB)/8, $0x42b2000042b20000
DATA fExpHi<>+8(SB)/8, $0x42b2000042b20000
DATA fExpHi<>+16(SB)/8, $0x42b2000042b20000
DATA fExpHi<>+24(SB)/8, $0x42b2000042b20000
DATA fExpHi<>+32(SB)/8, $0x42b2000042b20000
DATA fExpHi<>+40(SB)/8, $0x42b2000042b20000
DATA fExpHi<>+48(SB)/8, $0x42b2000042b20000
DATA fExpHi<>+56(SB)/8, $0x42b2000042b20000
GLOBL fExpHi<>(SB), RODATA|NOPTR, $64 // 89: exp overflows to +Inf above 88.72 = 89.0
DATA fLog2e<>+0(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fLog2e<>+8(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fLog2e<>+16(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fLog2e<>+24(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fLog2e<>+32(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fLog2e<>+40(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fLog2e<>+48(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA fLog2e<>+56(SB)/8, $0x3fb8aa3b3fb8aa3b
GLOBL fLog2e<>(SB), RODATA|NOPTR, $64 // log2 e = 1.4426950216293335
DATA fLn2Hi<>+0(SB)/8, $0x3f3180003f318000
DATA fLn2Hi<>+8(SB)/8, $0x3f3180003f318000
DATA fLn2Hi<>+16(SB)/8, $0x3f3180003f318000
DATA fLn2Hi<>+24(SB)/8, $0x3f3180003f318000
DATA fLn2Hi<>+32(SB)/8, $0x3f3180003f318000
DATA fLn2Hi<>+40(SB)/8, $0x3f3180003f318000
DATA fLn2Hi<>+48(SB)/8, $0x3f3180003f318000
DATA fLn2Hi<>+56(SB)/8, $0x3f3180003f318000
GLOBL fLn2Hi<>(SB), RODATA|NOPTR, $64 // ln 2, high part (9 bits, so n·fLn2Hi is exact) = 0.693359375
DATA fLn2Lo<>+0(SB)/8, $0xb95e8083b95e8083
DATA fLn2Lo<>+8(SB)/8, $0xb95e8083b95e8083
DATA fLn2Lo<>+16(SB)/8, $0xb95e8083b95e8083
DATA fLn2Lo<>+24(SB)/8, $0xb95e8083b95e8083
DATA fLn2Lo<>+32(SB)/8, $0xb95e8083b95e8083
DATA fLn2Lo<>+40(SB)/8, $0xb95e8083b95e8083
DATA fLn2Lo<>+48(SB)/8, $0xb95e8083b95e8083
DATA fLn2Lo<>+56(SB)/8, $0xb95e8083b95e8083
GLOBL fLn2Lo<>(SB), RODATA|NOPTR, $64 // ln 2 - fLn2Hi = -0.00021219444170128554
DATA fMQuickHi<>+0(SB)/8, $0xbfd9db23bfd9db23
DATA fMQuickHi<>+8(SB)/8, $0xbfd9db23bfd9db23
DATA fMQuickHi<>+16(SB)/8, $0xbfd9db23bfd9db23
DATA fMQuickHi<>+24(SB)/8, $0xbfd9db23bfd9db23
DATA fMQuickHi<>+32(SB)/8, $0xbfd9db23bfd9db23
DATA fMQuickHi<>+40(SB)/8, $0xbfd9db23bfd9db23
DATA fMQuickHi<>+48(SB)/8, $0xbfd9db23bfd9db23
DATA fMQuickHi<>+56(SB)/8, $0xbfd9db23bfd9db23
GLOBL fMQuickHi<>(SB), RODATA|NOPTR, $64 // float32(-1.702) = -1.7020000219345093
DATA fMQuickLo<>+0(SB)/8, $0x32bc6a7f32bc6a7f
DATA fMQuickLo<>+8(SB)/8, $0x32bc6a7f32bc6a7f
DATA fMQuickLo<>+16(SB)/8, $0x32bc6a7f32bc6a7f
DATA fMQuickLo<>+24(SB)/8, $0x32bc6a7f32bc6a7f
DATA fMQuickLo<>+32(SB)/8, $0x32bc6a7f32bc6a7f
DATA fMQuickLo<>+40(SB)/8, $0x32bc6a7f32bc6a7f
DATA fMQuickLo<>+48(SB)/8, $0x32bc6a7f32bc6a7f
DATA fMQuickLo<>+56(SB)/8, $0x32bc6a7f32bc6a7f
GLOBL fMQuickLo<>(SB), RODATA|NOPTR, $64 // -1.702 - fMQuickHi = 2.1934509319976314e-08
DATA fQLo<>+0(SB)/8, $0xc25128f6c25128f6
DATA fQLo<>+8(SB)/8, $0xc25128f6c25128f6
DATA fQLo<>+16(SB)/8, $0xc25128f6c25128f6
DATA fQLo<>+24(SB)/8, $0xc25128f6c25128f6
DATA fQLo<>+32(SB)/8, $0xc25128f6c25128f6
DATA fQLo<>+40(SB)/8, $0xc25128f6c25128f6
DATA fQLo<>+48(SB)/8, $0xc25128f6c25128f6
DATA fQLo<>+56(SB)/8, $0xc25128f6c25128f6
GLOBL fQLo<>(SB), RODATA|NOPTR, $64 // -52.29: -1.702·x ≤ 89 above = -52.290000915527344
DATA fQHi<>+0(SB)/8, $0x4274666642746666
DATA fQHi<>+8(SB)/8, $0x4274666642746666
DATA fQHi<>+16(SB)/8, $0x4274666642746666
DATA fQHi<>+24(SB)/8, $0x4274666642746666
DATA fQHi<>+32(SB)/8, $0x4274666642746666
DATA fQHi<>+40(SB)/8, $0x4274666642746666
DATA fQHi<>+48(SB)/8, $0x4274666642746666
DATA fQHi<>+56(SB)/8, $0x4274666642746666
GLOBL fQHi<>(SB), RODATA|NOPTR, $64 // 61.1: -1.702·x ≥ -104 below = 61.099998474121094
DATA fOne<>+0(SB)/8, $0x3f8000003f800000
DATA fOne<>+8(SB)/8, $0x3f8000003f800000
DATA fOne<>+16(SB)/8, $0x3f8000003f800000
DATA fOne<>+24(SB)/8, $0x3f8000003f800000
DATA fOne<>+32(SB)/8, $0x3f8000003f800000
DATA fOne<>+40(SB)/8, $0x3f8000003f800000
DATA fOne<>+48(SB)/8, $0x3f8000003f800000
DATA fOne<>+56(SB)/8, $0x3f8000003f800000
GLOBL fOne<>(SB), RODATA|NOPTR, $64 // 1 = 1.0
DATA fE2<>+0(SB)/8, $0x3f0000003f000000
DATA fE2<>+8(SB)/8, $0x3f0000003f000000
DATA fE2<>+16(SB)/8, $0x3f0000003f000000
DATA fE2<>+24(SB)/8, $0x3f0000003f000000
DATA fE2<>+32(SB)/8, $0x3f0000003f000000
DATA fE2<>+40(SB)/8, $0x3f0000003f000000
DATA fE2<>+48(SB)/8, $0x3f0000003f000000
DATA fE2<>+56(SB)/8, $0x3f0000003f000000
GLOBL fE2<>(SB), RODATA|NOPTR, $64 // 1/2! = 0.5
DATA fE3<>+0(SB)/8, $0x3e2aaaab3e2aaaab
DATA fE3<>+8(SB)/8, $0x3e2aaaab3e2aaaab
DATA fE3<>+16(SB)/8, $0x3e2aaaab3e2aaaab
DATA fE3<>+24(SB)/8, $0x3e2aaaab3e2aaaab
DATA fE3<>+32(SB)/8, $0x3e2aaaab3e2aaaab
DATA fE3<>+40(SB)/8, $0x3e2aaaab3e2aaaab
DATA fE3<>+48(SB)/8, $0x3e2aaaab3e2aaaab
DATA fE3<>+56(SB)/8, $0x3e2aaaab3e2aaaab
GLOBL fE3<>(SB), RODATA|NOPTR, $64 // 1/3! = 0.1666666716337204
DATA fE4<>+0(SB)/8, $0x3d2aaaab3d2aaaab
DATA fE4<>+8(SB)/8, $0x3d2aaaab3d2aaaab
DATA fE4<>+16(SB)/8, $0x3d2aaaab3d2aaaab
DATA fE4<>+24(SB)/8, $0x3d2aaaab3d2aaaab
DATA fE4<>+32(SB)/8, $0x3d2aaaab3d2aaaab
DATA fE4<>+40(SB)/8, $0x3d2aaaab3d2aaaab
DATA fE4<>+48(SB)/8, $0x3d2aaaab3d2aaaab
DATA fE4<>+56(SB)/8, $0x3d2aaaab3d2aaaab
GLOBL fE4<>(SB), RODATA|NOPTR, $64 // 1/4! = 0.0416666679084301
DATA fE5<>+0(SB)/8, $0x3c0888893c088889
DATA fE5<>+8(SB)/8, $0x3c0888893c088889
DATA fE5<>+16(SB)/8, $0x3c0888893c088889
DATA fE5<>+24(SB)/8, $0x3c0888893c088889
DATA fE5<>+32(SB)/8, $0x3c0888893c088889
DATA fE5<>+40(SB)/8, $0x3c0888893c088889
DATA fE5<>+48(SB)/8, $0x3c0888893c088889
DATA fE5<>+56(SB)/8, $0x3c0888893c088889
GLOBL fE5<>(SB), RODATA|NOPTR, $64 // 1/5! = 0.008333333767950535
DATA fE6<>+0(SB)/8, $0x3ab60b613ab60b61
DATA fE6<>+8(SB)/8, $0x3ab60b613ab60b61
DATA fE6<>+16(SB)/8, $0x3ab60b613ab60b61
DATA fE6<>+24(SB)/8, $0x3ab60b613ab60b61
DATA fE6<>+32(SB)/8, $0x3ab60b613ab60b61
DATA fE6<>+40(SB)/8, $0x3ab60b613ab60b61
DATA fE6<>+48(SB)/8, $0x3ab60b613ab60b61
DATA fE6<>+56(SB)/8, $0x3ab60b613ab60b61
GLOBL fE6<>(SB), RODATA|NOPTR, $64 // 1/6! = 0.0013888889225199819
DATA fE7<>+0(SB)/8, $0x39500d0139500d01
DATA fE7<>+8(SB)/8, $0x39500d0139500d01
DATA fE7<>+16(SB)/8, $0x39500d0139500d01
DATA fE7<>+24(SB)/8, $0x39500d0139500d01
DATA fE7<>+32(SB)/8, $0x39500d0139500d01
DATA fE7<>+40(SB)/8, $0x39500d0139500d01
DATA fE7<>+48(SB)/8, $0x39500d0139500d01
DATA fE7<>+56(SB)/8, $0x39500d0139500d01
GLOBL fE7<>(SB), RODATA|NOPTR, $64 // 1/7! = 0.00019841270113829523
DATA fBias127<>+0(SB)/8, $0x0000007f0000007f
DATA fBias127<>+8(SB)/8, $0x0000007f0000007f
DATA fBias127<>+16(SB)/8, $0x0000007f0000007f
DATA fBias127<>+24(SB)/8, $0x0000007f0000007f
DATA fBias127<>+32(SB)/8, $0x0000007f0000007f
DATA fBias127<>+40(SB)/8, $0x0000007f0000007f
DATA fBias127<>+48(SB)/8, $0x0000007f0000007f
DATA fBias127<>+56(SB)/8, $0x0000007f0000007f
GLOBL fBias127<>(SB), RODATA|NOPTR, $64 // int32 127, the float32 exponent bias

#define EXPRED(x, n, ROUND) \
	VMOVUPS      fExpLo<>(SB), n; \
	VMAXPS       x, n, x; \
	VMOVUPS      fExpHi<>(SB), n; \
	VMINPS       x, n, x; \
	VMULPS       fLog2e<>(SB), x, n; \
	ROUND        $8, n, n; \
	VFNMADD231PS fLn2Hi<>(SB), n, x; \
	VFNMADD231PS fLn2Lo<>(SB), n, x

#define EXPFIN(x, n, t1, t2) \
	VMOVUPS      fE7<>(SB), t1; \
	VFMADD213PS  fE6<>(SB), x, t1; \
	VFMADD213PS  fE5<>(SB), x, t1; \
	VFMADD213PS  fE4<>(SB), x, t1; \
	VFMADD213PS  fE3<>(SB), x, t1; \
	VFMADD213PS  fE2<>(SB), x, t1; \
	VFMADD213PS  fOne<>(SB), x, t1; \
	VFMADD213PS  fOne<>(SB), x, t1; \
	VCVTPS2DQ    n, n; \
	VPSRAD       $1, n, t2; \
	VPSUBD       t2, n, n; \
	VPADDD       fBias127<>(SB), t2, t2; \
	VPSLLD       $23, t2, t2; \
	VPADDD       fBias127<>(SB), n, n; \
	VPSLLD       $23, n, n; \
	VMULPS       t2, t1, t1; \
	VMULPS       n, t1, x

// QGELU(x, xc, z, zlo, n, t, ROUND): x = x / (1 + exp(-1.702·x)) in
// place, one register of lanes; xc, z, zlo, n, t are temporaries.
#define QGELU(x, xc, z, zlo, n, t, ROUND) \
	VMOVUPS      fQLo<>(SB), xc; \
	VMAXPS       x, xc, xc; \
	VMOVUPS      fQHi<>(SB), z; \
	VMINPS       xc, z, xc; \
	VMULPS       fMQuickHi<>(SB), xc, z; \
	VMOVAPS      z, zlo; \
	VFMSUB231PS  fMQuickHi<>(SB), xc, zlo; \
	VFMADD231PS  fMQuickLo<>(SB), xc, zlo; \
	EXPRED(z, n, ROUND); \
	VADDPS       zlo, z, z; \
	EXPFIN(z, n, t, xc); \
	VADDPS       fOne<>(SB), z, z; \
	VDIVPS       z, x, x

// func quickGELU32(x *float32, n int)
// x[i] = x[i] / (1 + exp(-1.702·x[i])) for i < n rounded down to 8.
// Y0 x, Y5 xc = clamp(x) (then a temporary), Y1 zhi then exp(z), Y2 zlo
// = fma(xc, chi, -zhi) + xc·clo, Y3 n, Y4 temporary.
TEXT ·quickGELU32(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	ANDQ $-8, CX
	XORQ AX, AX

q32loop:
	CMPQ    AX, CX
	JAE     q32done
	VMOVUPS (SI)(AX*4), Y0
	QGELU(Y0, Y5, Y1, Y2, Y3, Y4, VROUNDPS)
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ    $8, AX
	JMP     q32loop

q32done:
	VZEROUPPER
	RET

// TAILMASK(k) sets opmask k to the low DX mod 16 lanes (DX = elements
// left, 1..15); clobbers BX and CX.
#define TAILMASK(k) \
	MOVQ  DX, CX; \
	MOVL  $1, BX; \
	SHLL  CX, BX; \
	DECL  BX; \
	KMOVW BX, k

// func quickGELU512(x *float32, n int)
// QuickGELU on all n elements, 16 lanes per Z register (AVX-512F); the
// last n mod 16 through opmask K1 (masked load with zeroing, masked store),
// so no element goes to Go. Registers as quickGELU32 with Z for Y; AX
// index, CX end of the whole registers, DX elements left.
TEXT ·quickGELU512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), DX
	MOVQ DX, CX
	ANDQ $-16, CX
	XORQ AX, AX

qzloop:
	CMPQ    AX, CX
	JAE     qztail
	VMOVUPS (SI)(AX*4), Z0
	QGELU(Z0, Z5, Z1, Z2, Z3, Z4, VRNDSCALEPS)
	VMOVUPS Z0, (SI)(AX*4)
	ADDQ    $16, AX
	JMP     qzloop

qztail:
	SUBQ      AX, DX
	JZ        qzdone
	TAILMASK(K1)
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	QGELU(Z0, Z5, Z1, Z2, Z3, Z4, VRNDSCALEPS)
	VMOVUPS   Z0, K1, (SI)(AX*4)

qzdone:
	VZEROUPPER
	RET

// func softmaxExp32(x *float32, n int, mx float32) float64
// x[i] = exp(x[i]-mx) (float32 lanes) for i < n rounded down to 8; returns
// Σ x[i] accumulated in float64 lanes.
// Y0 value, Y1 n, Y2-Y3 temporaries, Y4 mx, Y5 lower and Y6 upper half
// widened, Y7 sum.
TEXT ·softmaxExp32(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	ANDQ         $-8, CX
	VBROADCASTSS mx+16(FP), Y4
	VXORPD       Y7, Y7, Y7
	XORQ         AX, AX

s32loop:
	CMPQ         AX, CX
	JAE          s32done
	VMOVUPS      (SI)(AX*4), Y0
	VSUBPS       Y4, Y0, Y0
	EXPRED(Y0, Y1, VROUNDPS)
	EXPFIN(Y0, Y1, Y2, Y3)
	VMOVUPS      Y0, (SI)(AX*4)
	VCVTPS2PD    X0, Y5
	VEXTRACTF128 $1, Y0, X6
	VCVTPS2PD    X6, Y6
	VADDPD       Y5, Y7, Y7
	VADDPD       Y6, Y7, Y7
	ADDQ         $8, AX
	JMP          s32loop

s32done:
	HSUMPD(Y7, X7, X1)
	VMOVSD       X7, ret+24(FP)
	VZEROUPPER
	RET

// func softmaxExp512(x *float32, n int, mx float32) float64
// softmaxExp32 on all n elements, 16 lanes per Z register (AVX-512F), the
// last n mod 16 through opmask K1; their masked-off lanes are zeroed before
// the sum. Z0 value, Z1 n, Z2-Z3 temporaries, Z4 mx, Z5/Z6 the two halves
// widened to float64, Z7 sum (8 float64 lanes); AX index, CX end of the
// whole registers, DX elements left.
TEXT ·softmaxExp512(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), DX
	MOVQ         DX, CX
	ANDQ         $-16, CX
	VBROADCASTSS mx+16(FP), Z4
	VXORPD       Z7, Z7, Z7
	XORQ         AX, AX

szloop:
	CMPQ          AX, CX
	JAE           sztail
	VMOVUPS       (SI)(AX*4), Z0
	VSUBPS        Z4, Z0, Z0
	EXPRED(Z0, Z1, VRNDSCALEPS)
	EXPFIN(Z0, Z1, Z2, Z3)
	VMOVUPS       Z0, (SI)(AX*4)
	VCVTPS2PD     Y0, Z5
	VEXTRACTF64X4 $1, Z0, Y6
	VCVTPS2PD     Y6, Z6
	VADDPD        Z5, Z7, Z7
	VADDPD        Z6, Z7, Z7
	ADDQ          $16, AX
	JMP           szloop

sztail:
	SUBQ          AX, DX
	JZ            szdone
	TAILMASK(K1)
	VMOVUPS.Z     (SI)(AX*4), K1, Z0
	VSUBPS        Z4, Z0, Z0
	EXPRED(Z0, Z1, VRNDSCALEPS)
	EXPFIN(Z0, Z1, Z2, Z3)
	VMOVUPS       Z0, K1, (SI)(AX*4)
	VMOVAPS.Z     Z0, K1, Z0
	VCVTPS2PD     Y0, Z5
	VEXTRACTF64X4 $1, Z0, Y6
	VCVTPS2PD     Y6, Z6
	VADDPD        Z5, Z7, Z7
	VADDPD        Z6, Z7, Z7

szdone:
	VEXTRACTF64X4 $1, Z7, Y1
	VADDPD        Y1, Y7, Y7
	HSUMPD(Y7, X7, X1)
	VMOVSD        X7, ret+24(FP)
	VZEROUPPER
	RET
