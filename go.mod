module github.com/wasmpool/wasmpool

go 1.26.0

require (
	github.com/rogpeppe/go-internal v1.14.1
	github.com/tetratelabs/wazero v1.12.0
	golang.org/x/sys v0.50.0
)

require golang.org/x/tools v0.26.0 // indirect
