#include "textflag.h"

// BYTES broadcasts the byte imm into every byte of y, through x (y's lower
// half) and AX.
#define BYTES(imm, x, y) \
	MOVL imm, AX \
	VMOVD AX, x \
	VPBROADCASTB x, y

// func twoByteAVX2(p *byte, blocks int, lo, hi, mask byte, d int) int
//
// Looks, 32 positions at a time, for the first i < blocks*32 where
// p[i] == lo and p[i+d]|mask == hi; returns it, or -1. The caller makes
// sure p[0 : blocks*32+d] is readable.
TEXT ·twoByteAVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVBLZX lo+16(FP), AX
	MOVBLZX hi+17(FP), BX
	MOVBLZX mask+18(FP), DX
	MOVQ d+24(FP), R8
	// VEX-encoded moves: a legacy SSE instruction here, after the
	// runtime's AVX code, costs a state transition of about a microsecond.
	VMOVD AX, X1
	VPBROADCASTB X1, Y1
	VMOVD BX, X2
	VPBROADCASTB X2, Y2
	VMOVD DX, X3
	VPBROADCASTB X3, Y3
	XORQ DI, DI
	LEAQ (SI)(R8*1), R9
	CMPQ CX, $2
	JB single

double:
	VPCMPEQB (SI)(DI*1), Y1, Y4
	VPOR (R9)(DI*1), Y3, Y5
	VPCMPEQB Y2, Y5, Y5
	VPAND Y4, Y5, Y5
	VPCMPEQB 32(SI)(DI*1), Y1, Y6
	VPOR 32(R9)(DI*1), Y3, Y7
	VPCMPEQB Y2, Y7, Y7
	VPAND Y6, Y7, Y7
	VPOR Y5, Y7, Y8
	VPTEST Y8, Y8
	JNZ found2
	ADDQ $64, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JAE double

single:
	TESTQ CX, CX
	JZ notfound
	VPCMPEQB (SI)(DI*1), Y1, Y4
	VPOR (R9)(DI*1), Y3, Y5
	VPCMPEQB Y2, Y5, Y5
	VPAND Y4, Y5, Y5
	VPMOVMSKB Y5, AX
	TESTL AX, AX
	JNZ found

notfound:
	VZEROUPPER
	MOVQ $-1, ret+32(FP)
	RET

found2:
	VPMOVMSKB Y5, AX
	TESTL AX, AX
	JNZ found
	VPMOVMSKB Y7, AX
	ADDQ $32, DI

found:
	BSFL AX, AX
	ADDQ AX, DI
	VZEROUPPER
	MOVQ DI, ret+32(FP)
	RET

// func lineOrSpecialAVX2(p *byte, blocks int) int
//
// Looks, 32 positions at a time, for the first i < blocks*32 where p[i] is
// a newline, a NUL byte, or a backslash not followed by a quote; returns
// it, or -1. The caller makes sure p[0 : blocks*32+1] is readable.
TEXT ·lineOrSpecialAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), CX
	BYTES($0x5c, X1, Y1)
	BYTES($0x22, X2, Y2)
	BYTES($0x0a, X7, Y7)
	VPXOR Y0, Y0, Y0
	XORQ DI, DI
	TESTQ CX, CX
	JZ none

scan:
	VMOVDQU (SI)(DI*1), Y3
	VPCMPEQB Y1, Y3, Y4
	VPCMPEQB 1(SI)(DI*1), Y2, Y5
	VPANDN Y4, Y5, Y5
	VPCMPEQB Y0, Y3, Y6
	VPOR Y5, Y6, Y6
	VPCMPEQB Y7, Y3, Y8
	VPOR Y8, Y6, Y6
	VPMOVMSKB Y6, AX
	TESTL AX, AX
	JNZ hit
	ADDQ $32, DI
	DECQ CX
	JNZ scan

none:
	VZEROUPPER
	MOVQ $-1, ret+16(FP)
	RET

hit:
	BSFL AX, AX
	ADDQ AX, DI
	VZEROUPPER
	MOVQ DI, ret+16(FP)
	RET

// func twoBytes4AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int
//
// twoByteAVX2 for four pairs at once: the first i < blocks*32 where any
// spec's lo is at p[i] and its hi (under its mask) at p[i+d]. The caller
// makes sure p[0 : blocks*32+max d] is readable. twoBytes3AVX2 and
// twoBytes2AVX2 look for the first three or two specs only.

TEXT ·twoBytes4AVX2(SB), NOSPLIT, $0-32

// The macros shared by the three are defined here, in the first: the
// assembler checks their argument names against the function around them.

