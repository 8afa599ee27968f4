//go:build linux

package guestfs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"
)

// dirFS is one grant: every path is resolved beneath root by the kernel.
type dirFS struct {
	experimentalsys.UnimplementedFS
	root     int // O_PATH descriptor of the grant's directory
	readOnly bool
	host     string // for messages only, never opened again
}

// openat2 is unix.Openat2; tests replace it to play an old kernel.
var openat2 = unix.Openat2

// open opens the grant's directory and checks that the kernel can resolve
// paths beneath it.
func open(host string, readOnly bool) (experimentalsys.FS, error) {
	root, err := unix.Open(host, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("guestfs: %w", &os.PathError{Op: "open", Path: host, Err: err})
	}
	fd, err := openat2(root, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve})
	switch err {
	case nil:
		unix.Close(fd)
	case unix.ENOSYS, unix.EPERM:
		unix.Close(root)
		return nil, fmt.Errorf("%w (granting %s: %v)", ErrNoOpenat2, host, err)
	default:
		unix.Close(root)
		return nil, fmt.Errorf("guestfs: %w", &os.PathError{Op: "openat2", Path: host, Err: err})
	}
	return &dirFS{root: root, readOnly: readOnly, host: host}, nil
}

func closeFS(f experimentalsys.FS) { unix.Close(f.(*dirFS).root) }

func (d *dirFS) String() string { return d.host }

const resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS

// beneath opens name relative to dir with the kernel's guarantee that the
// walk never leaves dir. The kernel answers EAGAIN when a rename raced a
// ".." it walked; the walk is then simply tried again.
func beneath(dir int, name string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve}
	if flags&unix.O_CREAT != 0 {
		how.Mode = uint64(mode)
	}
	for tries := 0; ; tries++ {
		fd, err := openat2(dir, name, &how)
		if err == unix.EINTR || err == unix.EAGAIN && tries < 100 {
			continue
		}
		return fd, err
	}
}

// rel turns the path wazero hands over (cleaned, relative, or with a
// leading "/" when it joins a directory's name and a path) into one for
// openat2, which refuses absolute paths beneath a directory.
func rel(p string) string {
	if p = strings.TrimLeft(p, "/"); p == "" {
		return "."
	}
	return p
}

// entry is a path's last element and the directory that holds it.
type entry struct {
	dir   int    // the parent directory, opened beneath the root
	name  string // one element: no "/", never ".."; "." when the path names a directory by itself
	slash bool   // the path ended in "/": the entry must be a directory
	own   bool   // dir was opened for this entry and must be closed
}

// entry opens the parent of p's last element beneath the root.
func (d *dirFS) entry(p string) (entry, experimentalsys.Errno) {
	whole := strings.TrimLeft(p, "/")
	p = strings.TrimRight(whole, "/")
	e := entry{dir: d.root, name: p, slash: len(p) < len(whole)}
	dir := "."
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, e.name = p[:i], p[i+1:]
	}
	switch e.name {
	case "", ".", "..":
		// The path names a directory by itself (the root, "a/..").
		// Resolve all of it and name the entry ".", which the *at calls
		// take as the directory itself.
		dir, e.name = rel(p), "."
	}
	if dir == "." {
		return e, 0
	}
	fd, err := beneath(d.root, dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return entry{}, errno(err)
	}
	e.dir, e.own = fd, true
	return e, 0
}

func (e entry) close() {
	if e.own {
		unix.Close(e.dir)
	}
}

// at runs f on p's entry.
func (d *dirFS) at(p string, f func(e entry) error) experimentalsys.Errno {
	e, en := d.entry(p)
	if en != 0 {
		return en
	}
	defer e.close()
	return errno(ignoringEINTR(func() error { return f(e) }))
}

// at2 runs f on the entries of two paths.
func (d *dirFS) at2(p1, p2 string, f func(e1, e2 entry) error) experimentalsys.Errno {
	return d.at(p1, func(e1 entry) error {
		e2, en := d.entry(p2)
		if en != 0 {
			return en
		}
		defer e2.close()
		return f(e1, e2)
	})
}

