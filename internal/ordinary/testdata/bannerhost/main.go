// Command bannerhost is a native program that imports package host beside
// a package whose init prints a banner to stdout, and runs a pool of a
// cat module over its stdin. Its kids are this binary re-executed, so the
// banner's init runs in each kid too: the replies must hold only what the
// guest wrote. Batch instances run in Keep mode (the replies come in
// input order), session instances in Stream mode.
//
//	bannerhost -module cat.wasm -instance batch|session -o replies.txt < input
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/wasmpool/wasmpool/host"
	"github.com/wasmpool/wasmpool/internal/ordinary/testdata/bannerhost/banner"
)

func main() {
	module := flag.String("module", "", "the module to run")
	instance := flag.String("instance", "batch", "batch or session")
	out := flag.String("o", "", "where the replies go")
	cache := flag.String("cache", "", "the compile cache directory")
	flag.Parse()
	cfg := host.Config{Module: *module, Kids: 2, CacheDir: *cache, BatchSize: 4 << 10, Instances: host.BatchInstances, Mode: host.Keep}
	if *instance == "session" {
		cfg.Instances, cfg.Mode = host.SessionInstances, host.Stream
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	pool, err := host.New(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := 0
	for err := range pool.Filter(context.Background(), f, os.Stdin) {
		fmt.Fprintln(os.Stderr, "bannerhost:", err)
		code = 1
	}
	pool.Close()
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	_ = banner.Text
	os.Exit(code)
}
