package scan

import "golang.org/x/sys/cpu"

// twoByteSIMD says whether indexTwoBytes searches 32 positions at a time.
var twoByteSIMD = cpu.X86.HasAVX2

//go:noescape
func twoByteAVX2(p *byte, blocks int, lo, hi, mask byte, d int) int

//go:noescape
func lineOrSpecialAVX2(p *byte, blocks int) int

//go:noescape
func twoBytes4AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int

//go:noescape
func twoBytes3AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int

//go:noescape
func twoBytes2AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int

//go:noescape
func jsonMasksAVX2(p *byte, blocks int, out *[skipBlocks][4]uint32)
