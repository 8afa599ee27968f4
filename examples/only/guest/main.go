// Command guest is the only filter: for each NUL-framed path it classifies
// the file by its leading bytes and replies with the path when the file's
// type tags match the patterns given as arguments, or with nothing.
//
//	guest [-any TAGS] [-all TAGS] [-not TAGS] [-show]
//
// TAGS is a comma-separated list and each flag may be repeated. A file is
// selected when it has every -all tag, at least one -any tag (when any is
// given) and no -not tag. With -show the reply is "tag,tag\tpath" instead of
// the path. The tags are listed in [allTags].
//
// Symbolic links are not followed: a link is tagged "symlink", whatever it
// points to (as file(1) does without -L). A path that cannot be read gets a
// line on stderr and no reply.
//
// Build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

// allTags are the tags the classifier gives. A file gets one main tag and
// maybe a family and some details:
//
//	empty                        no bytes at all
//	symlink                      a symbolic link (not followed)
//	elf elf32|elf64 lsb|msb exec|dyn|rel|core|other
//	wasm                         WebAssembly binary module
//	image png|jpeg|gif
//	pdf
//	compressed gzip
//	archive zip|tar
//	text [ascii] [utf8] [utf16] [script]
//	                             no control bytes but \t \n \f \r ESC in the
//	                             first 512 bytes (or a UTF-16 byte-order mark);
//	                             ascii and utf8 say which encoding fits, script
//	                             a leading "#!"
//	data                         anything else
var allTags = []string{
	"empty", "symlink",
	"elf", "elf32", "elf64", "lsb", "msb", "exec", "dyn", "rel", "core", "other",
	"wasm", "image", "png", "jpeg", "gif", "pdf", "compressed", "gzip",
	"archive", "zip", "tar",
	"text", "ascii", "utf8", "utf16", "script",
	"data",
}

// sniffLen is how many leading bytes the classifier looks at.
const sniffLen = 512

// tagList is a flag.Value collecting comma-separated tags.
type tagList []string

func (l *tagList) String() string { return strings.Join(*l, ",") }

func (l *tagList) Set(s string) error {
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !slices.Contains(allTags, t) {
			return fmt.Errorf("unknown tag %q (known: %s)", t, strings.Join(allTags, " "))
		}
		*l = append(*l, t)
	}
	return nil
}

func main() {
	var anyOf, allOf, noneOf tagList
	flag.Var(&anyOf, "any", "select files with at least one of these `tags`")
	flag.Var(&allOf, "all", "select files with all of these `tags`")
	flag.Var(&noneOf, "not", "select files with none of these `tags`")
	show := flag.Bool("show", false, "reply \"tags\\tpath\" instead of the path")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "only: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}

	buf := make([]byte, sniffLen)
	var tags []string
	var out []byte
	guest.Serve(frames.Zero, func(path []byte, w *guest.Replies) error {
		name := string(path)
		var err error
		tags, err = classify(tags[:0], name, buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "only: %v\n", err)
			return nil
		}
		if !selected(tags, anyOf, allOf, noneOf) {
			return nil
		}
		if !*show {
			return w.Reply(path)
		}
		out = append(out[:0], strings.Join(tags, ",")...)
		out = append(out, '\t')
		out = append(out, path...)
		return w.Reply(out)
	})
}

// selected applies the any/all/not logic.
func selected(tags, anyOf, allOf, noneOf []string) bool {
	for _, t := range allOf {
		if !slices.Contains(tags, t) {
			return false
		}
	}
	for _, t := range noneOf {
		if slices.Contains(tags, t) {
			return false
		}
	}
	if len(anyOf) == 0 {
		return true
	}
	for _, t := range anyOf {
		if slices.Contains(tags, t) {
			return true
		}
	}
	return false
}

