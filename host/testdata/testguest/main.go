// Command testguest is the host package's test filter: one module whose
// behaviour its arguments choose, so tests build and compile it once.
//
//	testguest FRAMING ACTION [ARG]
//
// Every request is echoed, except that ACTION is done for each request
// that starts with '!' (or, for start:ACTION, before reading anything):
//
//	echo          nothing special
//	twice         reply twice
//	none          do not reply
//	panic         panic
//	exit CODE     exit with CODE
//	loop          spin forever
//	sleep         sleep forever
//	flood         write unterminated output forever
//	bighdr        write a lenpfx header announcing 1 GiB, then stop
//	grow          allocate memory until refused
//	read PATH     reply with the contents of PATH, or "error: ..."
//	write PATH    write to PATH and reply "ok", or "error: ..."
//	env           reply with the guest's environment and arguments
//	slow MS       sleep MS milliseconds on every request
//	count         reply to every request with how many this guest has seen
//	noread        (start: only) write replies forever, never read
//
// Without ARG, read and write take the rest of the request after '!'.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func main() {
	f, err := frames.Parse(os.Args[1])
	if err != nil {
		panic(err)
	}
	action, arg := os.Args[2], ""
	if len(os.Args) > 3 {
		arg = os.Args[3]
	}
	if a, ok := strings.CutPrefix(action, "start:"); ok {
		act(a, arg, nil, nil)
	}
	seen := 0
	guest.Serve(f, func(req []byte, w *guest.Replies) error {
		seen++
		switch {
		case action == "count":
			return w.Reply(strconv.AppendInt(nil, int64(seen), 10))
		case action == "slow":
			ms, _ := strconv.Atoi(arg)
			time.Sleep(time.Duration(ms) * time.Millisecond)
		case len(req) > 0 && req[0] == '!':
			return act(action, arg, req, w)
		}
		return w.Reply(req)
	})
}

func act(action, arg string, req []byte, w *guest.Replies) error {
	if arg == "" && len(req) > 1 {
		arg = string(req[1:]) // "!ARG"
	}
	switch action {
	case "twice":
		w.Reply(req)
	case "none":
		return nil
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
	case "bighdr":
		os.Stdout.Write(binary.LittleEndian.AppendUint64(nil, 1<<30))
		time.Sleep(1000 * time.Hour)
	case "grow":
		var hoard [][]byte
		for {
			hoard = append(hoard, make([]byte, 1<<20))
			hoard[len(hoard)-1][0] = 1
		}
	case "noread":
		for {
			os.Stdout.Write([]byte("x\n"))
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
	case "env":
		return w.Reply([]byte(strings.Join(append(os.Environ(), os.Args...), ",")))
	}
	if w != nil {
		return w.Reply(req)
	}
	return nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }
