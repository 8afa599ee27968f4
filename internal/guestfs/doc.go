// Package guestfs is the guest's file system: the host directories a kid
// grants its guest, served to wazero so that no path the guest names can
// lead outside them, however the guest (or anyone else) changes the tree
// while it runs.
//
//	fsc, err := guestfs.Mount([]guestfs.Grant{
//		{Host: "/srv/in", Guest: "/in", ReadOnly: true},
//		{Host: "/srv/out", Guest: "/out"},
//	})
//	cfg := wazero.NewModuleConfig().WithFSConfig(fsc)
//
// Each grant is a directory descriptor the process holds open. Every path
// operation resolves its path relative to that descriptor with openat2(2)
// and RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, so the kernel, not a check
// made beforehand, keeps the walk inside the grant:
//
//   - Opening and stat resolve the whole path in one openat2 call.
//   - Calls that change or name a directory entry (mkdir, rmdir, unlink,
//     rename, link, symlink, readlink, lstat) open the entry's parent
//     directory that way, then make the *at call on that descriptor with
//     the last element alone, which is never "..", never holds a "/" and
//     is never followed.
//   - Calls that follow a last symlink (stat, utimens, chmod) resolve the
//     whole path to an O_PATH descriptor and act on that descriptor.
//
// Symlinks inside a grant keep working, including relative ones that go
// up and come back ("../b/c"). A symlink with an absolute target, one whose
// ".." leaves the grant, and the /proc magic links are refused: the kernel
// answers EXDEV or ELOOP. EXDEV has no WASI errno in wazero, so the guest
// sees EPERM, the errno wazero itself gives a path with a leading "..":
// one refusal, one error. The guest may create symlinks with relative
// targets that point out (it cannot follow them); absolute targets are
// refused with EPERM, as wazero's own DirFS does.
//
// A read-only grant refuses every call that would write, create or remove
// with EROFS, before any path is resolved: opening with write access,
// O_CREAT or O_TRUNC, mkdir, rmdir, unlink, rename, link, symlink, utimens
// and chmod, and utimens on a file it opened.
//
// guestfs needs Linux 5.6 or later (openat2). [Mount] fails with an error
// wrapping [ErrNoOpenat2] on an older kernel, or where a seccomp filter
// refuses the call. Utimens and chmod through a path act on an O_PATH
// descriptor with AT_EMPTY_PATH where the kernel allows it (fchmodat2:
// Linux 6.6) and otherwise through /proc/self/fd, which names that same
// descriptor. On other systems Mount returns [ErrUnsupported].
//
// The grant descriptors stay open for the life of the process: a kid
// mounts once and runs one guest.
package guestfs
