//go:build !amd64

package scan

var twoByteSIMD = false

func twoByteAVX2(p *byte, blocks int, lo, hi, mask byte, d int) int { panic("no AVX2") }
