//go:build !linux

package guestfs

import experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

func open(string, bool) (experimentalsys.FS, error) { return nil, ErrUnsupported }

func closeFS(experimentalsys.FS) {}
