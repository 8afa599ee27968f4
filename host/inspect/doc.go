// Package inspect reads WebAssembly modules for wasmpool: their interface
// (imports, exports, memory, custom sections), what would stop them from
// running as a kid, and their wasmpool custom section, which it decodes
// ([ParseSection]) and writes ([SetModuleSection]).
//
//	info, err := inspect.Inspect(ctx, "filter.wasm")
//	if err != nil {
//		return err // unreadable, or not a WebAssembly core module at all
//	}
//	for _, p := range info.Problems {
//		switch p.Kind {
//		case inspect.BadImports, inspect.NotCommand:
//			log.Printf("rebuild it: %s", p.Text)
//		case inspect.BadSection:
//			log.Printf("fix its wasmpool section: %s", p.Text)
//		}
//	}
//	if d := info.Described; d != nil {
//		fmt.Println("framing", d.Framing, "one-to-one", d.OneToOne, "session", info.Session)
//	}
//
// The package holds wasmpool's one reader of the binary format: the header
// check ([CheckHeader], with words for components, other versions and text
// modules), the section walk and LEB128. Package host and the wasmpool
// command read modules through it. Inspect also compiles the module with
// wazero, the runtime kids use, to time the compile and catch what only
// the compiler sees; InspectInterface skips that and takes milliseconds.
// No wazero type appears in its API.
//
// The wasmpool section's format is specified in the documentation of
// package abi; this package is its codec.
package inspect
