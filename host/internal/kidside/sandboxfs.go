package kidside

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// mountDirs grants the guest its directories. wazero's DirFS refuses ".."
// but follows host symlinks wherever they lead, so each grant is wrapped in
// beneathFS, which refuses any path that resolves outside the grant.
func mountDirs(dirs []Dir) (wazero.FSConfig, error) {
	fsc := wazero.NewFSConfig()
	for _, d := range dirs {
		root, err := filepath.EvalSymlinks(d.Host)
		if err != nil {
			return nil, err
		}
		var f experimentalsys.FS = &beneathFS{FS: sysfs.DirFS(root), root: root}
		if d.ReadOnly {
			f = &sysfs.ReadFS{FS: f}
		}
		fsc = fsc.(sysfs.FSConfig).WithSysFSMount(f, d.Guest)
	}
	return fsc, nil
}

// beneathFS checks each path before the host file system sees it: its
// directories, and its last element where the call follows it, must resolve
// to places inside root. A path that leaves root is refused with EACCES; a
// symlink that leads out of root, or leads nowhere, cannot be followed.
//
// The check and the use are two steps: a guest with a writable grant that
// races a symlink swap against its own open could still get through, so
// grant writable directories only to guests you would trust with a
// symlink-free tree. Read-only grants cannot create links.
type beneathFS struct {
	experimentalsys.FS
	root string
}

func (b *beneathFS) inside(path string) bool {
	return path == b.root || strings.HasPrefix(path, b.root+string(filepath.Separator)) || b.root == "/"
}

// check reports EACCES if path escapes root.
func (b *beneathFS) check(path string, followLast bool) experimentalsys.Errno {
	host := filepath.Join(b.root, path)
	if !b.inside(host) {
		return experimentalsys.EACCES
	}
	dir, last := filepath.Dir(host), filepath.Base(host)
	if host == b.root {
		dir, last = host, ""
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return 0 // the directory does not exist: the call itself fails
	}
	if !b.inside(realDir) {
		return experimentalsys.EACCES
	}
	if !followLast || last == "" {
		return 0
	}
	full := filepath.Join(realDir, last)
	st, err := os.Lstat(full)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		return 0
	}
	target, err := filepath.EvalSymlinks(full)
	if err != nil || !b.inside(target) {
		return experimentalsys.EACCES // a dangling link could create a file anywhere
	}
	return 0
}

func (b *beneathFS) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	if e := b.check(path, flag&experimentalsys.O_NOFOLLOW == 0); e != 0 {
		return nil, e
	}
	return b.FS.OpenFile(path, flag, perm)
}

func (b *beneathFS) Lstat(path string) (sys.Stat_t, experimentalsys.Errno) {
	if e := b.check(path, false); e != 0 {
		return sys.Stat_t{}, e
	}
	return b.FS.Lstat(path)
}

func (b *beneathFS) Stat(path string) (sys.Stat_t, experimentalsys.Errno) {
	if e := b.check(path, true); e != 0 {
		return sys.Stat_t{}, e
	}
	return b.FS.Stat(path)
}

func (b *beneathFS) Mkdir(path string, perm fs.FileMode) experimentalsys.Errno {
	return b.then(b.check(path, false), func() experimentalsys.Errno { return b.FS.Mkdir(path, perm) })
}

func (b *beneathFS) Chmod(path string, perm fs.FileMode) experimentalsys.Errno {
	return b.then(b.check(path, true), func() experimentalsys.Errno { return b.FS.Chmod(path, perm) })
}

func (b *beneathFS) Rename(from, to string) experimentalsys.Errno {
	return b.then(b.check2(from, to), func() experimentalsys.Errno { return b.FS.Rename(from, to) })
}

func (b *beneathFS) Rmdir(path string) experimentalsys.Errno {
	return b.then(b.check(path, false), func() experimentalsys.Errno { return b.FS.Rmdir(path) })
}

func (b *beneathFS) Unlink(path string) experimentalsys.Errno {
	return b.then(b.check(path, false), func() experimentalsys.Errno { return b.FS.Unlink(path) })
}

func (b *beneathFS) Link(oldPath, newPath string) experimentalsys.Errno {
	return b.then(b.check2(oldPath, newPath), func() experimentalsys.Errno { return b.FS.Link(oldPath, newPath) })
}

func (b *beneathFS) Symlink(oldPath, linkName string) experimentalsys.Errno {
	return b.then(b.check(linkName, false), func() experimentalsys.Errno { return b.FS.Symlink(oldPath, linkName) })
}

func (b *beneathFS) Readlink(path string) (string, experimentalsys.Errno) {
	if e := b.check(path, false); e != 0 {
		return "", e
	}
	return b.FS.Readlink(path)
}

func (b *beneathFS) Utimens(path string, atim, mtim int64) experimentalsys.Errno {
	return b.then(b.check(path, true), func() experimentalsys.Errno { return b.FS.Utimens(path, atim, mtim) })
}

func (b *beneathFS) check2(p1, p2 string) experimentalsys.Errno {
	if e := b.check(p1, false); e != 0 {
		return e
	}
	return b.check(p2, false)
}

func (b *beneathFS) then(e experimentalsys.Errno, do func() experimentalsys.Errno) experimentalsys.Errno {
	if e != 0 {
		return e
	}
	return do()
}
