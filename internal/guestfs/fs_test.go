//go:build linux

package guestfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"golang.org/x/sys/unix"
)

const canary = "CANARY: outside the grant\n"

// tree makes base/grant (the grant, with a file f and a directory sub) and
// base/outside (with canary files that no call may reach).
func tree(t *testing.T) (base, grant, outside string) {
	t.Helper()
	base = t.TempDir()
	grant, outside = filepath.Join(base, "grant"), filepath.Join(base, "outside")
	for _, d := range []string{grant, outside, filepath.Join(grant, "sub"), filepath.Join(outside, "cdir")} {
		must(t, os.MkdirAll(d, 0o755))
	}
	must(t, os.WriteFile(filepath.Join(grant, "f"), []byte("inside\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(grant, "sub", "g"), []byte("sub\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(outside, "canary"), []byte(canary), 0o644))
	must(t, os.Symlink("canary", filepath.Join(outside, "clink")))
	return base, grant, outside
}

func mount(t *testing.T, host string, readOnly bool) *dirFS {
	t.Helper()
	f, err := open(host, readOnly)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFS(f) })
	return f.(*dirFS)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ok(t *testing.T, what string, en experimentalsys.Errno) {
	t.Helper()
	if en != 0 {
		t.Fatalf("%s: %v", what, en)
	}
}

func readAll(t *testing.T, d *dirFS, p string) (string, experimentalsys.Errno) {
	t.Helper()
	f, en := d.OpenFile(p, experimentalsys.O_RDONLY, 0)
	if en != 0 {
		return "", en
	}
	defer f.Close()
	var b []byte
	buf := make([]byte, 4096)
	for {
		n, en := f.Read(buf)
		if en != 0 {
			return string(b), en
		}
		if n == 0 {
			return string(b), 0
		}
		b = append(b, buf[:n]...)
	}
}

func write(t *testing.T, d *dirFS, p string, flag experimentalsys.Oflag, data string) {
	t.Helper()
	f, en := d.OpenFile(p, flag, 0o644)
	ok(t, "open "+p, en)
	defer f.Close()
	_, en = f.Write([]byte(data))
	ok(t, "write "+p, en)
}

func wantFile(t *testing.T, d *dirFS, p, want string) {
	t.Helper()
	got, en := readAll(t, d, p)
	if en != 0 || got != want {
		t.Fatalf("%s: got %q, %v; want %q", p, got, en, want)
	}
}