// lstat is fstatat of the entry itself, never following it.
func (e entry) lstat() (unix.Stat_t, error) {
	var st unix.Stat_t
	err := ignoringEINTR(func() error { return unix.Fstatat(e.dir, e.name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	return st, err
}

// isDir reports whether the entry is a directory itself (not a symlink to one).
func (e entry) isDir() (bool, error) {
	st, err := e.lstat()
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR, err
}

// withFD resolves all of p, following symlinks beneath the root, to an
// O_PATH descriptor and runs f on it.
func (d *dirFS) withFD(p string, f func(fd int) error) experimentalsys.Errno {
	fd, err := beneath(d.root, rel(p), unix.O_PATH, 0)
	if err != nil {
		return errno(err)
	}
	defer unix.Close(fd)
	return errno(ignoringEINTR(func() error { return f(fd) }))
}

// OpenFile implements experimentalsys.FS.
func (d *dirFS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if d.readOnly && writes(flag) {
		return nil, experimentalsys.EROFS
	}
	fd, err := beneath(d.root, rel(p), openFlags(flag), unixMode(perm))
	if err != nil {
		return nil, errno(err)
	}
	return newFile(fd, flag, d.readOnly), 0
}

// Stat implements experimentalsys.FS.
func (d *dirFS) Stat(p string) (st sys.Stat_t, en experimentalsys.Errno) {
	en = d.withFD(p, func(fd int) error {
		var err error
		st, err = fstat(fd)
		return err
	})
	return st, en
}

// Lstat implements experimentalsys.FS.
func (d *dirFS) Lstat(p string) (st sys.Stat_t, en experimentalsys.Errno) {
	if strings.HasSuffix(p, "/") {
		return d.Stat(p) // "link/" names what the link leads to
	}
	en = d.at(p, func(e entry) error {
		ust, err := e.lstat()
		st = toStat(&ust)
		return err
	})
	return st, en
}

// Readlink implements experimentalsys.FS.
func (d *dirFS) Readlink(p string) (target string, en experimentalsys.Errno) {
	if strings.HasSuffix(p, "/") {
		// "link/" is followed, and what it leads to is a directory.
		if en = d.withFD(p, func(int) error { return nil }); en != 0 {
			return "", en
		}
		return "", experimentalsys.EINVAL
	}
	en = d.at(p, func(e entry) error {
		for size := 256; ; size *= 2 {
			b := make([]byte, size)
			n, err := unix.Readlinkat(e.dir, e.name, b)
			if err != nil || n < size {
				target = string(b[:max(n, 0)])
				return err
			}
		}
	})
	return target, en
}

// Mkdir implements experimentalsys.FS.
func (d *dirFS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	en := d.at(p, func(e entry) error { return unix.Mkdirat(e.dir, e.name, unixMode(perm)) })
	if en == experimentalsys.ENOTDIR {
		en = experimentalsys.ENOENT // as wazero's DirFS
	}
	return en
}

// Rmdir implements experimentalsys.FS.
func (d *dirFS) Rmdir(p string) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	return d.at(p, func(e entry) error { return unix.Unlinkat(e.dir, e.name, unix.AT_REMOVEDIR) })
}

// Unlink implements experimentalsys.FS.
func (d *dirFS) Unlink(p string) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	return d.at(p, func(e entry) error {
		if e.slash {
			if dir, err := e.isDir(); err != nil || dir {
				return orErr(err, unix.EISDIR)
			}
			return unix.ENOTDIR
		}
		return unix.Unlinkat(e.dir, e.name, 0)
	})
}

// Rename implements experimentalsys.FS.
func (d *dirFS) Rename(from, to string) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	if from == to {
		return 0 // as wazero's DirFS
	}
	return d.at2(from, to, func(src, dst entry) error {
		if src.slash || dst.slash {
			if dir, err := src.isDir(); err != nil || !dir {
				return orErr(err, unix.ENOTDIR)
			}
		}
		return unix.Renameat(src.dir, src.name, dst.dir, dst.name)
	})
}

// Link implements experimentalsys.FS. The old entry is never followed: a
// link to a symlink is a link to the symlink.
func (d *dirFS) Link(oldPath, newPath string) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	return d.at2(oldPath, newPath, func(old, nu entry) error {
		if old.slash || nu.slash {
			return unix.ENOTDIR
		}
		return unix.Linkat(old.dir, old.name, nu.dir, nu.name, 0)
	})
}

// Symlink implements experimentalsys.FS. The target is stored as given;
// it is only ever resolved beneath the root.
func (d *dirFS) Symlink(target, link string) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	if path.IsAbs(target) {
		return experimentalsys.EPERM // as wazero's DirFS
	}
	return d.at(link, func(e entry) error {
		if e.slash {
			_, err := e.lstat()
			return orErr(err, unix.EEXIST)
		}
		return unix.Symlinkat(target, e.dir, e.name)
	})
}

// Utimens implements experimentalsys.FS: it follows a last symlink, beneath
// the root, and changes what it leads to.
func (d *dirFS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	ts := timespecs(atim, mtim)
	return d.withFD(p, func(fd int) error {
		if ts == nil {
			return nil
		}
		err := unix.UtimesNanoAt(fd, "", ts[:], unix.AT_EMPTY_PATH)
		if err == unix.EINVAL { // a kernel without AT_EMPTY_PATH here
			err = unix.UtimesNanoAt(unix.AT_FDCWD, procFD(fd), ts[:], 0)
		}
		return err
	})
}

