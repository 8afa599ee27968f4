// Package exampletest holds what the tests of the grep-like examples
// (examples/gl, examples/grl, examples/only) share: the Go guest built once
// with a compilation cache ([Main], [Env]), the generated file tree with
// needles ([NeedleTree]) or any tree made once ([Once]), the references
// ([Entries], [Grep]), and running a pool or the example's program and
// comparing paths ([RunPool], [RunProgram], [SamePaths], [OneLineEach]).
// The examples' programs do not use it: they are meant to be read alone.
//
//	var env exampletest.Env
//
//	func TestMain(m *testing.M) { exampletest.Main(m, &env, "github.com/wasmpool/wasmpool/examples/gl/guest") }
//
//	var tree = exampletest.NeedleTree{Seed: [2]uint64{5, 6}, Names: …, Dirs: …}
//
//	func TestProgram(t *testing.T) {
//		root := tree.Root(t, env.Dir)
//		got := exampletest.RunProgram(t, run, "-wasm", env.Guest, "-cache", env.Cache, "-0", exampletest.Needle, root)
//		exampletest.SamePaths(t, got, exampletest.Grep(t, exampletest.Needle, root))
//	}
package exampletest