// classify appends the tags of the file at name to tags, reading at most
// len(buf) bytes into buf.
func classify(tags []string, name string, buf []byte) ([]string, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return tags, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return append(tags, "symlink"), nil
	}
	if !fi.Mode().IsRegular() {
		return tags, fmt.Errorf("%s: not a regular file (%v)", name, fi.Mode().Type())
	}
	// O_NOFOLLOW: a link swapped in after the Lstat is refused, not followed.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return tags, err
	}
	n, err := io.ReadFull(f, buf)
	f.Close()
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return tags, fmt.Errorf("%s: %w", name, err)
	}
	// When the buffer is full, the file may go on: a multi-byte character
	// cut at the buffer's end is no encoding error.
	return sniff(tags, buf[:n], n == len(buf)), nil
}

// magic numbers at offset 0, in the order they are tried.
var magics = []struct {
	prefix string
	tags   []string
}{
	{"\x89PNG\r\n\x1a\n", []string{"image", "png"}},
	{"\xff\xd8\xff", []string{"image", "jpeg"}},
	{"GIF87a", []string{"image", "gif"}},
	{"GIF89a", []string{"image", "gif"}},
	{"%PDF-", []string{"pdf"}},
	{"\x1f\x8b\x08", []string{"compressed", "gzip"}},
	{"\x00asm", []string{"wasm"}},
	{"PK\x03\x04", []string{"archive", "zip"}},
	{"PK\x05\x06", []string{"archive", "zip"}}, // an empty archive
	{"PK\x07\x08", []string{"archive", "zip"}}, // a spanned archive
}

// sniff appends the tags of a file whose leading bytes are b; more says
// that the file may go on after b.
func sniff(tags []string, b []byte, more bool) []string {
	if len(b) == 0 {
		return append(tags, "empty")
	}
	if t, ok := sniffELF(tags, b); ok {
		return t
	}
	for _, m := range magics {
		if bytes.HasPrefix(b, []byte(m.prefix)) {
			return append(tags, m.tags...)
		}
	}
	// POSIX and GNU tar headers have "ustar" at offset 257.
	if len(b) >= 262 && string(b[257:262]) == "ustar" {
		return append(tags, "archive", "tar")
	}
	if bytes.HasPrefix(b, []byte("\xfe\xff")) || bytes.HasPrefix(b, []byte("\xff\xfe")) {
		return append(tags, "text", "utf16")
	}
	return sniffText(tags, b, more)
}

// sniffELF checks the ELF identification and the object type.
func sniffELF(tags []string, b []byte) ([]string, bool) {
	if len(b) < 18 || string(b[:4]) != "\x7fELF" || b[6] != 1 { // EI_VERSION = EV_CURRENT
		return tags, false
	}
	var class, data string
	switch b[4] {
	case 1:
		class = "elf32"
	case 2:
		class = "elf64"
	default:
		return tags, false
	}
	var order binary.ByteOrder
	switch b[5] {
	case 1:
		data, order = "lsb", binary.LittleEndian
	case 2:
		data, order = "msb", binary.BigEndian
	default:
		return tags, false
	}
	kind := "other"
	switch order.Uint16(b[16:]) {
	case 1:
		kind = "rel"
	case 2:
		kind = "exec"
	case 3:
		kind = "dyn"
	case 4:
		kind = "core"
	}
	return append(tags, "elf", class, data, kind), true
}

// sniffText tags text: no control bytes but \t \n \f \r and ESC.
func sniffText(tags []string, b []byte, more bool) []string {
	ascii := true
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r' && c != 0x1b {
			return append(tags, "data")
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	tags = append(tags, "text")
	if ascii {
		tags = append(tags, "ascii", "utf8")
	} else if validUTF8(b, more) {
		tags = append(tags, "utf8")
	}
	if bytes.HasPrefix(b, []byte("#!")) {
		tags = append(tags, "script")
	}
	return tags
}

// validUTF8 reports whether b is valid UTF-8; when more is set, a rune cut
// short at the end of b is allowed.
func validUTF8(b []byte, more bool) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			return more && !utf8.FullRune(b)
		}
		b = b[size:]
	}
	return true
}