func wantErrno(t *testing.T, what string, got, want experimentalsys.Errno) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func names(t *testing.T, d *dirFS, p string, n int) []string {
	t.Helper()
	f, en := d.OpenFile(p, experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	ok(t, "open "+p, en)
	defer f.Close()
	var out []string
	for {
		ents, en := f.Readdir(n)
		ok(t, "readdir "+p, en)
		for _, e := range ents {
			out = append(out, e.Name)
		}
		if n <= 0 || len(ents) < n {
			break
		}
	}
	slices.Sort(out)
	return out
}

const (
	rdonly = experimentalsys.O_RDONLY
	rdwr   = experimentalsys.O_RDWR
	wronly = experimentalsys.O_WRONLY
	creat  = experimentalsys.O_CREAT
	excl   = experimentalsys.O_EXCL
	trunc  = experimentalsys.O_TRUNC
	appnd  = experimentalsys.O_APPEND
	isdir  = experimentalsys.O_DIRECTORY
	nofol  = experimentalsys.O_NOFOLLOW
)

// TestOrdinary: what a guest does inside its grant keeps working.
func TestOrdinary(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, d *dirFS, grant string)
	}{
		{"create, write, read back", func(t *testing.T, d *dirFS, grant string) {
			write(t, d, "new", rdwr|creat|excl, "hello")
			wantFile(t, d, "new", "hello")
			b, _ := os.ReadFile(filepath.Join(grant, "new"))
			if string(b) != "hello" {
				t.Errorf("on the host: %q", b)
			}
		}},
		{"paths as wazero joins them", func(t *testing.T, d *dirFS, _ string) {
			wantFile(t, d, "/sub/g", "sub\n")
			wantFile(t, d, "sub//g", "sub\n")
			wantFile(t, d, "./sub/./g", "sub\n")
			for _, root := range []string{"", ".", "/"} {
				st, en := d.Stat(root)
				if en != 0 || !st.Mode.IsDir() {
					t.Errorf("Stat(%q): %v %v", root, st.Mode, en)
				}
			}
		}},
		{"O_EXCL on an existing file", func(t *testing.T, d *dirFS, _ string) {
			_, en := d.OpenFile("f", wronly|creat|excl, 0o644)
			wantErrno(t, "O_EXCL", en, experimentalsys.EEXIST)
		}},
		{"append, and SetAppend", func(t *testing.T, d *dirFS, _ string) {
			write(t, d, "log", wronly|creat|appnd, "a")
			write(t, d, "log", wronly|appnd, "b")
			wantFile(t, d, "log", "ab")
			f, en := d.OpenFile("log", rdwr, 0)
			ok(t, "open", en)
			defer f.Close()
			if f.IsAppend() {
				t.Error("IsAppend without O_APPEND")
			}
			ok(t, "SetAppend", f.SetAppend(true))
			_, en = f.Write([]byte("c"))
			ok(t, "write", en)
			ok(t, "SetAppend(false)", f.SetAppend(false))
			_, en = f.Pwrite([]byte("X"), 0)
			ok(t, "pwrite", en)
			wantFile(t, d, "log", "Xbc")
		}},
		{"O_TRUNC and Truncate", func(t *testing.T, d *dirFS, _ string) {
			write(t, d, "f", wronly|trunc, "12345")
			f, en := d.OpenFile("f", rdwr, 0)
			ok(t, "open", en)
			ok(t, "truncate", f.Truncate(2))
			wantErrno(t, "truncate -1", f.Truncate(-1), experimentalsys.EINVAL)
			f.Close()
			wantFile(t, d, "f", "12")
		}},
		{"O_DIRECTORY on a file", func(t *testing.T, d *dirFS, _ string) {
			_, en := d.OpenFile("f", rdonly|isdir, 0)
			wantErrno(t, "O_DIRECTORY", en, experimentalsys.ENOTDIR)
		}},
		{"a directory opened for writing", func(t *testing.T, d *dirFS, _ string) {
			_, en := d.OpenFile("sub", rdwr, 0)
			wantErrno(t, "O_RDWR dir", en, experimentalsys.EISDIR)
		}},
		{"O_NOFOLLOW on a symlink", func(t *testing.T, d *dirFS, _ string) {
			ok(t, "symlink", d.Symlink("f", "l"))
			_, en := d.OpenFile("l", rdonly|nofol, 0)
			wantErrno(t, "O_NOFOLLOW", en, experimentalsys.ELOOP)
		}},
		{"rename a file, over a file, a directory", func(t *testing.T, d *dirFS, _ string) {
			ok(t, "rename", d.Rename("f", "sub/f2"))
			wantFile(t, d, "sub/f2", "inside\n")
			ok(t, "rename over", d.Rename("sub/f2", "sub/g"))
			wantFile(t, d, "sub/g", "inside\n")
			ok(t, "rename dir", d.Rename("sub", "moved"))
			wantFile(t, d, "moved/g", "inside\n")
			ok(t, "rename dir/", d.Rename("moved/", "sub/"))
			ok(t, "rename to itself", d.Rename("sub", "sub"))
			_, en := d.Stat("sub/g")
			ok(t, "stat after renames", en)
		}},
		{"readdir: names, types, inodes, in pieces, rewound", func(t *testing.T, d *dirFS, grant string) {
			for i := range 300 {
				write(t, d, "sub/"+strings.Repeat("x", 50)+string(rune('a'+i%26))+strings.Repeat("y", i/26), rdwr|creat, "")
			}
			ok(t, "mkdir", d.Mkdir("sub/dir", 0o755))
			ok(t, "symlink", d.Symlink("g", "sub/link"))
			want, _ := os.ReadDir(filepath.Join(grant, "sub"))
			var wantNames []string
			for _, e := range want {
				wantNames = append(wantNames, e.Name())
			}
			for _, n := range []int{0, 1, 7, 1000} {
				if got := names(t, d, "sub", n); !slices.Equal(got, wantNames) {
					t.Errorf("Readdir(%d): %d names, want %d", n, len(got), len(wantNames))
				}
			}
			f, en := d.OpenFile("sub", rdonly|isdir, 0)
			ok(t, "open", en)
			defer f.Close()
			first, en := f.Readdir(5)
			ok(t, "readdir", en)
			_, en = f.Seek(0, io.SeekStart)
			ok(t, "rewind", en)
			again, en := f.Readdir(5)
			ok(t, "readdir again", en)
			if !slices.Equal(first, again) {
				t.Errorf("after rewind: %v, want %v", again, first)
			}
			_, en = f.Seek(3, io.SeekStart)
			wantErrno(t, "seek a dir", en, experimentalsys.EISDIR)
			all, en := f.Readdir(-1)
			ok(t, "readdir rest", en)
			for _, e := range append(first, all...) {
				st, en := d.Lstat("sub/" + e.Name)
				ok(t, "lstat", en)
				if st.Ino != e.Ino || st.Mode.Type() != e.Type {
					t.Errorf("%s: dirent ino %d type %v, lstat %d %v", e.Name, e.Ino, e.Type, st.Ino, st.Mode.Type())
				}
			}
		}},
		{"symlinks that stay inside", func(t *testing.T, d *dirFS, _ string) {
			ok(t, "symlink", d.Symlink("sub/g", "l"))
			ok(t, "symlink up", d.Symlink("../f", "sub/up"))
			ok(t, "symlink down up", d.Symlink("sub/../sub/./g", "du"))
			ok(t, "chain", d.Symlink("l", "l2"))
			ok(t, "dir link", d.Symlink("sub", "dl"))
			ok(t, "dir link up", d.Symlink("..", "sub/parent"))
			wantFile(t, d, "l", "sub\n")
			wantFile(t, d, "sub/up", "inside\n")
			wantFile(t, d, "du", "sub\n")
			wantFile(t, d, "l2", "sub\n")
			wantFile(t, d, "dl/g", "sub\n")
			wantFile(t, d, "sub/parent/f", "inside\n")
			wantFile(t, d, "dl/parent/dl/up", "inside\n")
			target, en := d.Readlink("l")
			if en != 0 || target != "sub/g" {
				t.Errorf("readlink: %q %v", target, en)
			}
			lst, en := d.Lstat("l")
			ok(t, "lstat", en)
			st, en := d.Stat("l")
			ok(t, "stat", en)
			if lst.Mode.Type() != fs.ModeSymlink || !st.Mode.IsRegular() {
				t.Errorf("lstat %v, stat %v", lst.Mode, st.Mode)
			}
			if st, en := d.Lstat("dl/"); en != 0 || !st.Mode.IsDir() {
				t.Errorf("lstat dl/: %v %v", st.Mode, en)
			}
			write(t, d, "dl/new", rdwr|creat, "via link")
			wantFile(t, d, "sub/new", "via link")
			ok(t, "mkdir through a link", d.Mkdir("dl/made", 0o755))
			ok(t, "rename through links", d.Rename("dl/new", "sub/parent/new"))
			wantFile(t, d, "new", "via link")
		}},
		{"hard link", func(t *testing.T, d *dirFS, _ string) {
			ok(t, "link", d.Link("f", "sub/hl"))
			st, en := d.Stat("f")
			ok(t, "stat", en)
			if st.Nlink != 2 {
				t.Errorf("nlink %d", st.Nlink)
			}
			wantFile(t, d, "sub/hl", "inside\n")
		}},
		{"utimens by path, through a symlink, and by file", func(t *testing.T, d *dirFS, _ string) {
			ok(t, "utimens", d.Utimens("f", 1e9, 2e9))
			st, _ := d.Stat("f")
			if st.Atim != 1e9 || st.Mtim != 2e9 {
				t.Errorf("times %d %d", st.Atim, st.Mtim)
			}
			ok(t, "utimens omit", d.Utimens("f", experimentalsys.UTIME_OMIT, 3e9))
			st, _ = d.Stat("f")
			if st.Atim != 1e9 || st.Mtim != 3e9 {
				t.Errorf("times after omit %d %d", st.Atim, st.Mtim)
			}
			ok(t, "symlink", d.Symlink("f", "l"))
			lbefore, _ := d.Lstat("l")
			ok(t, "utimens link", d.Utimens("l", 5e9, 6e9))
			st, _ = d.Stat("f")
			lafter, _ := d.Lstat("l")
			if st.Mtim != 6e9 || lafter.Mtim != lbefore.Mtim {
				t.Errorf("through a link: target %d, link %d→%d", st.Mtim, lbefore.Mtim, lafter.Mtim)
			}
			f, en := d.OpenFile("sub", rdonly|isdir, 0)
			ok(t, "open", en)
			ok(t, "file utimens", f.Utimens(7e9, 8e9))
			f.Close()
			st, _ = d.Stat("sub")
			if st.Mtim != 8e9 {
				t.Errorf("dir mtim %d", st.Mtim)
			}
		}},
		{"chmod, also through a symlink", func(t *testing.T, d *dirFS, _ string) {
			ok(t, "chmod", d.Chmod("f", 0o600))
			ok(t, "symlink", d.Symlink("sub", "dl"))
			ok(t, "chmod dir link", d.Chmod("dl", 0o700))
			for p, want := range map[string]fs.FileMode{"f": 0o600, "sub": fs.ModeDir | 0o700} {
				if st, _ := d.Stat(p); st.Mode != want {
					t.Errorf("%s: %v, want %v", p, st.Mode, want)
				}
			}
		}},
		{"remove a tree", func(t *testing.T, d *dirFS, grant string) {
			for _, p := range []string{"t", "t/a", "t/a/b", "t/c"} {
				ok(t, "mkdir "+p, d.Mkdir(p, 0o755))
			}
			write(t, d, "t/a/b/x", wronly|creat, "x")
			ok(t, "symlink", d.Symlink("../../f", "t/a/y"))
			wantErrno(t, "rmdir non-empty", d.Rmdir("t"), experimentalsys.ENOTEMPTY)
			wantErrno(t, "unlink a dir", d.Unlink("t/c"), experimentalsys.EISDIR)
			wantErrno(t, "rmdir a file", d.Rmdir("t/a/b/x"), experimentalsys.ENOTDIR)
			var remove func(p string)
			remove = func(p string) {
				f, en := d.OpenFile(p, rdonly|isdir, 0)
				ok(t, "open "+p, en)
				ents, en := f.Readdir(-1)
				ok(t, "readdir "+p, en)
				f.Close()
				for _, e := range ents {
					if e.IsDir() {
						remove(p + "/" + e.Name)
					} else {
						ok(t, "unlink", d.Unlink(p+"/"+e.Name))
					}
				}
				ok(t, "rmdir "+p, d.Rmdir(p+"/"))
			}
			remove("t")
			if _, err := os.Lstat(filepath.Join(grant, "t")); !os.IsNotExist(err) {
				t.Errorf("tree still there: %v", err)
			}
			wantFile(t, d, "f", "inside\n")
		}},
		{"mkdir errors", func(t *testing.T, d *dirFS, _ string) {
			wantErrno(t, "existing", d.Mkdir("sub", 0o755), experimentalsys.EEXIST)
			wantErrno(t, "missing parent", d.Mkdir("nope/x", 0o755), experimentalsys.ENOENT)
			wantErrno(t, "the root", d.Mkdir("", 0o755), experimentalsys.EEXIST)
			ok(t, "trailing slash", d.Mkdir("d/", 0o755))
		}},
		{"trailing slashes", func(t *testing.T, d *dirFS, _ string) {
			_, en := d.Stat("f/")
			wantErrno(t, "stat f/", en, experimentalsys.ENOTDIR)
			_, en = d.Lstat("f/")
			wantErrno(t, "lstat f/", en, experimentalsys.ENOTDIR)
			wantErrno(t, "unlink f/", d.Unlink("f/"), experimentalsys.ENOTDIR)
			wantErrno(t, "rename f/", d.Rename("f/", "g"), experimentalsys.ENOTDIR)
			_, en = d.OpenFile("f/", rdonly, 0)
			wantErrno(t, "open f/", en, experimentalsys.ENOTDIR)
			wantFile(t, d, "f", "inside\n")
		}},
		{"absolute symlink targets are refused", func(t *testing.T, d *dirFS, _ string) {
			wantErrno(t, "symlink /etc", d.Symlink("/etc", "etc"), experimentalsys.EPERM)
		}},
		{"a file: stat, ino, poll, nonblock, close", func(t *testing.T, d *dirFS, _ string) {
			f, en := d.OpenFile("f", rdonly, 0)
			ok(t, "open", en)
			pst, _ := d.Stat("f")
			fst, en := f.Stat()
			ok(t, "fstat", en)
			ino, _ := f.Ino()
			dev, _ := f.Dev()
			dir, _ := f.IsDir()
			if fst.Ino != pst.Ino || ino != pst.Ino || dev != pst.Dev || dir || fst.Size != 7 {
				t.Errorf("stat %+v, path stat %+v, ino %d dev %d dir %v", fst, pst, ino, dev, dir)
			}
			pf := f.(experimentalsys.PollableFile)
			if ready, en := pf.Poll(experimentalsys.POLLIN, 0); !ready || en != 0 {
				t.Errorf("poll: %v %v", ready, en)
			}
			ok(t, "nonblock", pf.SetNonblock(true))
			if !pf.IsNonblock() {
				t.Error("IsNonblock")
			}
			buf := make([]byte, 3)
			if n, en := f.Pread(buf, 2); n != 3 || en != 0 || string(buf) != "sid" {
				t.Errorf("pread: %d %v %q", n, en, buf)
			}
			_, en = f.Write([]byte("x"))
			wantErrno(t, "write a read-only descriptor", en, experimentalsys.EBADF)
			ok(t, "close", f.Close())
			ok(t, "close again", f.Close())
			_, en = f.Read(buf)
			wantErrno(t, "read after close", en, experimentalsys.EBADF)
			_, en = f.Stat()
			wantErrno(t, "stat after close", en, experimentalsys.EBADF)
		}},
		{"a directory file", func(t *testing.T, d *dirFS, _ string) {
			f, en := d.OpenFile(".", rdonly, 0)
			ok(t, "open the root", en)
			defer f.Close()
			if dir, en := f.IsDir(); !dir || en != 0 {
				t.Errorf("IsDir %v %v", dir, en)
			}
			_, en = f.Read(make([]byte, 1))
			wantErrno(t, "read", en, experimentalsys.EISDIR)
			_, en = f.Write([]byte("x"))
			wantErrno(t, "write", en, experimentalsys.EISDIR)
			wantErrno(t, "truncate", f.Truncate(0), experimentalsys.EISDIR)
			ok(t, "sync", f.Sync())
			g, _ := d.OpenFile("f", rdonly, 0)
			defer g.Close()
			_, en = g.Readdir(1)
			wantErrno(t, "readdir a file", en, experimentalsys.EBADF)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, grant, outside := tree(t)
			c.run(t, mount(t, grant, false), grant)
			checkOutside(t, outside)
		})
	}
}

