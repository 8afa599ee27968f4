package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/exampletest"
)

var env exampletest.Env // the only guest and the compilation cache

func TestMain(m *testing.M) {
	exampletest.Main(m, &env, "github.com/wasmpool/wasmpool/examples/only/guest")
}

// classified is the test tree and the reference tags of its entries.
type classified struct {
	root string
	refs map[string][]string // guest path → reference tags
}

// The test tree is generated once, the first time a test asks for it, and
// shared read-only by the tests.
var treeOnce exampletest.Once[classified]

// tree returns the root of the test tree and the reference tags of its
// entries by guest path.
func tree(t *testing.T) (string, map[string][]string) {
	t.Helper()
	c := treeOnce.Get(t, func() (classified, error) {
		start := time.Now()
		c := classified{root: filepath.Join(env.Dir, "tree")}
		if err := makeTree(c.root, filepath.Join(env.Dir, "outside")); err != nil {
			return c, err
		}
		var err error
		c.refs, err = reference(c.root)
		t.Logf("tree of %d entries generated and classified in %v", len(c.refs), time.Since(start).Round(time.Millisecond))
		return c, err
	})
	return c.root, c.refs
}

// makeTree writes over 1,000 files of many types into root, in nested
// directories, with awkward names, plus symbolic links (one to a file in
// outside, which is not granted to the guest).
func makeTree(root, outside string) error {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{
		"f%04d%s", "with space %d%s", "new\nline %d%s", "tab\t%d%s",
		"ünïcödé %d%s", "-dash %d%s", " lead %d%s", "trail %d%s ",
	}
	dirs := []string{"", "a", "a/b", "a/b/c", "a/b/c/d", "x y", "x y/z\nz", "deep/1/2/3/4/5/6"}
	const n = 1300
	for i := range n {
		kind := i % len(generators)
		g := generators[kind]
		name := fmt.Sprintf(names[i%len(names)], i, g.ext)
		p := filepath.Join(root, dirs[(i/len(names))%len(dirs)], name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, g.make(rng, i), 0o644); err != nil {
			return err
		}
	}
	// A real executable, if one is at hand.
	if sh, err := exec.LookPath("true"); err == nil {
		if b, err := os.ReadFile(sh); err == nil {
			if err := os.WriteFile(filepath.Join(root, "a", "true"), b, 0o755); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, "image.png"), makePNG(rng, 0), 0o644); err != nil {
		return err
	}
	// Symbolic links: to a PNG in the tree, to a file outside the tree, to
	// nothing, and to a directory. None is followed: each is a "symlink".
	return exampletest.Symlinks(root, "link-to-png", "image.png", outside, "secret.png", makePNG(rng, 0))
}

type generator struct {
	ext  string
	make func(rng *rand.Rand, i int) []byte
}

var words = strings.Fields(`the quick brown fox jumps over lazy dog pool kid frame
request reply wasm sandbox pipe buffer path file needle hay stack loop`)

var wideWords = strings.Fields(`café naïve jalapeño 日本語 ελληνικά кириллица 🙂 über straße`)

func text(rng *rand.Rand, size int, vocab ...[]string) []byte {
	var b []byte
	for len(b) < size {
		v := vocab[rng.IntN(len(vocab))]
		b = append(b, v[rng.IntN(len(v))]...)
		if rng.IntN(10) == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ' ')
		}
	}
	return b
}

