package inspect

import (
	"encoding/json"
	"fmt"
)

// ProblemKind sorts the reasons a module cannot run as a kid, so callers
// switch on a kind rather than on the words.
type ProblemKind uint8

const (
	// Malformed: the module breaks the binary format after its header.
	Malformed ProblemKind = iota + 1
	// NoCompile: wazero's compiler refuses the module.
	NoCompile
	// NotCommand: it is not a WASI command: no _start (a library, a
	// reactor), or a _start of another type.
	NotCommand
	// BadImports: it imports what kids do not provide: another WASI
	// version, functions outside WASI preview 1 or of the wrong type, a
	// memory, a table or a global.
	BadImports
	// NoMemory: it imports WASI functions but has no memory for them.
	NoMemory
	// BadSection: its wasmpool section breaks the section format.
	BadSection
)

var kindNames = [...]string{
	Malformed:  "malformed",
	NoCompile:  "compile",
	NotCommand: "command",
	BadImports: "imports",
	NoMemory:   "memory",
	BadSection: "section",
}

// String returns the kind's name in JSON: malformed, compile, command,
// imports, memory or section.
func (k ProblemKind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("ProblemKind(%d)", uint8(k))
}

// MarshalText writes the kind's name.
func (k ProblemKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name; an unknown name reads as 0.
func (k *ProblemKind) UnmarshalText(text []byte) error {
	*k = 0
	for i, name := range kindNames {
		if name != "" && name == string(text) {
			*k = ProblemKind(i)
		}
	}
	return nil
}

// A Problem is one reason a module cannot run as a kid: its kind and a
// sentence that says it ("it exports no _start function: …").
type Problem struct {
	Kind ProblemKind
	Text string
}

func (p Problem) String() string { return p.Text }

// MarshalJSON writes a problem as its text alone, as the problems of
// `wasmpool inspect --json` always were; ModuleInfo adds their kinds in a
// list of their own, problemKinds.
func (p Problem) MarshalJSON() ([]byte, error) { return json.Marshal(p.Text) }

// UnmarshalJSON reads a problem's text; ModuleInfo restores its kind.
func (p *Problem) UnmarshalJSON(b []byte) error {
	p.Kind = 0
	return json.Unmarshal(b, &p.Text)
}

// moduleInfoJSON is ModuleInfo without its methods.
type moduleInfoJSON ModuleInfo

// MarshalJSON writes the module's fields under their JSON names and, after
// problems (their texts), problemKinds: the kind of each, in order.
func (info ModuleInfo) MarshalJSON() ([]byte, error) {
	kinds := make([]ProblemKind, len(info.Problems))
	for i, p := range info.Problems {
		kinds[i] = p.Kind
	}
	return json.Marshal(struct {
		moduleInfoJSON
		ProblemKinds []ProblemKind `json:"problemKinds"`
	}{moduleInfoJSON(info), kinds})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (info *ModuleInfo) UnmarshalJSON(b []byte) error {
	v := struct {
		*moduleInfoJSON
		ProblemKinds []ProblemKind `json:"problemKinds"`
	}{moduleInfoJSON: (*moduleInfoJSON)(info)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	for i := range info.Problems {
		if i < len(v.ProblemKinds) {
			info.Problems[i].Kind = v.ProblemKinds[i]
		}
	}
	return nil
}
