//go:build ignore

// gen_vnni writes vnni_amd64.s: the VPDPBUSD QMatMul kernels of the
// avx512vnni tier (EVEX, 512-bit registers, 4 rows × 8 columns per group
// of accumulators) and of the avxvnni tier (VEX, 256-bit registers, 2 rows
// × 4 columns), one kernel per panel height of 1..3 row groups, plus the
// panel builder both share. The kernels differ only in register width,
// tile shape and encoding, so one description writes all of them. Run it
// with go generate.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

// maxGroups is the number of row groups (of 4 rows for zmm, 2 for ymm)
// one kernel call keeps in registers.
const maxGroups = 3

// variant is one register width.
type variant struct {
	name  string // kernel name prefix
	reg   string // "Z" or "Y"
	bytes int    // register width in bytes
	rows  int    // rows per register: bytes / 16
	cols  int    // columns per call of the inner loop
	evex  bool   // VPDPBUSD is EVEX (assembler) or VEX (hand-encoded)
}

var variants = []variant{
	{name: "vnni512", reg: "Z", bytes: 64, rows: 4, cols: 8, evex: true},
	{name: "vnni256", reg: "Y", bytes: 32, rows: 2, cols: 4, evex: false},
}

func main() {
	var b bytes.Buffer
	b.WriteString(header)
	for _, v := range variants {
		for t := 1; t <= maxGroups; t++ {
			writeKernel(&b, v, t)
		}
	}
	b.WriteString(pack)
	if err := os.WriteFile("vnni_amd64.s", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// vexDPBUSD returns the VEX.256 encoding of VPDPBUSD ymm(dst) += u8
// ymm(src1) · s8 ymm(src2), register operands only (the Go assembler
// encodes VPDPBUSD only as EVEX, which needs AVX-512VL).
func vexDPBUSD(dst, src1, src2 int) string {
	r, bb := (dst>>3)&1, (src2>>3)&1
	b1 := (r^1)<<7 | 1<<6 | (bb^1)<<5 | 0x02 // R̄ X̄ B̄, map 0F38
	b2 := (^src1&15)<<3 | 1<<2 | 1           // W0, v̄v̄v̄v̄, L=256, pp=66
	modrm := 0xc0 | (dst&7)<<3 | src2&7
	return fmt.Sprintf("BYTE $0xc4; BYTE $0x%02x; BYTE $0x%02x; BYTE $0x50; BYTE $0x%02x // VPDPBUSD Y%d, Y%d, Y%d", b1, b2, modrm, src2, src1, dst)
}

// writeKernel writes the kernel of variant v for t row groups.
//
// func NAMEt(dst *float32, ldd int, xp *int8, k int, w *int8, nc int,
//
//	xsx *float32, corrx *int32, ws *float32, bias *float32, h int)
func writeKernel(b *bytes.Buffer, v variant, t int) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	R := func(i int) string { return fmt.Sprintf("%s%d", v.reg, i) }
	C := v.cols
	acc := func(g, c int) string { return R(g*C + c) }
	nacc := t * C
	xr := func(g int) string { return R(nacc + g) } // activations of group g
	// Registers after the accumulators and activations.
	wreg := nacc + t // broadcast weights
	name := fmt.Sprintf("%s_%d", v.name, t)
	step := v.bytes * t // panel bytes per 16-value step
	p("// func %s(dst *float32, ldd int, xp *int8, k int, w *int8, nc int, xsx *float32, corrx *int32, ws *float32, bias *float32, h int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-88", name)
	p("\tMOVQ dst+0(FP), DX")
	p("\tMOVQ ldd+8(FP), R12")
	p("\tSHLQ $2, R12")
	p("\tMOVQ k+24(FP), BX")
	p("\tLEAQ (BX)(BX*2), R13")
	p("\tXORQ R11, R11")
	if v.evex {
		p("\tMOVL $0x80808080, AX")
		p("\tVPBROADCASTD AX, Z%d", wreg+1)
	}
	p("%s_group:", name)
	p("\tCMPQ R11, nc+40(FP)")
	p("\tJGE %s_done", name)
	for i := 0; i < nacc; i++ {
		if v.evex {
			p("\tVPXORD %s, %s, %s", R(i), R(i), R(i))
		} else {
			p("\tVPXOR %s, %s, %s", R(i), R(i), R(i))
		}
	}
	p("\tMOVQ R11, SI")
	p("\tIMULQ BX, SI")
	p("\tADDQ w+32(FP), SI")
	if C == 8 {
		p("\tLEAQ (SI)(BX*4), R10")
		p("\tADDQ BX, R10")
	}
	p("\tMOVQ xp+16(FP), R8")
	p("\tMOVQ BX, R9")
	p("\tSHRQ $4, R9")
	p("%s_step:", name)
	for g := 0; g < t; g++ {
		if v.evex {
			p("\tVMOVDQU64 %d(R8), %s", g*v.bytes, xr(g))
		} else {
			p("\tVMOVDQU %d(R8), %s", g*v.bytes, xr(g))
		}
	}
	addr := []string{"(SI)", "(SI)(BX*1)", "(SI)(BX*2)", "(SI)(R13*1)", "(SI)(BX*4)", "(R10)", "(R10)(BX*1)", "(R10)(BX*2)"}
	for c := 0; c < C; c++ {
		if v.evex {
			p("\tVBROADCASTI32X4 %s, Z%d", addr[c], wreg)
			p("\tVPXORD Z%d, Z%d, Z%d", wreg+1, wreg, wreg)
		} else {
			p("\tVBROADCASTI128 %s, Y%d", addr[c], wreg)
			p("\tVPXOR bias80<>(SB), Y%d, Y%d", wreg, wreg)
		}
		for g := 0; g < t; g++ {
			if v.evex {
				p("\tVPDPBUSD %s, Z%d, %s", xr(g), wreg, acc(g, c))
			} else {
				p("\t%s", vexDPBUSD(g*C+c, wreg, nacc+g))
			}
		}
	}
	p("\tADDQ $%d, R8", step)
	p("\tADDQ $16, SI")
	if C == 8 {
		p("\tADDQ $16, R10")
	}
	p("\tDECQ R9")
	p("\tJNZ %s_step", name)

	// Epilogue. Temporaries: the activation and weight registers, free now.
	// T0 holds the reduced sums, T1 a scratch, WS0/WS1 the broadcast
	// weight scales, ZR zero, B0/B1 the broadcast bias.
	tmp := nacc
	free := func(i int) string { return R(tmp + i) }
	p("\tMOVQ ws+64(FP), AX")
	p("\tMOVQ bias+72(FP), CX")
	p("\tMOVQ xsx+48(FP), DI")
	p("\tMOVQ corrx+56(FP), R10")
	p("\tMOVQ h+80(FP), R9")
	p("\tMOVQ DX, R8")
	// Per half of the columns (4 columns per 128-bit lane): ws broadcast.
	halves := C / 4
	for g := 0; g < t; g++ {
		for hf := 0; hf < halves; hf++ {
			a := func(c int) string { return acc(g, 4*hf+c) }
			out := a(0) // the reduced 4 columns end in the first accumulator
			t0 := free(0)
			// u01 in a(0), u23 in a(2)
			p("\tVPUNPCKLQDQ %s, %s, %s", a(1), a(0), t0)
			p("\tVPUNPCKHQDQ %s, %s, %s", a(1), a(0), a(0))
			p("\tVPADDD %s, %s, %s", t0, a(0), a(0))
			p("\tVPUNPCKLQDQ %s, %s, %s", a(3), a(2), t0)
			p("\tVPUNPCKHQDQ %s, %s, %s", a(3), a(2), a(2))
			p("\tVPADDD %s, %s, %s", t0, a(2), a(2))
			p("\tVSHUFPS $0x88, %s, %s, %s", a(2), a(0), t0)
			p("\tVSHUFPS $0xdd, %s, %s, %s", a(2), a(0), a(1))
			p("\tVPADDD %s, %s, %s", a(1), t0, out)
			// int32 correction, conversion, generic's float epilogue.
			p("\tVPSUBD %d(R10), %s, %s", g*v.bytes, out, out)
			p("\tVCVTDQ2PS %s, %s", out, out)
			if v.evex {
				p("\tVBROADCASTF32X4 %d(AX)(R11*4), %s", 16*hf, a(1))
			} else {
				p("\tVBROADCASTF128 %d(AX)(R11*4), %s", 16*hf, a(1))
			}
			p("\tVMULPS %d(DI), %s, %s", g*v.bytes, a(1), a(1)) // s = ws·xs
			p("\tVMULPS %s, %s, %s", a(1), out, out)            // t = float(sum)·s
			if v.evex {
				p("\tVPXORD %s, %s, %s", a(2), a(2), a(2))
			} else {
				p("\tVPXOR %s, %s, %s", a(2), a(2), a(2))
			}
			p("\tVADDPS %s, %s, %s", a(2), out, out) // acc = 0 + t
			lbl := fmt.Sprintf("%s_nb%d_%d", name, g, hf)
			p("\tTESTQ CX, CX")
			p("\tJZ %s", lbl)
			if v.evex {
				p("\tVBROADCASTF32X4 %d(CX)(R11*4), %s", 16*hf, a(1))
			} else {
				p("\tVBROADCASTF128 %d(CX)(R11*4), %s", 16*hf, a(1))
			}
			p("\tVADDPS %s, %s, %s", a(1), out, out)
			p("%s:", lbl)
		}
		// Store row r of the group: lane r of each half.
		for r := 0; r < v.rows; r++ {
			row := g*v.rows + r
			p("\tCMPQ R9, $%d", row)
			p("\tJLE %s_next", name)
			for hf := 0; hf < halves; hf++ {
				src := acc(g, 4*hf)
				if r == 0 {
					p("\tVMOVUPS X%d, %d(R8)", g*C+4*hf, 16*hf)
				} else if v.evex {
					p("\tVEXTRACTF32X4 $%d, %s, %d(R8)", r, src, 16*hf)
				} else {
					p("\tVEXTRACTF128 $%d, %s, %d(R8)", r, src, 16*hf)
				}
			}
			p("\tADDQ R12, R8")
		}
	}
	p("%s_next:", name)
	p("\tADDQ $%d, DX", 4*C)
	p("\tADDQ $%d, R11", C)
	p("\tJMP %s_group", name)
	p("%s_done:", name)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

const header = `// Code generated by gen_vnni.go; DO NOT EDIT.

// VPDPBUSD QMatMul kernels for block == k (one scale per row).
//
// VPDPBUSD multiplies unsigned by signed bytes. The weights are made
// unsigned on load (w XOR 0x80 = w + 128, one VPXOR per broadcast), the
// activations stay signed, so each int32 lane accumulates
// Σ (w+128)·x = Σ w·x + 128·Σ x exactly (mod 2³², like generic's int32
// sums); vnniPack writes corrx = 128·Σ x per row, and the epilogue
// subtracts it: the int32 sums are generic's, bit for bit. The weights are
// read in place (no column sums, no repacking); only the activations are
// copied, once per call, into a panel.
//
// Panel (vnniPack): for each 16-value step s of k, the 16 bytes of every
// row of the panel, row after row: xp[s][row][16]. A register of b bytes
// holds b/16 consecutive rows (a row group) × 16 values.
//
// Accumulators: for row group g and column c, acc(g,c) holds, in the
// 128-bit lane of row r, four partial sums of (x row r)·(w column c) over
// k ≡ 0-3, 4-7, 8-11, 12-15 mod 16. Per step the kernel loads the t groups
// of activations, and per column broadcasts the column's 16 weights to all
// lanes (VBROADCASTI32X4 / VBROADCASTI128), makes them unsigned (VPXOR)
// and runs one VPDPBUSD per group.
//
// Epilogue per group and 4 columns: VPUNPCKL/HQDQ + VPADDD twice and
// VSHUFPS 0x88/0xdd + VPADDD reduce four accumulators to one register whose
// lane r holds the sums of row r for the four columns; then sum - corrx
// (VPSUBD), float32 (VCVTDQ2PS), s = ws·xs, t = float(sum)·s, 0 + t, + bias
// — generic's operations in generic's order — and one 16-byte store per row
// (rows at or past h are not stored).
//
// Registers: accumulators first (group g, column c in register g·cols+c),
// then the t activation registers, then the broadcast weights and (EVEX)
// the 0x80 constant. DX dst of the column group, R12 ldd in bytes, BX k
// (the weights' row stride), R13 3k, SI the group's first weight row at
// the current step, R10 its sixth row (8 columns), R8 the panel step (in
// the epilogue the output row), R9 steps left (in the epilogue h), R11
// columns done; epilogue AX ws, CX bias (0: none), DI xsx, R10 corrx.

#include "textflag.h"

DATA bias80<>+0(SB)/8, $0x8080808080808080
DATA bias80<>+8(SB)/8, $0x8080808080808080
DATA bias80<>+16(SB)/8, $0x8080808080808080
DATA bias80<>+24(SB)/8, $0x8080808080808080
GLOBL bias80<>(SB), RODATA|NOPTR, $32

DATA ones8<>+0(SB)/8, $0x0101010101010101
DATA ones8<>+8(SB)/8, $0x0101010101010101
GLOBL ones8<>(SB), RODATA|NOPTR, $16

DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $16

`

const pack = `// func vnniPack(xp *int8, corrx *int32, xsx *float32, x *int8, xs *float32, ldx, h, rows, k, stride int)
//
// Copies rows 0..h-1 of x (ldx bytes apart, k values each, k a multiple of
// 16) into the panel layout xp[s][row][16] of a panel of stride rows
// (xp points at the first row to write, stride ≥ rows) for rows rows
// (rows ≥ h; rows h..rows-1 are zero), and writes per row four copies of
// 128·Σx (corrx) and of xs[row] (xsx); both zero for the padding rows. A
// caller can so fill one panel in several row ranges. AVX2 only (the row
// sum by VPMADDUBSW with ones, then VPMADDWD with ones), so both tiers use
// it. Registers: DI panel row, SI x row, CX steps left, DX panel step
// bytes (16·stride), R8 row, X0 values, X1 products, X2 sum, X14/X15 ones.
TEXT ·vnniPack(SB), NOSPLIT, $0-80
	MOVQ stride+72(FP), DX
	SHLQ $4, DX
	VMOVDQU ones8<>(SB), X14
	VMOVDQU ones16<>(SB), X15
	XORQ R8, R8
packrow:
	CMPQ R8, rows+56(FP)
	JGE packdone
	MOVQ R8, DI
	SHLQ $4, DI
	ADDQ xp+0(FP), DI
	MOVQ k+64(FP), CX
	SHRQ $4, CX
	VPXOR X2, X2, X2
	CMPQ R8, h+48(FP)
	JGE packzero
	MOVQ R8, SI
	IMULQ ldx+40(FP), SI
	ADDQ x+24(FP), SI
packstep:
	VMOVDQU (SI), X0
	VMOVDQU X0, (DI)
	VPMADDUBSW X0, X14, X1
	VPMADDWD X15, X1, X1
	VPADDD X1, X2, X2
	ADDQ $16, SI
	ADDQ DX, DI
	DECQ CX
	JNZ packstep
	VPSHUFD $0x4e, X2, X1
	VPADDD X1, X2, X2
	VPSHUFD $0xb1, X2, X1
	VPADDD X1, X2, X2
	VPSLLD $7, X2, X2
	MOVQ xs+32(FP), AX
	VBROADCASTSS (AX)(R8*4), X3
	JMP packrest
packzero:
	VMOVDQU X2, (DI)
	ADDQ DX, DI
	DECQ CX
	JNZ packzero
	VPXOR X3, X3, X3
packrest:
	MOVQ R8, AX
	SHLQ $4, AX
	MOVQ corrx+8(FP), SI
	VMOVDQU X2, (SI)(AX*1)
	MOVQ xsx+16(FP), SI
	VMOVUPS X3, (SI)(AX*1)
	INCQ R8
	JMP packrow
packdone:
	RET
`
