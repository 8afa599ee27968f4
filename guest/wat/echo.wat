;; echo.wat — a hand-written wasmpool filter that replies to each request
;; with the same bytes, in the framing named by its first argument: lines,
;; zero, lenpfx or fixed:N (lines when there is none). A pool's framing in
;; the environment (WASMPOOL_FRAMES, abi.FramesEnv) overrides the argument,
;; as in the SDKs; a reply framing (WASMPOOL_REPLY_FRAMES) other than the
;; request framing is refused at start (exit status 1), since an echo
;; cannot convert. It exports the session marker (wasmpool_session,
;; abi.SessionMarker): it keeps the session contract.
;;
;; Build: wat2wasm echo.wat -o echo.wasm   (Debian package wabt;
;; guestbuild.WAT does this). About 1 KB.
;;
;; An echo's replies are its requests, so this filter streams: it reads up to
;; 64 KiB from stdin, checks the frames in it and writes the chunk back
;; before it reads again (so nothing is held back while it waits for input).
;; It keeps the SDKs' rules: a last lines/zero frame without terminator at
;; EOF gets its terminator; a request larger than 64 MiB (abi.DefaultMaxFrame)
;; and a lenpfx or fixed frame cut short at EOF are reported on stderr as
;; "guest: reading request N: ..." with exit status 1 (the bytes of the
;; partial frame have been echoed by then: a host drops them as a truncated
;; reply). An unknown framing name exits 1 too.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  ;; Memory layout:
  ;;      0  iovec {buf, len}      8  result count
  ;;     16  argc                 20  size of the argument strings
  ;;     24  environment count    28  size of the environment strings
  ;;     32  scratch: decimal digits (32..55), a terminator byte (60)
  ;;     64  argv pointers (at most 48)
  ;;    256  argument strings (at most 768 bytes)
  ;;   1024  messages, NUL-terminated
  ;;   2048  environment pointers (at most 256)
  ;;   3072  environment strings (at most 62464 bytes)
  ;;  65536  input buffer, 64 KiB
  (memory (export "memory") 2)

  (data (i32.const 1024) "guest: \00")
  (data (i32.const 1040) "reading request \00")
  (data (i32.const 1072) ": frames: frame too large: the limit is 67108864 bytes\0a\00")
  (data (i32.const 1136) ": frames: truncated frame at EOF\0a\00")
  (data (i32.const 1184) "frames: invalid framing: want lines, zero, lenpfx or fixed:N\0a\00")
  (data (i32.const 1248) ": read stdin failed\0a\00")
  (data (i32.const 1280) "too many arguments\0a\00")
  (data (i32.const 1312) "lines\00")
  (data (i32.const 1320) "zero\00")
  (data (i32.const 1328) "lenpfx\00")
  (data (i32.const 1336) "fixed:\00")
  (data (i32.const 1344) "WASMPOOL_FRAMES\00")
  (data (i32.const 1360) "WASMPOOL_REPLY_FRAMES\00")
  (data (i32.const 1384) ": frames: invalid framing \22\00")
  (data (i32.const 1416) "\22: want lines, zero, lenpfx or fixed:N\0a\00")
  (data (i32.const 1456) "this guest writes \00")
  (data (i32.const 1480) " replies; the pool reads \00")
  (data (i32.const 1512) "\0a\00")
  (data (i32.const 1520) "environment too large\0a\00")

  (global $max i64 (i64.const 67108864))
  (global $kind (mut i32) (i32.const 0)) ;; 0 lines, 1 zero, 2 lenpfx, 3 fixed
  (global $size (mut i64) (i64.const 0)) ;; N of fixed:N
  (global $frames (mut i64) (i64.const 0)) ;; complete request frames so far
  (global $cur (mut i64) (i64.const 0)) ;; lines/zero: bytes of the current frame
  (global $hdrGot (mut i32) (i32.const 0)) ;; lenpfx: header bytes seen
  (global $hdr (mut i64) (i64.const 0)) ;; lenpfx: header value so far
  (global $remaining (mut i64) (i64.const 0)) ;; lenpfx: payload bytes to come
  (global $total (mut i64) (i64.const 0)) ;; fixed: bytes seen
  (global $name (mut i32) (i32.const 1312)) ;; the request framing's name

  ;; write_all writes len bytes at ptr to fd; a failed write to stdout
  ;; exits 1 (there is nobody to reply to any more).
  (func $write_all (param $fd i32) (param $ptr i32) (param $len i32)
    (local $e i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (i32.const 0) (local.get $ptr))
        (i32.store (i32.const 4) (local.get $len))
        (local.set $e (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $more (i32.eq (local.get $e) (i32.const 27))) ;; EINTR
        (if (local.get $e)
          (then
            (if (i32.eq (local.get $fd) (i32.const 1)) (then (call $proc_exit (i32.const 1))))
            (return)))
        (if (i32.eqz (i32.load (i32.const 8))) (then (call $proc_exit (i32.const 1))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 8))))
        (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 8))))
        (br $more))))

  ;; strlen of a NUL-terminated string
  (func $strlen (param $p i32) (result i32)
    (local $q i32)
    (local.set $q (local.get $p))
    (block $done
      (loop $more
        (br_if $done (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $more)))
    (i32.sub (local.get $q) (local.get $p)))

  (func $puts (param $p i32)
    (call $write_all (i32.const 2) (local.get $p) (call $strlen (local.get $p))))

  ;; putu writes v in decimal to stderr.
  (func $putu (param $v i64)
    (local $p i32)
    (local.set $p (i32.const 56))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $v) (i64.const 10))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (call $write_all (i32.const 2) (local.get $p) (i32.sub (i32.const 56) (local.get $p))))

  (func $fail (param $msg i32)
    (call $puts (i32.const 1024))
    (call $puts (local.get $msg))
    (call $proc_exit (i32.const 1)))

  ;; fail_reading reports "guest: reading request N<msg>" and exits 1.
  (func $fail_reading (param $msg i32)
    (call $puts (i32.const 1024))
    (call $puts (i32.const 1040))
    (call $putu (i64.add (global.get $frames) (i64.const 1)))
    (call $puts (local.get $msg))
    (call $proc_exit (i32.const 1)))

  ;; streq compares NUL-terminated strings.
  (func $streq (param $a i32) (param $b i32) (result i32)
    (local $c i32)
    (loop $more
      (local.set $c (i32.load8_u (local.get $a)))
      (if (i32.ne (local.get $c) (i32.load8_u (local.get $b))) (then (return (i32.const 0))))
      (if (i32.eqz (local.get $c)) (then (return (i32.const 1))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $more))
    (i32.const 0))

  ;; parse_framing sets $kind and $size from the NUL-terminated name at p;
  ;; it returns 1, setting nothing, for a name it does not know.
  (func $parse_framing (param $p i32) (result i32)
    (local $i i32) (local $c i32) (local $n i64)
    (if (call $streq (local.get $p) (i32.const 1312)) (then (global.set $kind (i32.const 0)) (return (i32.const 0))))
    (if (call $streq (local.get $p) (i32.const 1320)) (then (global.set $kind (i32.const 1)) (return (i32.const 0))))
    (if (call $streq (local.get $p) (i32.const 1328)) (then (global.set $kind (i32.const 2)) (return (i32.const 0))))
    ;; "fixed:" then one or more digits, N ≥ 1
    (loop $prefix
      (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i)))
                  (i32.load8_u (i32.add (i32.const 1336) (local.get $i))))
        (then (return (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $prefix (i32.lt_u (local.get $i) (i32.const 6))))
    (local.set $p (i32.add (local.get $p) (i32.const 6)))
    (if (i32.eqz (i32.load8_u (local.get $p))) (then (return (i32.const 1))))
    (block $done
      (loop $digit
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (i32.eqz (local.get $c)))
        (if (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57)))
          (then (return (i32.const 1))))
        (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10))
                               (i64.extend_i32_u (i32.sub (local.get $c) (i32.const 48)))))
        (if (i64.gt_u (local.get $n) (i64.const 0xffffffff)) (then (return (i32.const 1))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digit)))
    (if (i64.eqz (local.get $n)) (then (return (i32.const 1))))
    (global.set $kind (i32.const 3))
    (global.set $size (local.get $n))
    (i32.const 0))

  ;; getenv returns the value of the environment variable whose
  ;; NUL-terminated name is at $name (NUL-terminated too), or 0 when it is
  ;; unset.
  (func $getenv (param $name i32) (result i32)
    (local $i i32) (local $e i32) (local $q i32)
    (block $none
      (loop $entry
        (br_if $none (i32.ge_u (local.get $i) (i32.load (i32.const 24))))
        (local.set $e (i32.load (i32.add (i32.const 2048) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $q (local.get $name))
        (block $next
          (loop $char
            (if (i32.eqz (i32.load8_u (local.get $q)))
              (then
                (br_if $next (i32.ne (i32.load8_u (local.get $e)) (i32.const 61))) ;; '='
                (return (i32.add (local.get $e) (i32.const 1)))))
            (br_if $next (i32.ne (i32.load8_u (local.get $e)) (i32.load8_u (local.get $q))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $char)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $entry)))
    (i32.const 0))

  ;; bad_env reports "guest: NAME: frames: invalid framing "VALUE": ..." and
  ;; exits 1.
  (func $bad_env (param $name i32) (param $value i32)
    (call $puts (i32.const 1024))
    (call $puts (local.get $name))
    (call $puts (i32.const 1384))
    (call $puts (local.get $value))
    (call $puts (i32.const 1416))
    (call $proc_exit (i32.const 1)))

  ;; framings_from_env takes the pool's framings from the environment: the
  ;; request framing replaces the one from argv[1]; a reply framing must be
  ;; the same.
  (func $framings_from_env
    (local $v i32) (local $k i32) (local $s i64)
    (if (call $environ_sizes_get (i32.const 24) (i32.const 28)) (then (call $fail (i32.const 1520))))
    (if (i32.or (i32.gt_u (i32.load (i32.const 24)) (i32.const 256))
                (i32.gt_u (i32.load (i32.const 28)) (i32.const 62464)))
      (then (call $fail (i32.const 1520))))
    (if (call $environ_get (i32.const 2048) (i32.const 3072)) (then (call $fail (i32.const 1520))))
    (local.set $v (call $getenv (i32.const 1344)))
    (if (local.get $v)
      (then
        (if (i32.load8_u (local.get $v)) ;; empty: unset
          (then
            (if (call $parse_framing (local.get $v)) (then (call $bad_env (i32.const 1344) (local.get $v))))
            (global.set $name (local.get $v))))))
    (local.set $v (call $getenv (i32.const 1360)))
    (if (i32.eqz (local.get $v)) (then (return)))
    (if (i32.eqz (i32.load8_u (local.get $v))) (then (return)))
    (local.set $k (global.get $kind))
    (local.set $s (global.get $size))
    (if (call $parse_framing (local.get $v)) (then (call $bad_env (i32.const 1360) (local.get $v))))
    (if (i32.or (i32.ne (local.get $k) (global.get $kind))
                (i32.and (i32.eq (local.get $k) (i32.const 3)) (i64.ne (local.get $s) (global.get $size))))
      (then ;; "guest: this guest writes REQUESTS replies; the pool reads REPLIES"
        (call $puts (i32.const 1024))
        (call $puts (i32.const 1456))
        (call $puts (global.get $name))
        (call $puts (i32.const 1480))
        (call $puts (local.get $v))
        (call $puts (i32.const 1512))
        (call $proc_exit (i32.const 1)))))

  ;; The session marker (abi.SessionMarker): this filter writes every
  ;; reply before it reads stdin again, so a host may keep one instance per
  ;; kid. Nobody calls it.
  (func (export "wasmpool_session"))

  ;; check walks the n bytes read at p through the framing's state.
  (func $check (param $p i32) (param $n i32)
    (local $end i32) (local $b i32) (local $term i32) (local $take i64)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (if (i32.eq (global.get $kind) (i32.const 3))
      (then
        (global.set $total (i64.add (global.get $total) (i64.extend_i32_u (local.get $n))))
        (global.set $frames (i64.div_u (global.get $total) (global.get $size)))
        (return)))
    (if (i32.eq (global.get $kind) (i32.const 2))
      (then
        (block $done
          (loop $more
            (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
            (if (i64.ne (global.get $remaining) (i64.const 0))
              (then ;; in a payload: skip what is there of it
                (local.set $take (i64.extend_i32_u (i32.sub (local.get $end) (local.get $p))))
                (if (i64.gt_u (local.get $take) (global.get $remaining))
                  (then (local.set $take (global.get $remaining))))
                (local.set $p (i32.add (local.get $p) (i32.wrap_i64 (local.get $take))))
                (global.set $remaining (i64.sub (global.get $remaining) (local.get $take)))
                (if (i64.eqz (global.get $remaining))
                  (then (global.set $frames (i64.add (global.get $frames) (i64.const 1))))))
              (else ;; in a header: one more little-endian byte
                (global.set $hdr (i64.or (global.get $hdr)
                  (i64.shl (i64.load8_u (local.get $p))
                           (i64.extend_i32_u (i32.mul (global.get $hdrGot) (i32.const 8))))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (global.set $hdrGot (i32.add (global.get $hdrGot) (i32.const 1)))
                (if (i32.eq (global.get $hdrGot) (i32.const 8))
                  (then
                    (if (i64.gt_u (global.get $hdr) (global.get $max))
                      (then (call $fail_reading (i32.const 1072))))
                    (global.set $remaining (global.get $hdr))
                    (global.set $hdr (i64.const 0))
                    (global.set $hdrGot (i32.const 0))
                    (if (i64.eqz (global.get $remaining))
                      (then (global.set $frames (i64.add (global.get $frames) (i64.const 1)))))))))
            (br $more)))
        (return)))
    ;; lines or zero
    (local.set $term (select (i32.const 0) (i32.const 10) (i32.eq (global.get $kind) (i32.const 1))))
    (block $done
      (loop $more
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (if (i32.eq (i32.load8_u (local.get $p)) (local.get $term))
          (then
            (global.set $cur (i64.const 0))
            (global.set $frames (i64.add (global.get $frames) (i64.const 1))))
          (else
            (global.set $cur (i64.add (global.get $cur) (i64.const 1)))
            (if (i64.gt_u (global.get $cur) (global.get $max))
              (then (call $fail_reading (i32.const 1072))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $more))))

  (func $_start (export "_start")
    (local $n i32) (local $e i32)
    ;; the framing from argv[1]
    (if (call $args_sizes_get (i32.const 16) (i32.const 20)) (then (call $fail (i32.const 1184))))
    (if (i32.or (i32.gt_u (i32.load (i32.const 16)) (i32.const 48))
                (i32.gt_u (i32.load (i32.const 20)) (i32.const 768)))
      (then (call $fail (i32.const 1280))))
    (if (call $args_get (i32.const 64) (i32.const 256)) (then (call $fail (i32.const 1184))))
    (if (i32.ge_u (i32.load (i32.const 16)) (i32.const 2))
      (then
        (global.set $name (i32.load (i32.const 68)))
        (if (call $parse_framing (global.get $name)) (then (call $fail (i32.const 1184))))))
    (call $framings_from_env)
    (if (i32.and (i32.eq (global.get $kind) (i32.const 3))
                 (i64.gt_u (global.get $size) (global.get $max)))
      (then (call $fail_reading (i32.const 1072))))
    ;; read, check, echo until EOF
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.const 65536))
        (i32.store (i32.const 4) (i32.const 65536))
        (local.set $e (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $read (i32.eq (local.get $e) (i32.const 27))) ;; EINTR
        (if (local.get $e) (then (call $fail_reading (i32.const 1248))))
        (local.set $n (i32.load (i32.const 8)))
        (br_if $eof (i32.eqz (local.get $n)))
        (call $check (i32.const 65536) (local.get $n))
        (call $write_all (i32.const 1) (i32.const 65536) (local.get $n))
        (br $read)))
    ;; at EOF: terminate a last lines/zero frame, refuse a partial one
    (if (i32.le_u (global.get $kind) (i32.const 1))
      (then
        (if (i64.ne (global.get $cur) (i64.const 0))
          (then
            (i32.store8 (i32.const 60) (select (i32.const 0) (i32.const 10) (global.get $kind)))
            (call $write_all (i32.const 1) (i32.const 60) (i32.const 1))))
        (return)))
    (if (i32.eq (global.get $kind) (i32.const 2))
      (then
        (if (i32.or (i32.ne (global.get $hdrGot) (i32.const 0))
                    (i64.ne (global.get $remaining) (i64.const 0)))
          (then (call $fail_reading (i32.const 1136))))
        (return)))
    (if (i64.ne (i64.rem_u (global.get $total) (global.get $size)) (i64.const 0))
      (then (call $fail_reading (i32.const 1136))))))