// The generators; file i is made by generators[i%len(generators)].
var generators = []generator{
	{"", func(*rand.Rand, int) []byte { return nil }},
	{".txt", func(rng *rand.Rand, _ int) []byte { return text(rng, 1+rng.IntN(3000), words) }},
	{".utf8", func(rng *rand.Rand, _ int) []byte { return text(rng, 1+rng.IntN(2000), words, wideWords) }},
	{".latin1", func(rng *rand.Rand, _ int) []byte {
		return append(text(rng, rng.IntN(300), words), "caf\xe9 na\xefve\n"...)
	}},
	{".sh", func(rng *rand.Rand, _ int) []byte {
		return append([]byte("#!/bin/sh\necho "), text(rng, rng.IntN(1000), words)...)
	}},
	{".utf16", func(rng *rand.Rand, i int) []byte {
		u := utf16.Encode([]rune(string(text(rng, 2+rng.IntN(400), words, wideWords))))
		var order binary.AppendByteOrder = binary.LittleEndian
		b := []byte{0xff, 0xfe}
		if i%2 == 0 {
			order, b = binary.BigEndian, []byte{0xfe, 0xff}
		}
		for _, c := range u {
			b = order.AppendUint16(b, c)
		}
		return b
	}},
	{".bom", func(rng *rand.Rand, _ int) []byte {
		return append([]byte("\xef\xbb\xbf"), text(rng, 1+rng.IntN(600), words)...)
	}},
	{".bin", func(rng *rand.Rand, _ int) []byte {
		b := make([]byte, 2+rng.IntN(5000))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		b[0], b[1] = 0, 7 // no signature starts like this
		return b
	}},
	{".elf", makeELF},
	{".notelf", func(rng *rand.Rand, _ int) []byte {
		b := makeELF(rng, 0)
		b[4] = 9 // no such class
		return b
	}},
	{".wasm", func(rng *rand.Rand, _ int) []byte {
		b := []byte("\x00asm\x01\x00\x00\x00")
		if rng.IntN(2) == 0 { // a custom section
			payload := append([]byte("\x04name"), text(rng, rng.IntN(100), words)...)
			b = append(b, 0, byte(len(payload)))
			b = append(b, payload...)
		}
		return b
	}},
	{".png", makePNG},
	{".jpg", func(rng *rand.Rand, _ int) []byte {
		var buf bytes.Buffer
		jpeg.Encode(&buf, randomImage(rng), &jpeg.Options{Quality: 50})
		return buf.Bytes()
	}},
	{".gif", func(rng *rand.Rand, _ int) []byte {
		var buf bytes.Buffer
		gif.Encode(&buf, randomImage(rng), &gif.Options{NumColors: 16})
		return buf.Bytes()
	}},
	{".pdf", func(rng *rand.Rand, _ int) []byte {
		b := fmt.Appendf(nil, "%%PDF-1.%d\n%%\xe2\xe3\xcf\xd3\n", rng.IntN(8))
		return append(b, text(rng, rng.IntN(1000), words)...)
	}},
	{".gz", func(rng *rand.Rand, _ int) []byte {
		var buf bytes.Buffer
		if gzipWriter == nil {
			gzipWriter = gzip.NewWriter(&buf)
		}
		gzipWriter.Reset(&buf) // a new writer costs more than the compression
		gzipWriter.Write(text(rng, rng.IntN(4000), words))
		gzipWriter.Close()
		return buf.Bytes()
	}},
	{".zip", func(rng *rand.Rand, _ int) []byte {
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		for j := range rng.IntN(3) { // some archives are empty
			f, _ := w.Create(fmt.Sprintf("member%d.txt", j))
			f.Write(text(rng, rng.IntN(2000), words))
		}
		w.Close()
		return buf.Bytes()
	}},
	{".tar", func(rng *rand.Rand, _ int) []byte {
		var buf bytes.Buffer
		w := tar.NewWriter(&buf)
		for j := range 1 + rng.IntN(3) {
			body := text(rng, rng.IntN(2000), words)
			w.WriteHeader(&tar.Header{Name: fmt.Sprintf("member%d.txt", j), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
			w.Write(body)
		}
		w.Close()
		return buf.Bytes()
	}},
	{".pngmagic", func(rng *rand.Rand, _ int) []byte { // only the signature
		return []byte("\x89PNG\r\n\x1a\n")
	}},
	{".vt", func(rng *rand.Rand, _ int) []byte { // text with a vertical tab: data
		b := text(rng, 1+rng.IntN(300), words)
		return append(b, '\v')
	}},
	{".late", func(rng *rand.Rand, _ int) []byte { // binary after the first 512 bytes: text
		b := text(rng, 600+rng.IntN(300), words)
		return append(b, 0, 1, 2, 3)
	}},
	{".html", func(rng *rand.Rand, _ int) []byte {
		b := []byte("<!DOCTYPE html>\n<html><body><p>")
		return append(b, text(rng, rng.IntN(800), words)...)
	}},
	{".short", func(rng *rand.Rand, _ int) []byte { // a multi-byte character cut short: not UTF-8
		return append(text(rng, 1+rng.IntN(100), words), "\xe6\x97"...)
	}},
}

var gzipWriter *gzip.Writer

// makeELF writes a bare ELF header: the class, byte order and type vary.
func makeELF(rng *rand.Rand, _ int) []byte {
	var order binary.ByteOrder = binary.LittleEndian
	data := elf.ELFDATA2LSB
	if rng.IntN(3) == 0 {
		order, data = binary.BigEndian, elf.ELFDATA2MSB
	}
	types := []elf.Type{elf.ET_REL, elf.ET_EXEC, elf.ET_DYN, elf.ET_CORE, elf.ET_NONE}
	typ := types[rng.IntN(len(types))]
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', 0, byte(data), byte(elf.EV_CURRENT)}
	var buf bytes.Buffer
	if rng.IntN(2) == 0 {
		ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
		binary.Write(&buf, order, elf.Header64{Ident: ident, Type: uint16(typ), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT), Ehsize: 64})
	} else {
		ident[elf.EI_CLASS] = byte(elf.ELFCLASS32)
		binary.Write(&buf, order, elf.Header32{Ident: ident, Type: uint16(typ), Machine: uint16(elf.EM_386), Version: uint32(elf.EV_CURRENT), Ehsize: 52})
	}
	pad := make([]byte, rng.IntN(1000))
	for j := range pad {
		pad[j] = byte(rng.Uint32())
	}
	return append(buf.Bytes(), pad...)
}

func randomImage(rng *rand.Rand) image.Image {
	m := image.NewRGBA(image.Rect(0, 0, 1+rng.IntN(40), 1+rng.IntN(40)))
	for j := range m.Pix {
		m.Pix[j] = byte(rng.Uint32())
	}
	return m
}

func makePNG(rng *rand.Rand, _ int) []byte {
	var buf bytes.Buffer
	m := image.NewGray(image.Rect(0, 0, 1+rng.IntN(30), 1+rng.IntN(30)))
	for y := range m.Rect.Dy() {
		for x := range m.Rect.Dx() {
			m.SetGray(x, y, color.Gray{Y: byte(rng.Uint32())})
		}
	}
	png.Encode(&buf, m)
	return buf.Bytes()
}

// reference classifies every entry under root that is not a directory
// with the standard library (net/http.DetectContentType, debug/elf,
// archive/zip, archive/tar, unicode/utf8), independently of the guest's
// code, and returns the tags by guest path.
func reference(root string) (map[string][]string, error) {
	refs := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		tags, err := referenceTags(p)
		if err != nil {
			return err
		}
		refs[guestRoot+"/"+filepath.ToSlash(rel)] = tags
		return nil
	})
	return refs, err
}

