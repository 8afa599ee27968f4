// Command testguest is the host package's test filter: one module whose
// behaviour its arguments choose, so tests build and compile it once.
//
//	testguest FRAMING ACTION [N] [ARG]
//
// ACTION applies to request number N (from 1; 0 means at start-up), and
// every other request is echoed:
//
//	echo              reply with the request itself
//	twice             reply twice to each request
//	none              reply to nothing
//	panic N           panic on request N
//	exit N CODE       exit with CODE on request N
//	loop N            spin forever on request N
//	sleep N           sleep forever on request N
//	flood N           write unterminated output forever on request N
//	grow N            allocate memory until refused on request N
//	read N PATH       reply with the contents of PATH (or the error)
//	write N PATH      write to PATH and reply "ok" (or the error)
//	env               reply with the guest's environment and args
//	slow N MS         sleep MS milliseconds on every request
//	noread            never read stdin; write replies forever
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"wasmpool/frames"
	"wasmpool/guest"
)

func main() {
	f, err := frames.Parse(os.Args[1])
	if err != nil {
		panic(err)
	}
	action := os.Args[2]
	n := 0
	if len(os.Args) > 3 {
		n, _ = strconv.Atoi(os.Args[3])
	}
	arg := ""
	if len(os.Args) > 4 {
		arg = os.Args[4]
	}
	if action == "noread" {
		for {
			os.Stdout.Write([]byte("x\n"))
		}
	}
	if n == 0 && action != "slow" {
		act(action, arg, nil, nil)
	}
	count := 0
	guest.Serve(f, func(req []byte, w *guest.Replies) error {
		count++
		if action == "slow" {
			time.Sleep(time.Duration(n) * time.Millisecond)
			return w.Reply(req)
		}
		if count == n {
			return act(action, arg, req, w)
		}
		switch action {
		case "twice":
			w.Reply(req)
		case "none":
			return nil
		case "env":
			return w.Reply([]byte(strings.Join(append(os.Environ(), os.Args...), ",")))
		}
		return w.Reply(req)
	})
}

func act(action, arg string, req []byte, w *guest.Replies) error {
	switch action {
	case "panic":
		panic("testguest: asked to panic")
	case "exit":
		code, _ := strconv.Atoi(arg)
		os.Exit(code)
	case "loop":
		for i := 0; ; i++ {
			if i < 0 {
				break
			}
		}
	case "sleep":
		time.Sleep(1000 * time.Hour)
	case "flood":
		chunk := []byte(strings.Repeat("y", 1<<16))
		for {
			os.Stdout.Write(chunk)
		}
	case "grow":
		var hoard [][]byte
		for {
			hoard = append(hoard, make([]byte, 1<<20))
			hoard[len(hoard)-1][0] = 1
		}
	case "read":
		b, err := os.ReadFile(arg)
		if err != nil {
			return w.Reply([]byte("error: " + oneLine(err)))
		}
		return w.Reply([]byte("read: " + oneLine(fmt.Errorf("%q", b))))
	case "write":
		if err := os.WriteFile(arg, []byte("pwned"), 0o644); err != nil {
			return w.Reply([]byte("error: " + oneLine(err)))
		}
		return w.Reply([]byte("ok"))
	}
	if w != nil {
		return w.Reply(req)
	}
	return nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
