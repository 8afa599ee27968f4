package host

import (
	"go/ast"
	"go/build"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestSameAPIEverywhere checks that the package has the same exported API
// on every system: pool_other.go stands in for the Linux-only files
// elsewhere, so that a program importing host builds there, and it must
// follow what they export.
func TestSameAPIEverywhere(t *testing.T) {
	linux := exportedAPI(t, "linux", "amd64")
	for _, sys := range [][2]string{{"darwin", "arm64"}, {"windows", "amd64"}, {"freebsd", "amd64"}} {
		other := exportedAPI(t, sys[0], sys[1])
		for _, name := range slices.Sorted(maps.Keys(linux)) {
			if got, ok := other[name]; !ok {
				t.Errorf("%s/%s lacks %s (add it to pool_other.go):\n%s", sys[0], sys[1], name, linux[name])
			} else if got != linux[name] {
				t.Errorf("%s/%s: %s differs from Linux's:\n%s\nwant:\n%s", sys[0], sys[1], name, got, linux[name])
			}
		}
		for _, name := range slices.Sorted(maps.Keys(other)) {
			if _, ok := linux[name]; !ok {
				t.Errorf("%s/%s has %s, which Linux lacks", sys[0], sys[1], name)
			}
		}
	}
}

// exportedAPI returns the package's exported declarations on one system,
// by name, as Go source without comments or bodies.
func exportedAPI(t *testing.T, goos, goarch string) map[string]string {
	t.Helper()
	ctxt := build.Default
	ctxt.GOOS, ctxt.GOARCH, ctxt.CgoEnabled = goos, goarch, false
	bp, err := ctxt.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	pkg, err := doc.NewFromFiles(fset, files, "github.com/wasmpool/wasmpool/host")
	if err != nil {
		t.Fatal(err)
	}
	api := map[string]string{}
	show := func(node ast.Node) string {
		var b strings.Builder
		printer.Fprint(&b, fset, node)
		// one line per field or constant, whatever the layout
		var lines []string
		for line := range strings.Lines(b.String()) {
			if f := strings.Fields(line); len(f) > 0 {
				lines = append(lines, strings.Join(f, " "))
			}
		}
		return strings.Join(lines, "\n")
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			api[strings.Join(v.Names, ",")] = show(v.Decl)
		}
	}
	funcs := func(fs []*doc.Func) {
		for _, f := range fs {
			decl := *f.Decl
			decl.Body = nil
			name := f.Name
			if f.Recv != "" {
				name = f.Recv + "." + name
			}
			api[name] = show(&decl)
		}
	}
	values(pkg.Consts)
	values(pkg.Vars)
	funcs(pkg.Funcs)
	for _, ty := range pkg.Types {
		api[ty.Name] = show(ty.Decl)
		values(ty.Consts)
		values(ty.Vars)
		funcs(ty.Funcs)
		funcs(ty.Methods)
	}
	return api
}
