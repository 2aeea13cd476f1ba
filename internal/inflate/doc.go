// Package inflate decompresses gzip (RFC 1952) and its DEFLATE data (RFC
// 1951) into the caller's buffers.
//
// scan reads a gzip input in chunks of about a megabyte; this reader
// decodes straight into each chunk, where a decoder with a window of its
// own would decode there and copy out (a tenth of the time on one large
// gzip). It keeps the last 32 KiB of output for the matches that reach
// back before the buffer they are decoded into.
package inflate
