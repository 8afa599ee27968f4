package host

import "github.com/wasmpool/wasmpool/host/inspect"

// WazeroVersion returns the version of the wazero runtime built into this
// program, or "unknown".
func WazeroVersion() string { return inspect.WazeroVersion() }
