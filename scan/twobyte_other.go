//go:build !amd64

package scan

var twoByteSIMD = false

func twoByteAVX2(p *byte, blocks int, lo, hi, mask byte, d int) int { panic("no AVX2") }

func lineOrSpecialAVX2(p *byte, blocks int) int { panic("no AVX2") }

func twoBytes4AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int { panic("no AVX2") }

func twoBytes3AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int { panic("no AVX2") }

func twoBytes2AVX2(p *byte, blocks int, specs *[4]twoByteSpec) int { panic("no AVX2") }

func jsonMasksAVX2(p *byte, blocks int, out *[skipBlocks][4]uint32) { panic("no AVX2") }
