package main

import (
	"errors"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// kidFlags are the flags of the kids' number, sandbox and limits, for
// commands other than run (which defines its own, with the same names and
// meanings): -j, --dir, --env, --mem, --timeout, --retries, --cache-dir.
type kidFlags struct {
	jobs     int
	dirs     []host.Dir
	env      []string
	mem      int64
	timeout  time.Duration
	retries  int
	cacheDir string
	retryOpt *option
}

func (k *kidFlags) add(fs *flagSet) {
	count := func(p *int) func(string) error {
		return func(v string) (err error) { *p, err = parseCount(v); return err }
	}
	fs.add(&option{long: "jobs", short: 'j', arg: "N", set: count(&k.jobs)})
	fs.add(&option{long: "dir", arg: "HOST[:GUEST][:ro]", set: func(v string) error {
		d, err := parseDir(v)
		k.dirs = append(k.dirs, d)
		return err
	}})
	fs.add(&option{long: "env", arg: "NAME=VALUE", set: func(v string) error {
		kv, err := parseEnv(v)
		k.env = append(k.env, kv)
		return err
	}})
	fs.add(&option{long: "mem", arg: "SIZE", set: func(v string) (err error) {
		if k.mem, err = parseSize(v); err == nil && k.mem > 4<<30 {
			err = errors.New("more than the 4GiB a wasm32 memory can address")
		}
		return err
	}})
	fs.add(&option{long: "timeout", arg: "DURATION", set: func(v string) (err error) {
		k.timeout, err = parseDuration(v)
		return err
	}})
	k.retryOpt = fs.add(&option{long: "retries", arg: "N", set: count(&k.retries)})
	fs.add(&option{long: "cache-dir", arg: "DIR", set: nonEmpty(&k.cacheDir, "directory name")})
}

// nonEmpty sets *p to a value that must not be empty.
func nonEmpty(p *string, what string) func(string) error {
	return func(v string) error {
		if v == "" {
			return errors.New("empty " + what)
		}
		*p = v
		return nil
	}
}

// config is the host configuration the flags give, for module.
func (k *kidFlags) config(fs *flagSet, module string, args []string) host.Config {
	retries := 0 // the default: 1
	if fs.seen[k.retryOpt] {
		if retries = k.retries; retries == 0 {
			retries = -1 // none
		}
	}
	return host.Config{Module: module, Kids: k.jobs, Args: args, Env: k.env, Dirs: k.dirs,
		CacheDir: k.cacheDir, MemoryLimit: k.mem, Timeout: k.timeout, Retries: retries}
}
