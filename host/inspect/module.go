package inspect

import (
	"fmt"
	"slices"
	"strings"
)

// parsedModule is the interface of a module, read without wazero so that
// modules wazero refuses can still be described.
type parsedModule struct {
	imports []Import
	exports []Export
	memory  *Memory
	customs []CustomSection
}

var valTypes = map[byte]string{0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref"}

func (r *reader) limits() (min, max uint64, hasMax, shared, is64 bool) {
	flags := r.byte()
	if flags > 7 {
		r.off-- // point at it
		r.fail("bad limits")
		return
	}
	hasMax, shared, is64 = flags&1 != 0, flags&2 != 0, flags&4 != 0
	bits := uint(32)
	if is64 {
		bits = 64
	}
	min = r.uleb(bits)
	if hasMax {
		max = r.uleb(bits)
	}
	return
}

var kinds = []string{"func", "table", "memory", "global", "tag"}

// parseModule reads the sections that make a module's interface, after a
// header CheckHeader passed. It returns what it could read before any
// error, the sections the walk found (all of them when only a section's
// body is malformed) and the first error, a *FormatError wrapping
// ErrMalformed.
func parseModule(code []byte) (parsedModule, []section, error) {
	var m parsedModule
	var types []string // "" for a type that is not a function type
	var funcs []int    // type index of each function, imports first
	var exportedMem []string
	secs, err := sections("", code)
	for _, s := range secs {
		r := &reader{b: s.body, base: s.bodyAt}
		switch s.id {
		case 0:
			m.customs = append(m.customs, CustomSection{Name: s.name, Size: len(s.content)})
		case 1: // types
			for n := r.count(); n > 0 && r.err == nil; n-- {
				if r.byte() != 0x60 {
					// GC-proposal types: not described further.
					types = append(types, "")
					r.off = len(r.b)
					break
				}
				var sig [2][]string
				for i := range sig {
					for k := r.count(); k > 0 && r.err == nil; k-- {
						t, ok := valTypes[r.byte()]
						if !ok {
							t = "?"
						}
						sig[i] = append(sig[i], t)
					}
				}
				types = append(types, "("+strings.Join(sig[0], ", ")+") -> ("+strings.Join(sig[1], ", ")+")")
			}
		case 2: // imports
			for n := r.count(); n > 0 && r.err == nil; n-- {
				im := Import{Module: r.name(), Name: r.name()}
				kind := r.byte()
				if int(kind) >= len(kinds) {
					r.off-- // point at it
					r.fail("bad import kind")
					break
				}
				im.Kind = kinds[kind]
				switch kind {
				case 0:
					t := int(r.u32())
					funcs = append(funcs, t)
					im.Type = typeAt(types, t)
				case 1:
					ref := valTypes[r.byte()]
					min, max, hasMax, _, _ := r.limits()
					im.Type = ref + " " + limitsText(min, max, hasMax)
				case 2:
					min, max, hasMax, shared, is64 := r.limits()
					m.memory = &Memory{Min: min, Max: max, HasMax: hasMax, Imported: true, Shared: shared, Memory64: is64}
					im.Type = limitsText(min, max, hasMax) + " pages"
				case 3:
					t := valTypes[r.byte()]
					if r.byte() == 1 {
						t = "mut " + t
					}
					im.Type = t
				case 4:
					r.byte()
					im.Type = typeAt(types, int(r.u32()))
				}
				if r.err == nil {
					m.imports = append(m.imports, im)
				}
			}
		case 3: // functions
			for n := r.count(); n > 0 && r.err == nil; n-- {
				funcs = append(funcs, int(r.u32()))
			}
		case 5: // memories
			for n := r.count(); n > 0 && r.err == nil; n-- {
				min, max, hasMax, shared, is64 := r.limits()
				if m.memory == nil && r.err == nil {
					m.memory = &Memory{Min: min, Max: max, HasMax: hasMax, Shared: shared, Memory64: is64}
				}
			}
		case 7: // exports
			for n := r.count(); n > 0 && r.err == nil; n-- {
				e := Export{Name: r.name()}
				kind := r.byte()
				if int(kind) >= len(kinds) {
					r.off-- // point at it
					r.fail("bad export kind")
					break
				}
				idx := int(r.u32())
				e.Kind = kinds[kind]
				switch kind {
				case 0:
					if idx < len(funcs) {
						e.Type = typeAt(types, funcs[idx])
					}
				case 2:
					if idx == 0 {
						exportedMem = append(exportedMem, e.Name)
					}
				}
				if r.err == nil {
					m.exports = append(m.exports, e)
				}
			}
		}
		if r.err != nil {
			fe := r.err.(*FormatError)
			fe.Reason = fmt.Sprintf("section %d: %s", s.id, fe.Reason)
			err = fe
			break
		}
	}
	if m.memory != nil && len(exportedMem) > 0 {
		m.memory.Export = exportedMem[0]
		for i := range m.exports {
			if m.exports[i].Kind == "memory" && slices.Contains(exportedMem, m.exports[i].Name) {
				m.exports[i].Type = limitsText(m.memory.Min, m.memory.Max, m.memory.HasMax) + " pages"
			}
		}
	}
	return m, secs, err
}

func typeAt(types []string, i int) string {
	if i < 0 || i >= len(types) {
		return ""
	}
	return types[i]
}

func limitsText(min, max uint64, hasMax bool) string {
	if hasMax {
		return fmt.Sprintf("%d..%d", min, max)
	}
	return fmt.Sprintf("%d..", min)
}
