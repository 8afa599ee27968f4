package kidside

import (
	"github.com/tetratelabs/wazero"

	"github.com/wasmpool/wasmpool/internal/guestfs"
)

// mountDirs grants the guest its directories. Package guestfs resolves
// every path beneath a descriptor held for each grant, so no symlink or
// rename, however raced, leads out of one (see RATIONALE.md).
func mountDirs(dirs []Dir) (wazero.FSConfig, error) {
	grants := make([]guestfs.Grant, len(dirs))
	for i, d := range dirs {
		grants[i] = guestfs.Grant{Host: d.Host, Guest: d.Guest, ReadOnly: d.ReadOnly}
	}
	return guestfs.Mount(grants)
}
