package guestfs

import (
	"errors"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// Grant is one host directory given to the guest.
type Grant struct {
	Host     string // directory on the host
	Guest    string // where the guest sees it ("" or "/" is the guest's root)
	ReadOnly bool
}

var (
	// ErrNoOpenat2 is wrapped by Mount's error when the kernel cannot
	// resolve paths beneath a directory.
	ErrNoOpenat2 = errors.New("guestfs: openat2 is not available (needs Linux 5.6 or later, and no seccomp filter refusing it)")
	// ErrUnsupported is Mount's error on systems other than Linux.
	ErrUnsupported = errors.New("guestfs: the guest file system needs Linux (openat2)")
)

// Mount opens each grant's directory and returns the wazero configuration
// that mounts them where the guest sees them.
func Mount(grants []Grant) (wazero.FSConfig, error) {
	fsc := wazero.NewFSConfig()
	var opened []experimentalsys.FS
	for _, g := range grants {
		f, err := open(g.Host, g.ReadOnly)
		if err != nil {
			for _, f := range opened {
				closeFS(f)
			}
			return nil, err
		}
		opened = append(opened, f)
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(f, g.Guest)
	}
	return fsc, nil
}
