// Command fsguest is the guest of guestfs's tests, run with a grant
// mounted at /g (or /ro):
//
//	fsguest swap               swap /g/link between "safe" and "../outside" until /g/stop exists
//	fsguest open N DURATION    open and create through /g/link N times and for DURATION at least
//	fsguest rofs               try every write in /ro, print each error
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const canary = "CANARY"

func main() {
	switch os.Args[1] {
	case "swap":
		swap()
	case "open":
		n, _ := strconv.Atoi(os.Args[2])
		d, _ := time.ParseDuration(os.Args[3])
		open(n, d)
	case "rofs":
		rofs()
	}
}

func swap() {
	rounds := 0
	for ; ; rounds++ {
		if _, err := os.Lstat("/g/stop"); err == nil {
			break
		}
		for i, target := range []string{"safe", "../outside"} {
			tmp := "/g/.link" + strconv.Itoa(i)
			os.Remove(tmp)
			if err := os.Symlink(target, tmp); err != nil {
				fail(err)
			}
			if err := os.Rename(tmp, "/g/link"); err != nil {
				fail(err)
			}
		}
	}
	fmt.Printf("swaps=%d\n", rounds)
}

// open reads and creates through /g/link until it has made n calls, run
// for d, and seen both sides of the race; it prints its counts.
func open(n int, d time.Duration) {
	var tried, leaks, inside, refused, other int
	var firstOther string
	count := func(err error) bool {
		tried++
		switch {
		case err == nil:
			inside++
			return true
		case errors.Is(err, fs.ErrPermission):
			refused++
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrExist):
		default:
			if other++; other == 1 {
				firstOther = err.Error()
			}
		}
		return false
	}
	start := time.Now()
	capped := false
	for i := 0; tried < n || time.Since(start) < d || inside == 0 || refused == 0; i++ {
		if time.Since(start) > d+time.Minute {
			capped = true
			break
		}
		switch i % 3 {
		case 0, 1:
			b, err := os.ReadFile("/g/link/f")
			if count(err) && strings.HasPrefix(string(b), canary) {
				leaks++
			}
		case 2:
			name := "n-" + strconv.Itoa(i)
			f, err := os.OpenFile("/g/link/"+name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if count(err) {
				f.Write([]byte("w"))
				f.Close()
				os.Remove("/g/safe/" + name)
			}
		}
	}
	fmt.Printf("tried=%d leaks=%d inside=%d refused=%d other=%d capped=%v first_other=%q\n",
		tried, leaks, inside, refused, other, capped, firstOther)
}

// rofs prints "call: errno" for each write tried in the read-only /ro.
func rofs() {
	if b, err := os.ReadFile("/ro/f"); err != nil || len(b) == 0 {
		fmt.Printf("read: %v\n", err)
	} else {
		fmt.Printf("read: ok\n")
	}
	calls := []struct {
		name string
		do   func() error
	}{
		{"create", func() error { return os.WriteFile("/ro/new", []byte("x"), 0o644) }},
		{"open for writing", func() error { f, err := os.OpenFile("/ro/f", os.O_WRONLY, 0); f.Close(); return err }},
		{"open to append", func() error { f, err := os.OpenFile("/ro/f", os.O_WRONLY|os.O_APPEND, 0); f.Close(); return err }},
		{"truncate", func() error { return os.Truncate("/ro/f", 0) }},
		{"mkdir", func() error { return os.Mkdir("/ro/d", 0o755) }},
		{"remove", func() error { return os.Remove("/ro/f") }},
		{"rmdir", func() error { return syscall.Rmdir("/ro/sub") }},
		{"rename", func() error { return os.Rename("/ro/f", "/ro/g") }},
		{"symlink", func() error { return os.Symlink("f", "/ro/l") }},
		{"link", func() error { return os.Link("/ro/f", "/ro/h") }},
		{"chtimes", func() error { return os.Chtimes("/ro/f", time.Unix(1, 0), time.Unix(1, 0)) }},
	}
	for _, c := range calls {
		err := c.do()
		var errno syscall.Errno
		if errors.As(err, &errno) {
			fmt.Printf("%s: %s\n", c.name, errnoName(errno))
		} else {
			fmt.Printf("%s: %v\n", c.name, err)
		}
	}
}

func errnoName(e syscall.Errno) string {
	switch e {
	case syscall.EROFS:
		return "EROFS"
	case syscall.ENOSYS:
		return "ENOSYS"
	case syscall.EPERM:
		return "EPERM"
	case syscall.EACCES:
		return "EACCES"
	case syscall.EBADF:
		return "EBADF"
	}
	return e.Error()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