// checkOutside fails if anything outside the grant changed.
func checkOutside(t *testing.T, outside string) {
	t.Helper()
	ents, err := os.ReadDir(outside)
	must(t, err)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if want := []string{"canary", "cdir", "clink"}; !slices.Equal(got, want) {
		t.Errorf("outside the grant: %v, want %v", got, want)
	}
	var st unix.Stat_t
	must(t, unix.Stat(filepath.Join(outside, "canary"), &st))
	b, _ := os.ReadFile(filepath.Join(outside, "canary"))
	if string(b) != canary || st.Mode&0o7777 != 0o644 || st.Nlink != 1 {
		t.Errorf("the canary changed: %q mode %o nlink %d", b, st.Mode, st.Nlink)
	}
	if d, _ := os.ReadDir(filepath.Join(outside, "cdir")); len(d) != 0 {
		t.Errorf("outside/cdir holds %v", d)
	}
}

// TestEscapes: no path, symlink or race of one call leads out of the grant.
func TestEscapes(t *testing.T) {
	EPERM, ENOENT := experimentalsys.EPERM, experimentalsys.ENOENT
	cases := []struct {
		name string
		want experimentalsys.Errno
		do   func(d *dirFS) experimentalsys.Errno
	}{
		{"open ../outside/canary", EPERM, openErr("../outside/canary", rdonly)},
		{"open sub/../../outside/canary", EPERM, openErr("sub/../../outside/canary", rdonly)},
		{"open an absolute symlink", EPERM, openErr("abs", rdonly)},
		{"open through an absolute symlink to a dir", EPERM, openErr("absdir/canary", rdonly)},
		{"open through a symlink to ..", EPERM, openErr("up/outside/canary", rdonly)},
		{"open through a chain of symlinks out", EPERM, openErr("chain1/canary", rdonly)},
		{"open a symlink to a symlink out", EPERM, openErr("out/clink", rdonly)},
		{"create through a dangling symlink", EPERM, openErr("dangling", wronly|creat)},
		{"create through a dangling absolute symlink", EPERM, openErr("danglingabs", wronly|creat)},
		{"create in a symlinked dir out", EPERM, openErr("out/new", wronly|creat|excl)},
		{"truncate through a symlink out", EPERM, openErr("out/canary", wronly|trunc)},
		{"opendir through a symlink out", EPERM, openErr("out", rdonly|isdir)},
		{"stat through a symlink", EPERM, func(d *dirFS) experimentalsys.Errno { _, en := d.Stat("abs"); return en }},
		{"lstat in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { _, en := d.Lstat("out/canary"); return en }},
		{"lstat link/ out", EPERM, func(d *dirFS) experimentalsys.Errno { _, en := d.Lstat("absdir/"); return en }},
		{"readlink in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { _, en := d.Readlink("out/clink"); return en }},
		{"mkdir in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Mkdir("out/newdir", 0o755) }},
		{"rmdir in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Rmdir("out/cdir") }},
		{"unlink in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Unlink("out/canary") }},
		{"unlink ../outside/canary", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Unlink("../outside/canary") }},
		{"rename into a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Rename("f", "out/moved") }},
		{"rename out of a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Rename("out/canary", "stolen") }},
		{"rename ../outside/canary in", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Rename("../outside/canary", "stolen") }},
		{"hard link ../outside/canary", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Link("../outside/canary", "hl") }},
		{"hard link in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Link("out/canary", "hl") }},
		{"hard link into a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Link("f", "out/hl") }},
		{"symlink in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Symlink("x", "out/newlink") }},
		{"utimens through a symlink", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Utimens("abs", 1e9, 1e9) }},
		{"utimens in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Utimens("out/canary", 1e9, 1e9) }},
		{"chmod through a symlink", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Chmod("rel", 0o777) }},
		{"chmod in a symlinked dir out", EPERM, func(d *dirFS) experimentalsys.Errno { return d.Chmod("out/canary", 0o777) }},
		{"a directory renamed out from under", ENOENT, func(d *dirFS) experimentalsys.Errno {
			// The guest holds the directory open; the host moves it out.
			// The guest's paths are resolved from the root again each
			// time, so they no longer reach it.
			f, en := d.OpenFile("mv", rdonly|isdir, 0)
			if en != 0 {
				return en
			}
			defer f.Close()
			if err := os.Rename(filepath.Join(d.host, "mv"), filepath.Join(d.host, "..", "outside", "mv")); err != nil {
				panic(err)
			}
			if en := d.Mkdir("mv/x", 0o755); en != ENOENT {
				return en
			}
			_, en = d.Stat("mv/inmv")
			return en
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, grant, outside := tree(t)
			for link, target := range map[string]string{
				"abs":         filepath.Join(outside, "canary"),
				"absdir":      outside,
				"rel":         "../outside/canary",
				"up":          "..",
				"out":         "../outside",
				"chain1":      "chain2",
				"chain2":      "sub/chain3",
				"sub/chain3":  "../../outside",
				"dangling":    "../outside/new",
				"danglingabs": filepath.Join(outside, "new"),
			} {
				must(t, os.Symlink(target, filepath.Join(grant, link)))
			}
			must(t, os.Mkdir(filepath.Join(grant, "mv"), 0o755))
			must(t, os.WriteFile(filepath.Join(grant, "mv", "inmv"), nil, 0o644))
			got := c.do(mount(t, grant, false))
			wantErrno(t, c.name, got, c.want)
			os.RemoveAll(filepath.Join(outside, "mv"))
			checkOutside(t, outside)
		})
	}
}

func openErr(p string, flag experimentalsys.Oflag) func(d *dirFS) experimentalsys.Errno {
	return func(d *dirFS) experimentalsys.Errno {
		f, en := d.OpenFile(p, flag, 0o644)
		if en == 0 {
			f.Close()
		}
		return en
	}
}

// TestHardLinkToSymlinkOut: a hard link to a symlink that leads out links
// the symlink, not its target, and the new link cannot be followed either.
func TestHardLinkToSymlinkOut(t *testing.T) {
	_, grant, outside := tree(t)
	must(t, os.Symlink(filepath.Join(outside, "canary"), filepath.Join(grant, "abs")))
	d := mount(t, grant, false)
	ok(t, "link", d.Link("abs", "hl"))
	if st, en := d.Lstat("hl"); en != 0 || st.Mode.Type() != fs.ModeSymlink {
		t.Errorf("the new link: %v %v", st.Mode, en)
	}
	_, en := readAll(t, d, "hl")
	wantErrno(t, "open it", en, experimentalsys.EPERM)
	checkOutside(t, outside)
}

// TestMagicLinks: /proc's magic links are refused even inside a grant.
func TestMagicLinks(t *testing.T) {
	d := mount(t, "/proc/self", true)
	for _, p := range []string{"root/etc/passwd", "cwd", "exe", "fd/0", "root"} {
		f, en := d.OpenFile(p, rdonly, 0)
		if en == 0 {
			f.Close()
		}
		wantErrno(t, p, en, experimentalsys.ELOOP)
		_, en = d.Stat(p)
		wantErrno(t, "stat "+p, en, experimentalsys.ELOOP)
	}
	if _, en := readAll(t, d, "status"); en != 0 {
		t.Errorf("an ordinary /proc file: %v", en)
	}
	_, grant, _ := tree(t)
	must(t, os.Symlink("/proc/self/root", filepath.Join(grant, "abs")))
	must(t, os.Symlink("../../../../../../../../proc/self/root", filepath.Join(grant, "rel")))
	g := mount(t, grant, false)
	for _, p := range []string{"abs/etc/passwd", "rel/etc/passwd"} {
		_, en := readAll(t, g, p)
		wantErrno(t, p, en, experimentalsys.EPERM)
	}
}

// TestReadOnly: a read-only grant reads as usual and refuses everything
// that would write with EROFS.
func TestReadOnly(t *testing.T) {
	_, grant, outside := tree(t)
	must(t, os.Symlink("f", filepath.Join(grant, "l")))
	before := snapshot(t, grant)
	d := mount(t, grant, true)
	wantFile(t, d, "f", "inside\n")
	wantFile(t, d, "l", "inside\n")
	if got := names(t, d, ".", 0); !slices.Equal(got, []string{"f", "l", "sub"}) {
		t.Errorf("readdir: %v", got)
	}
	EROFS := experimentalsys.EROFS
	for _, flag := range []experimentalsys.Oflag{wronly, rdwr, rdonly | creat, rdonly | trunc, wronly | creat | excl, wronly | appnd, rdwr | isdir} {
		for _, p := range []string{"f", "new", "sub"} {
			_, en := d.OpenFile(p, flag, 0o644)
			wantErrno(t, "open "+p, en, EROFS)
		}
	}
	for name, en := range map[string]experimentalsys.Errno{
		"mkdir":        d.Mkdir("new", 0o755),
		"rmdir":        d.Rmdir("sub"),
		"unlink":       d.Unlink("f"),
		"rename":       d.Rename("f", "g"),
		"link":         d.Link("f", "g"),
		"symlink":      d.Symlink("f", "g"),
		"utimens":      d.Utimens("f", 1e9, 1e9),
		"utimens link": d.Utimens("l", 1e9, 1e9),
		"chmod":        d.Chmod("f", 0o777),
	} {
		wantErrno(t, name, en, EROFS)
	}
	f, en := d.OpenFile("f", rdonly, 0)
	ok(t, "open", en)
	wantErrno(t, "file utimens", f.Utimens(1e9, 1e9), EROFS)
	_, en = f.Write([]byte("x"))
	wantErrno(t, "file write", en, experimentalsys.EBADF)
	_, en = f.Pwrite([]byte("x"), 0)
	wantErrno(t, "file pwrite", en, experimentalsys.EBADF)
	wantErrno(t, "file truncate", f.Truncate(0), experimentalsys.EBADF)
	f.Close()
	if after := snapshot(t, grant); after != before {
		t.Errorf("the grant changed:\n%s\nwas\n%s", after, before)
	}
	checkOutside(t, outside)
}

// snapshot describes a tree: names, modes, sizes, times.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	must(t, filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		b.WriteString(p + " " + info.Mode().String() + " " + info.ModTime().String() + "\n")
		return nil
	}))
	return b.String()
}

// TestOldKernel: without openat2 Mount says what the kernel lacks.
func TestOldKernel(t *testing.T) {
	defer func(f func(int, string, *unix.OpenHow) (int, error)) { openat2 = f }(openat2)
	openat2 = func(int, string, *unix.OpenHow) (int, error) { return -1, unix.ENOSYS }
	_, err := Mount([]Grant{{Host: t.TempDir(), Guest: "/x"}})
	if !errors.Is(err, ErrNoOpenat2) || !strings.Contains(err.Error(), "Linux 5.6") {
		t.Errorf("got %v", err)
	}
}

// TestMountErrors: a grant that cannot be opened is named.
func TestMountErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o644))
	for _, host := range []string{"/does/not/exist", file} {
		if _, err := Mount([]Grant{{Host: t.TempDir(), Guest: "/a"}, {Host: host, Guest: "/b"}}); err == nil || !strings.Contains(err.Error(), host) {
			t.Errorf("%s: %v", host, err)
		}
	}
}
