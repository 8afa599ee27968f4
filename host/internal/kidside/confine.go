//go:build linux

package kidside

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// confine narrows what this kid process can do, before any guest code runs:
// no privilege gain through exec, no core dumps, few descriptors, and no
// descriptor inherited from the parent's own parent beyond the kid's own.
func confine(lastFD int) {
	unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: maxFiles, Max: maxFiles})
	closeInherited(lastFD)
}

const maxFiles = 256

// closeInherited closes descriptors above lastFD, the kid's own, that
// leaked through exec, sparing those of the Go runtime (event poll, event
// and pid fds).
func closeInherited(lastFD int) {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	self := int(d.Fd())
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd <= lastFD || fd == self {
			continue
		}
		target, err := os.Readlink(filepath.Join("/proc/self/fd", name))
		if err != nil || strings.HasPrefix(target, "anon_inode:") {
			continue
		}
		unix.Close(fd)
	}
	d.Close()
}
