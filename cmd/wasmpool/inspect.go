package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wasmpool/wasmpool/abi"
	"github.com/wasmpool/wasmpool/host/inspect"
)

// inspectFlags are the flags of `wasmpool inspect`.
func inspectFlags(asJSON *bool) *flagSet {
	fs := newFlagSet("inspect")
	fs.add(&option{long: "json", set: setBool(asJSON), usage: "print the description as JSON"})
	return fs
}

func inspectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	con := &console{w: stderr}
	if wantsHelp(args) {
		io.WriteString(stdout, help("inspect"))
		return exitOK
	}
	var asJSON bool
	fs := inspectFlags(&asJSON)
	path, err := fs.oneModule(args, "wasmpool inspect [--json] module.wasm")
	if err != nil {
		con.printf("%v", err)
		return exitUsage
	}
	if _, err := readModule(path); err != nil {
		con.printf("%v", err)
		return exitUsage
	}
	info, err := inspect.Inspect(ctx, path)
	if err != nil {
		con.printf("%s", pathError(err))
		return exitUsage
	}
	if asJSON {
		b, _ := json.MarshalIndent(info, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printInfo(stdout, info)
	}
	if len(info.Problems) > 0 {
		return exitFailed
	}
	return exitOK
}

func printInfo(w io.Writer, info inspect.ModuleInfo) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	field := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	field("module", "%s", info.Path)
	field("size", "%s (%d bytes), sha256 %s", formatSize(int64(info.Size)), info.Size, info.SHA256)
	if info.Start {
		field("filter", "yes: a WASI command, it exports _start")
	} else {
		field("filter", "no: it exports no _start function")
	}
	wasiFuncs := 0
	for _, im := range info.Imports {
		if im.Module == "wasi_snapshot_preview1" {
			wasiFuncs++
		}
	}
	switch info.WASI {
	case "preview1":
		field("WASI", "preview 1 (wasi_snapshot_preview1), %d functions imported", wasiFuncs)
	case "unstable":
		field("WASI", "snapshot 0 (wasi_unstable): not supported")
	case "preview2":
		field("WASI", "preview 2 (wasi:… interfaces): not supported")
	default:
		field("WASI", "none: it imports no WASI function")
	}
	if m := info.Memory; m != nil {
		how := "defined"
		if m.Imported {
			how = "imported"
		}
		if m.Export != "" {
			how += fmt.Sprintf(", exported as %q", m.Export)
		}
		limit := "no maximum (up to 4GiB)"
		if m.HasMax {
			limit = fmt.Sprintf("at most %s (%s)", plural(int(m.Max), "page"), formatSize(int64(m.Max)*64<<10))
		}
		extra := ""
		if m.Shared {
			extra += ", shared"
		}
		if m.Memory64 {
			extra += ", 64-bit"
		}
		field("memory", "%s: at least %s (%s), %s%s", how, plural(int(m.Min), "page"), formatSize(int64(m.Min)*64<<10), limit, extra)
	} else {
		field("memory", "none")
	}
	if info.CompileTime > 0 {
		field("compile", "%s with the %s, without a cache (later runs load it from the cache)", info.CompileTime.Round(100_000), info.Compiler)
	} else {
		field("compile", "failed (%s)", info.Compiler)
	}
	switch {
	case info.Described != nil:
		field("section", "wasmpool: %s", describeSection(*info.Described))
	case info.Session:
		field("section", "none, but it exports %s: it keeps the session contract", abi.SessionMarker)
	case info.Section != nil:
		field("section", "wasmpool: invalid (see problems)")
	default:
		field("section", "none: run uses its flags' defaults (lines, replies as they come)")
	}
	tw.Flush()

	fmt.Fprintf(w, "imports (%d):\n", len(info.Imports))
	for _, im := range info.Imports {
		fmt.Fprintf(tw, "  %s.%s\t%s %s\n", im.Module, im.Name, im.Kind, im.Type)
	}
	tw.Flush()
	fmt.Fprintf(w, "exports (%d):\n", len(info.Exports))
	for _, e := range info.Exports {
		fmt.Fprintf(tw, "  %s\t%s %s\n", e.Name, e.Kind, e.Type)
	}
	tw.Flush()
	var customs []string
	for _, c := range info.CustomSections {
		customs = append(customs, fmt.Sprintf("%s (%s)", c.Name, formatSize(int64(c.Size))))
	}
	fmt.Fprintf(w, "custom sections (%d): %s\n", len(customs), strings.Join(customs, ", "))
	if len(info.Problems) == 0 {
		fmt.Fprintln(w, "problems: none, it can run as a kid")
		return
	}
	fmt.Fprintf(w, "problems (%d):\n", len(info.Problems))
	for _, p := range info.Problems {
		fmt.Fprintf(w, "  - %s\n", p.Text)
	}
}
