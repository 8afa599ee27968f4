package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wasmpool/wasmpool/host"
)

// parseSize reads a byte count: a decimal number with an optional unit.
// KiB, MiB, GiB, TiB and their one-letter forms K, M, G, T are powers of
// 1024; kB, MB, GB, TB powers of 1000 (as dd does); B or no unit is bytes.
// Units are case-insensitive except that "kb"/"KB" is 1000 only with the B.
func parseSize(s string) (int64, error) {
	bad := errors.New("invalid size: want bytes with an optional unit, like 65536, 512KiB, 64MiB or 1GiB")
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, bad
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, bad
	}
	unit := strings.ToLower(strings.TrimSpace(s[i:]))
	var mult int64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kib":
		mult = 1 << 10
	case "m", "mib":
		mult = 1 << 20
	case "g", "gib":
		mult = 1 << 30
	case "t", "tib":
		mult = 1 << 40
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	default:
		return 0, fmt.Errorf("invalid size: unknown unit %q (want B, KiB, MiB, GiB, TiB, or kB, MB, GB, TB)", s[i:])
	}
	if n > math.MaxInt64/mult {
		return 0, errors.New("invalid size: too large")
	}
	return n * mult, nil
}

// formatSize writes a byte count for people: 1.5MiB, 512B.
func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		if f < unit || u == "TiB" {
			if f < 10 && f != math.Trunc(f) {
				return fmt.Sprintf("%.1f%s", f, u)
			}
			return fmt.Sprintf("%.0f%s", f, u)
		}
	}
	return fmt.Sprintf("%dB", n)
}

// parseDuration reads a non-negative duration like 500ms, 2s or 1m30s.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, errors.New("invalid duration: give a unit, like 500ms, 2s or 1m")
		}
		return 0, errors.New("invalid duration: want a number with a unit, like 500ms, 2s or 1m30s")
	}
	if d < 0 {
		return 0, errors.New("invalid duration: negative")
	}
	return d, nil
}

// parseCount reads a non-negative integer.
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("want a whole number ≥ 0")
	}
	return n, nil
}

// parseDir reads HOST[:GUEST][:ro|:rw]. The host directory must exist; the
// guest path defaults to the host directory's absolute path.
func parseDir(s string) (host.Dir, error) {
	parts := strings.Split(s, ":")
	var d host.Dir
	if n := len(parts); n > 1 && (parts[n-1] == "ro" || parts[n-1] == "rw") {
		d.ReadOnly = parts[n-1] == "ro"
		parts = parts[:n-1]
	}
	switch len(parts) {
	case 1:
	case 2:
		d.Guest = parts[1]
	default:
		return d, errors.New("want HOST[:GUEST][:ro]")
	}
	d.Host = parts[0]
	if d.Host == "" {
		return d, errors.New("no host directory: want HOST[:GUEST][:ro]")
	}
	st, err := os.Stat(d.Host)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return d, errors.New("no such directory")
	case err != nil:
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return d, err
	case !st.IsDir():
		return d, errors.New("not a directory")
	}
	abs, err := filepath.Abs(d.Host)
	if err != nil {
		return d, err
	}
	d.Host = abs
	if d.Guest == "" {
		d.Guest = abs
	}
	if !strings.HasPrefix(d.Guest, "/") {
		return d, fmt.Errorf("the guest path %q is not absolute (like /data)", d.Guest)
	}
	d.Guest = filepath.Clean(d.Guest)
	return d, nil
}

// parseEnv reads NAME=VALUE, or NAME to pass this process's value.
func parseEnv(s string) (string, error) {
	name, _, hasValue := strings.Cut(s, "=")
	if name == "" {
		return "", errors.New("want NAME=VALUE or NAME")
	}
	if strings.ContainsAny(name, "\x00") {
		return "", errors.New("the name contains a NUL byte")
	}
	if hasValue {
		return s, nil
	}
	v, ok := os.LookupEnv(name)
	if !ok {
		return "", fmt.Errorf("%s is not set here: give a value with --env %s=VALUE", name, name)
	}
	return name + "=" + v, nil
}

// plural says n things: "1 request", "2 requests", "1 reply", "0 replies".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if strings.HasSuffix(thing, "ch") {
		return fmt.Sprintf("%d %ses", n, thing)
	}
	if strings.HasSuffix(thing, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(thing, "y"))
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