// Chmod implements experimentalsys.FS, following a last symlink beneath the
// root.
func (d *dirFS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	if d.readOnly {
		return experimentalsys.EROFS
	}
	return d.withFD(p, func(fd int) error {
		err := unix.Fchmodat(fd, "", unixMode(perm), unix.AT_EMPTY_PATH)
		if err == unix.EOPNOTSUPP || err == unix.EINVAL { // no fchmodat2 (Linux 6.6)
			err = unix.Chmod(procFD(fd), unixMode(perm))
		}
		return err
	})
}

// procFD names descriptor fd itself: the kernel resolves it to the file
// fd holds, not to a path that could have changed.
func procFD(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// writes reports whether opening with flag could change the grant.
func writes(flag experimentalsys.Oflag) bool {
	acc := flag & (experimentalsys.O_RDONLY | experimentalsys.O_WRONLY | experimentalsys.O_RDWR)
	return acc != experimentalsys.O_RDONLY || flag&(experimentalsys.O_CREAT|experimentalsys.O_TRUNC) != 0
}

// openFlags converts wazero's flags to open(2)'s.
func openFlags(flag experimentalsys.Oflag) int {
	var f int
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_WRONLY | experimentalsys.O_RDWR) {
	case experimentalsys.O_WRONLY:
		f = unix.O_WRONLY
	case experimentalsys.O_RDWR:
		f = unix.O_RDWR
	}
	for _, m := range [...]struct {
		w experimentalsys.Oflag
		u int
	}{
		{experimentalsys.O_APPEND, unix.O_APPEND},
		{experimentalsys.O_CREAT, unix.O_CREAT},
		{experimentalsys.O_DIRECTORY, unix.O_DIRECTORY},
		{experimentalsys.O_DSYNC, unix.O_DSYNC},
		{experimentalsys.O_EXCL, unix.O_EXCL},
		{experimentalsys.O_NOFOLLOW, unix.O_NOFOLLOW},
		{experimentalsys.O_NONBLOCK, unix.O_NONBLOCK},
		{experimentalsys.O_RSYNC, unix.O_RSYNC},
		{experimentalsys.O_SYNC, unix.O_SYNC},
		{experimentalsys.O_TRUNC, unix.O_TRUNC},
	} {
		if flag&m.w != 0 {
			f |= m.u
		}
	}
	return f | unix.O_LARGEFILE | unix.O_NOCTTY
}

// specialBits pairs fs.FileMode's setuid, setgid and sticky with st_mode's.
var specialBits = [...]struct {
	fs   fs.FileMode
	unix uint32
}{{fs.ModeSetuid, unix.S_ISUID}, {fs.ModeSetgid, unix.S_ISGID}, {fs.ModeSticky, unix.S_ISVTX}}

// unixMode converts permission bits, with setuid, setgid and sticky.
func unixMode(perm fs.FileMode) uint32 {
	m := uint32(perm.Perm())
	for _, b := range specialBits {
		if perm&b.fs != 0 {
			m |= b.unix
		}
	}
	return m
}

// timespecs converts wazero's times for utimensat; nil means both are
// omitted and nothing changes.
func timespecs(atim, mtim int64) *[2]unix.Timespec {
	if atim == experimentalsys.UTIME_OMIT && mtim == experimentalsys.UTIME_OMIT {
		return nil
	}
	conv := func(t int64) unix.Timespec {
		if t == experimentalsys.UTIME_OMIT {
			return unix.Timespec{Nsec: unix.UTIME_OMIT}
		}
		return unix.NsecToTimespec(t)
	}
	return &[2]unix.Timespec{conv(atim), conv(mtim)}
}

func fstat(fd int) (sys.Stat_t, error) {
	var st unix.Stat_t
	err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) })
	return toStat(&st), err
}

func toStat(st *unix.Stat_t) sys.Stat_t {
	return sys.Stat_t{
		Dev:   uint64(st.Dev),
		Ino:   st.Ino,
		Mode:  fileMode(st.Mode),
		Nlink: uint64(st.Nlink),
		Size:  st.Size,
		Atim:  st.Atim.Nano(),
		Mtim:  st.Mtim.Nano(),
		Ctim:  st.Ctim.Nano(),
	}
}

// fileMode converts st_mode as os.Stat does.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	for _, b := range specialBits {
		if m&b.unix != 0 {
			mode |= b.fs
		}
	}
	return mode
}

// errno maps an error of this package's system calls to the guest's errno.
// EXDEV is the kernel refusing a path that leaves the grant.
func errno(err error) experimentalsys.Errno {
	switch err {
	case nil:
		return 0
	case unix.EXDEV:
		return experimentalsys.EPERM
	}
	if e, ok := err.(experimentalsys.Errno); ok {
		return e
	}
	return experimentalsys.UnwrapOSError(err)
}

// orErr returns err, or otherwise if err is nil.
func orErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}
