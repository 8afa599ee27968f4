// Command tg is the test guest of the wasmpool CLI's tests. Built for
// wasip1, it serves requests in the framings its flags name, in one of two
// modes:
//
//	tg [-frames F] [-replies F] [-exit N] [echo]   replies with each request
//	tg [-frames F] [-replies F] cmd                runs each request as a command
//
// -exit N exits with status N at start-up, before reading anything. The
// commands of cmd mode, one per request:
//
//	echo TEXT       reply TEXT
//	twice TEXT      reply TEXT twice (breaks one-to-one)
//	none            reply nothing (breaks one-to-one)
//	exit N          write to stderr and exit with status N
//	sleep DURATION  sleep, then reply
//	alloc MiB       allocate and touch MiB mebibytes, then reply
//	count           reply how many requests this process has served
//	env             reply the environment, sorted, comma-separated
//	args            reply the arguments after the program name
//	cat PATH        reply the file's content, newlines as '|'
//	write PATH TEXT write TEXT to the file, reply ok
//	ls PATH         reply the directory's entries, comma-separated
//	stderr TEXT     write TEXT to stderr, reply ok
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasmpool/wasmpool/frames"
	"github.com/wasmpool/wasmpool/guest"
)

func main() {
	framesName := flag.String("frames", "lines", "request framing")
	repliesName := flag.String("replies", "", "reply framing (default: -frames)")
	exit := flag.Int("exit", -1, "exit with this status at start-up")
	flag.Parse()
	if *exit >= 0 {
		fmt.Fprintf(os.Stderr, "tg: exiting with %d at start-up\n", *exit)
		os.Exit(*exit)
	}
	req, err := frames.Parse(*framesName)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tg:", err)
		os.Exit(64)
	}
	rep := req
	if *repliesName != "" {
		if rep, err = frames.Parse(*repliesName); err != nil {
			fmt.Fprintln(os.Stderr, "tg:", err)
			os.Exit(64)
		}
	}
	mode := flag.Arg(0)
	served := 0
	var keep [][]byte
	guest.ServeOptions(guest.Options{Requests: req, Replies: &rep}, func(r []byte, w *guest.Replies) error {
		served++
		if mode != "cmd" {
			return w.Reply(r)
		}
		name, arg, _ := strings.Cut(string(r), " ")
		reply := func(s string) error { return w.Reply([]byte(s)) }
		switch name {
		case "echo":
			return reply(arg)
		case "twice":
			if err := reply(arg); err != nil {
				return err
			}
			return reply(arg)
		case "none":
			return nil
		case "exit":
			n, _ := strconv.Atoi(arg)
			w.Flush()
			fmt.Fprintf(os.Stderr, "tg: exiting with %d\n", n)
			os.Exit(n)
		case "sleep":
			d, err := time.ParseDuration(arg)
			if err != nil {
				return err
			}
			time.Sleep(d)
			return reply("slept " + arg)
		case "alloc":
			n, _ := strconv.Atoi(arg)
			b := make([]byte, n<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			keep = append(keep, b)
			return reply(fmt.Sprintf("allocated %d MiB", n))
		case "count":
			return reply(strconv.Itoa(served))
		case "env":
			env := os.Environ()
			slices.Sort(env)
			if len(env) == 0 {
				return reply("(none)")
			}
			return reply(strings.Join(env, ","))
		case "args":
			return reply(strings.Join(flag.Args(), " "))
		case "cat":
			b, err := os.ReadFile(arg)
			if err != nil {
				return reply("error: " + errText(err))
			}
			return reply(strings.ReplaceAll(strings.TrimRight(string(b), "\n"), "\n", "|"))
		case "write":
			path, text, _ := strings.Cut(arg, " ")
			if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
				return reply("error: " + errText(err))
			}
			return reply("ok")
		case "ls":
			entries, err := os.ReadDir(arg)
			if err != nil {
				return reply("error: " + errText(err))
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			return reply(strings.Join(names, ","))
		case "stderr":
			fmt.Fprintln(os.Stderr, arg)
			return reply("ok")
		}
		return fmt.Errorf("unknown command %q", name)
	})
}

// errText is an error without the path, which differs between runs.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