func referenceTags(p string) ([]string, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return []string{"symlink"}, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return []string{"empty"}, nil
	}
	if f, err := elf.NewFile(bytes.NewReader(data)); err == nil {
		tags := []string{"elf", map[elf.Class]string{elf.ELFCLASS32: "elf32", elf.ELFCLASS64: "elf64"}[f.Class],
			map[elf.Data]string{elf.ELFDATA2LSB: "lsb", elf.ELFDATA2MSB: "msb"}[f.Data]}
		kind, ok := map[elf.Type]string{elf.ET_REL: "rel", elf.ET_EXEC: "exec", elf.ET_DYN: "dyn", elf.ET_CORE: "core"}[f.Type]
		if !ok {
			kind = "other"
		}
		return append(tags, kind), nil
	}
	if _, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err == nil {
		return []string{"archive", "zip"}, nil
	}
	if _, err := tar.NewReader(bytes.NewReader(data)).Next(); err == nil {
		return []string{"archive", "tar"}, nil
	}
	ct := http.DetectContentType(data)
	switch ct {
	case "image/png", "image/jpeg", "image/gif":
		return []string{"image", strings.TrimPrefix(ct, "image/")}, nil
	case "application/pdf":
		return []string{"pdf"}, nil
	case "application/x-gzip":
		return []string{"compressed", "gzip"}, nil
	case "application/wasm":
		return []string{"wasm"}, nil
	case "application/octet-stream":
		return []string{"data"}, nil
	}
	if !strings.HasPrefix(ct, "text/") {
		return nil, fmt.Errorf("%s: the reference does not know the content type %s", p, ct)
	}
	tags := []string{"text"}
	if strings.Contains(ct, "utf-16") {
		return append(tags, "utf16"), nil
	}
	head := data[:min(len(data), 512)]
	if !slices.ContainsFunc(head, func(c byte) bool { return c >= utf8.RuneSelf }) {
		tags = append(tags, "ascii", "utf8")
	} else if utf8.Valid(head) || (len(data) > len(head) && validCut(head)) {
		tags = append(tags, "utf8")
	}
	if bytes.HasPrefix(data, []byte("#!")) {
		tags = append(tags, "script")
	}
	return tags, nil
}

// validCut reports whether head is valid UTF-8 after dropping an incomplete
// character at its end.
func validCut(head []byte) bool {
	for k := 1; k < utf8.UTFMax && k <= len(head); k++ {
		if utf8.Valid(head[:len(head)-k]) && !utf8.FullRune(head[len(head)-k:]) {
			return true
		}
	}
	return false
}

// referenceSelect applies the any/all/not logic to reference tags.
func referenceSelect(refs map[string][]string, anyOf, allOf, noneOf []string) []string {
	var out []string
	for p, tags := range refs {
		has := func(t string) bool { return slices.Contains(tags, t) }
		if !slices.ContainsFunc(allOf, func(t string) bool { return !has(t) }) &&
			!slices.ContainsFunc(noneOf, has) &&
			(len(anyOf) == 0 || slices.ContainsFunc(anyOf, has)) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// runPool runs the guest with args over the requests and returns the
// replies, sorted (Stream mode replies arrive in any order), and the
// guests' stderr.
func runPool(t *testing.T, root string, args []string, requests []string) ([]string, string) {
	t.Helper()
	replies, stderr := exampletest.RunPool(t, host.Config{
		Module:   env.Guest,
		Kids:     2,
		Framing:  frames.Zero,
		Args:     args,
		Dirs:     []host.Dir{{Host: root, Guest: guestRoot, ReadOnly: true}},
		CacheDir: env.Cache,
	}, requests)
	slices.Sort(replies)
	return replies, stderr
}

// TestClassify runs the guest with -show and no pattern over the whole
// tree and compares every file's tags with the reference.
func TestClassify(t *testing.T) {
	root, refs := tree(t)
	if len(refs) < 1000 {
		t.Fatalf("the tree has %d entries, want ≥ 1000", len(refs))
	}
	// Paths the guest cannot read get no reply and a line on stderr each,
	// and the kid goes on.
	unreadable := []string{guestRoot + "/no such file", "/etc/passwd", guestRoot + "/a", guestRoot + "/../etc/passwd"}
	requests := append(slices.Sorted(maps.Keys(refs)), unreadable...)
	start := time.Now()
	replies, stderr := runPool(t, root, []string{"-show"}, requests)
	t.Logf("%d requests, %d files classified in %v", len(requests), len(replies), time.Since(start).Round(time.Millisecond))
	exampletest.OneLineEach(t, stderr, unreadable)
	got := map[string][]string{}
	for _, r := range replies {
		tags, p, ok := strings.Cut(r, "\t")
		if !ok {
			t.Fatalf("reply %q has no tab", r)
		}
		if _, dup := got[p]; dup {
			t.Errorf("%q: replied twice", p)
		}
		got[p] = strings.Split(tags, ",")
	}
	counts := map[string]int{}
	for p, want := range refs {
		counts[strings.Join(want, ",")]++
		g, ok := got[p]
		if !ok {
			t.Errorf("%q: no reply (want %v)", p, want)
			continue
		}
		if !slices.Equal(slices.Sorted(slices.Values(g)), slices.Sorted(slices.Values(want))) {
			t.Errorf("%q: guest says %v, reference %v", p, g, want)
		}
	}
	for p := range got {
		if _, ok := refs[p]; !ok {
			t.Errorf("reply for %q, which was not asked for", p)
		}
	}
	// The tree must exercise every tag of the guest but "other" (an ELF of
	// an unknown type is rare) in the comparison above.
	seen := map[string]bool{}
	for k := range counts {
		for _, tag := range strings.Split(k, ",") {
			seen[tag] = true
		}
	}
	for _, tag := range []string{"empty", "symlink", "elf", "elf32", "elf64", "lsb", "msb", "exec", "dyn", "rel", "core",
		"wasm", "image", "png", "jpeg", "gif", "pdf", "compressed", "gzip", "archive", "zip", "tar",
		"text", "ascii", "utf8", "utf16", "script", "data"} {
		if !seen[tag] {
			t.Errorf("no file in the tree has the tag %s", tag)
		}
	}
	if testing.Verbose() {
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			t.Logf("%5d %s", counts[k], k)
		}
	}
}

// TestSelect checks the any/all/not logic against the reference.
func TestSelect(t *testing.T) {
	root, refs := tree(t)
	requests := slices.Sorted(maps.Keys(refs))
	cases := []struct {
		args               []string
		anyOf, allOf, none []string
	}{
		{args: []string{"-any", "png,jpeg,symlink", "-not", "empty"}, anyOf: []string{"png", "jpeg", "symlink"}, none: []string{"empty"}},
		{args: []string{"-all", "text,utf8", "-not", "ascii,utf16"}, allOf: []string{"text", "utf8"}, none: []string{"ascii", "utf16"}},
		{args: []string{"-all", "elf", "-any", "exec,dyn", "-any", "archive", "-not", "elf32", "-all", "lsb"}, allOf: []string{"elf", "lsb"}, anyOf: []string{"exec", "dyn", "archive"}, none: []string{"elf32"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			got, stderr := runPool(t, root, c.args, requests)
			want := referenceSelect(refs, c.anyOf, c.allOf, c.none)
			if stderr != "" {
				t.Errorf("guest stderr:\n%s", stderr)
			}
			if len(want) == 0 {
				t.Fatal("the reference selects nothing: a useless case")
			}
			exampletest.SamePaths(t, got, want)
		})
	}
}

// TestProgram runs the example program's own code (run) as a user would:
// it walks the directory itself and prints host paths, NUL-terminated.
func TestProgram(t *testing.T) {
	root, refs := tree(t)
	got := exampletest.RunProgram(t, run, "-wasm", env.Guest, "-kids", "2", "-cache", env.Cache, "-0", "-any", "image,pdf", "-not", "gif", root)
	var want []string
	for _, p := range referenceSelect(refs, []string{"image", "pdf"}, nil, []string{"gif"}) {
		want = append(want, filepath.Join(root, strings.TrimPrefix(p, guestRoot+"/")))
	}
	slices.Sort(want)
	exampletest.SamePaths(t, got, want)
}
