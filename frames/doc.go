// Package frames cuts byte streams into frames and writes frames into
// buffers, for the four framings of the wasmpool protocol (see package abi):
// [Lines], [Zero], [LenPfx] and [Fixed].
//
// Reading is in the style of bufio.Scanner: the slice returned by
// [Reader.Bytes] points into the reader's buffer and is valid only until the
// next call to [Reader.Scan].
//
//	r := frames.NewReader(os.Stdin, frames.Lines)
//	for r.Scan() {
//		line := r.Bytes()
//		...
//	}
//	if err := r.Err(); err != nil { ... }
//
// Writing appends to a caller-owned buffer, so many frames go out in one
// write:
//
//	buf, err = frames.LenPfx.Append(buf, payload)
//
// Code that manages its own buffers (the host's dispatch loop) calls
// [Framing.Split] directly. The package has no dependency beyond the standard
// library and builds for GOOS=wasip1.
package frames
