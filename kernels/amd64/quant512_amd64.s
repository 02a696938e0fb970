// Quantize's two passes on AVX-512F/BW for the avx512vnni tier: absMaxBits
// and quantize8 of vec_amd64.s with 16 lanes per Z register, on every
// element (the last n mod 16 under opmask K1: zeroed lanes leave the
// maximum alone, and the masked store writes only the valid bytes). Per
// lane the operations are quantize8's, so the bytes are generic's.
//
// Registers: SI x, DI dst, AX index, CX end of the whole registers, DX
// elements left; Z0 maximum / values, Z1 |x| / inv, Z2 abs mask / 127,
// Z3 -127.

#include "textflag.h"

DATA q512AbsMask<>+0(SB)/4, $0x7fffffff
GLOBL q512AbsMask<>(SB), RODATA|NOPTR, $4

DATA q512F127<>+0(SB)/4, $127.0
GLOBL q512F127<>(SB), RODATA|NOPTR, $4

DATA q512Fm127<>+0(SB)/4, $-127.0
GLOBL q512Fm127<>(SB), RODATA|NOPTR, $4

// QTAIL sets K1 to the low DX lanes (DX = 1..15); clobbers BX and CX.
#define QTAIL \
	MOVQ  DX, CX; \
	MOVL  $1, BX; \
	SHLL  CX, BX; \
	DECL  BX;     \
	KMOVW BX, K1

// func absMax512(x *float32, n int) uint32
// max over i < n of bits(|x[i]|) as unsigned integers (VPMAXUD), n ≥ 1.
TEXT ·absMax512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), DX
	MOVQ         DX, DI
	ANDQ         $-16, DI
	VPBROADCASTD q512AbsMask<>(SB), Z2
	VPXORD       Z0, Z0, Z0
	XORQ         AX, AX

am16:
	CMPQ    AX, DI
	JAE     amtail
	VPANDD  (SI)(AX*4), Z2, Z1
	VPMAXUD Z1, Z0, Z0
	ADDQ    $16, AX
	JMP     am16

amtail:
	SUBQ      AX, DX
	JZ        amdone
	QTAIL
	VPANDD.Z  (SI)(AX*4), Z2, K1, Z1
	VPMAXUD   Z1, Z0, Z0

amdone:
	VEXTRACTI64X4 $1, Z0, Y1
	VPMAXUD       Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPMAXUD       X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPMAXUD       X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VPMAXUD       X1, X0, X0
	VMOVD         X0, AX
	MOVL          AX, ret+16(FP)
	VZEROUPPER
	RET

// func quantize512(dst *int8, x *float32, n int, inv float32)
// dst[i] = int8(clamp(roundToEven(x[i]·inv), -127, 127)) for i < n:
// VMULPS, VRNDSCALEPS $8 (nearest even), VMAXPS/VMINPS, VCVTPS2DQ (exact on
// integers), VPMOVSDB (the values already fit), 16-byte store. The caller
// guarantees finite inv and x.
TEXT ·quantize512(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), DX
	VBROADCASTSS inv+24(FP), Z1
	VBROADCASTSS q512F127<>(SB), Z2
	VBROADCASTSS q512Fm127<>(SB), Z3
	MOVQ         DX, R8
	ANDQ         $-16, R8
	XORQ         AX, AX

q16:
	CMPQ        AX, R8
	JAE         qtail
	VMULPS      (SI)(AX*4), Z1, Z0
	VRNDSCALEPS $8, Z0, Z0
	VMAXPS      Z3, Z0, Z0
	VMINPS      Z2, Z0, Z0
	VCVTPS2DQ   Z0, Z0
	VPMOVSDB    Z0, (DI)(AX*1)
	ADDQ        $16, AX
	JMP         q16

qtail:
	SUBQ        AX, DX
	JZ          qdone
	QTAIL
	VMULPS.Z    (SI)(AX*4), Z1, K1, Z0
	VRNDSCALEPS $8, Z0, Z0
	VMAXPS      Z3, Z0, Z0
	VMINPS      Z2, Z0, Z0
	VCVTPS2DQ   Z0, Z0
	VPMOVSDB    Z0, K1, (DI)(AX*1)

qdone:
	VZEROUPPER
	RET