// SPEC broadcasts the spec at off into ylo, yhi, ymask, and sets reg to
// p+d.
#define SPEC(off, ylo, yhi, ymask, reg) \
	MOVBLZX (off+0)(BX), AX \
	VMOVD AX, X15 \
	VPBROADCASTB X15, ylo \
	MOVBLZX (off+1)(BX), AX \
	VMOVD AX, X15 \
	VPBROADCASTB X15, yhi \
	MOVBLZX (off+2)(BX), AX \
	VMOVD AX, X15 \
	VPBROADCASTB X15, ymask \
	MOVQ (off+8)(BX), reg \
	ADDQ SI, reg

// PAIR ORs into Y14 the positions of the block in Y12 where a spec's pair
// is.
#define PAIR(ylo, yhi, ymask, reg) \
	VPCMPEQB ylo, Y12, Y13 \
	VPOR (reg)(DI*1), ymask, Y15 \
	VPCMPEQB yhi, Y15, Y15 \
	VPAND Y13, Y15, Y15 \
	VPOR Y15, Y14, Y14

// ARGS loads the arguments, START (after the SPECs) sets DI to the first
// block or returns if there is none, BLOCK loads the block at DI; NEXT,
// after a block's PAIRs, goes on to the next block from loop or returns
// where a pair is.
#define ARGS \
	MOVQ p+0(FP), SI \
	MOVQ blocks+8(FP), CX \
	MOVQ specs+16(FP), BX

#define START \
	XORQ DI, DI \
	TESTQ CX, CX \
	JZ none

#define BLOCK \
	VMOVDQU (SI)(DI*1), Y12 \
	VPXOR Y14, Y14, Y14

#define NEXT \
	VPMOVMSKB Y14, AX \
	TESTL AX, AX \
	JNZ hit \
	ADDQ $32, DI \
	DECQ CX \
	JNZ loop \
none: \
	VZEROUPPER \
	MOVQ $-1, ret+24(FP) \
	RET \
hit: \
	BSFL AX, AX \
	ADDQ AX, DI \
	VZEROUPPER \
	MOVQ DI, ret+24(FP) \
	RET

	ARGS
	SPEC(0, Y0, Y1, Y2, R8)
	SPEC(16, Y3, Y4, Y5, R9)
	SPEC(32, Y6, Y7, Y8, R10)
	SPEC(48, Y9, Y10, Y11, R11)
	START

loop:
	BLOCK
	PAIR(Y0, Y1, Y2, R8)
	PAIR(Y3, Y4, Y5, R9)
	PAIR(Y6, Y7, Y8, R10)
	PAIR(Y9, Y10, Y11, R11)
	NEXT

// func twoBytes3AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int
TEXT ·twoBytes3AVX2(SB), NOSPLIT, $0-32
	ARGS
	SPEC(0, Y0, Y1, Y2, R8)
	SPEC(16, Y3, Y4, Y5, R9)
	SPEC(32, Y6, Y7, Y8, R10)
	START

loop:
	BLOCK
	PAIR(Y0, Y1, Y2, R8)
	PAIR(Y3, Y4, Y5, R9)
	PAIR(Y6, Y7, Y8, R10)
	NEXT

// func twoBytes2AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int
TEXT ·twoBytes2AVX2(SB), NOSPLIT, $0-32
	ARGS
	SPEC(0, Y0, Y1, Y2, R8)
	SPEC(16, Y3, Y4, Y5, R9)
	START

loop:
	BLOCK
	PAIR(Y0, Y1, Y2, R8)
	PAIR(Y3, Y4, Y5, R9)
	NEXT

// func jsonMasksAVX2(p *byte, blocks int, out *[skipBlocks][4]uint32)
//
// For each block k of 32 bytes at p (blocks of them, at most skipBlocks),
// out[k] is the masks of its quotes, backslashes, opening brackets ({ and
// [) and closing brackets (} and ]). A bracket ORed with 0x20 is a brace,
// and no other byte ORed with 0x20 is.
TEXT ·jsonMasksAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ blocks+8(FP), CX
	MOVQ out+16(FP), DX
	BYTES($0x22, X0, Y0)
	BYTES($0x5c, X1, Y1)
	BYTES($0x20, X2, Y2)
	BYTES($0x7b, X3, Y3)
	BYTES($0x7d, X4, Y4)
	TESTQ CX, CX
	JZ masksdone

masksloop:
	VMOVDQU (SI), Y5
	VPCMPEQB Y0, Y5, Y6
	VPMOVMSKB Y6, AX
	MOVL AX, 0(DX)
	VPCMPEQB Y1, Y5, Y6
	VPMOVMSKB Y6, AX
	MOVL AX, 4(DX)
	VPOR Y2, Y5, Y5
	VPCMPEQB Y3, Y5, Y6
	VPMOVMSKB Y6, AX
	MOVL AX, 8(DX)
	VPCMPEQB Y4, Y5, Y6
	VPMOVMSKB Y6, AX
	MOVL AX, 12(DX)
	ADDQ $32, SI
	ADDQ $16, DX
	DECQ CX
	JNZ masksloop

masksdone:
	VZEROUPPER
	RET
