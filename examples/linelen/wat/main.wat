;; linelen: reply to each input line with its length in bytes, in decimal
;; (lines framing), like examples/linelen/guest. Hand-written WebAssembly
;; text; build with `wat2wasm main.wat -o linelen.wasm` (Debian package
;; wabt; guestbuild.WAT does this). Under 1 KB.
;;
;; It never holds a line: it counts the bytes since the last '\n' of each
;; 64 KiB chunk it reads and buffers the replies, which it writes before
;; every read of stdin (and when 64 KiB are pending) and at EOF. A last line
;; without '\n' at EOF is still a line. A line longer than 64 MiB
;; (abi.DefaultMaxFrame) is an error: "guest: reading request N: ..." on
;; stderr, exit status 1.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))

  ;; Memory layout:
  ;;       0  iovec {buf, len}      8  result count
  ;;      32  scratch: decimal digits (32..55)
  ;;    1024  messages, NUL-terminated
  ;;   65536  input buffer, 64 KiB
  ;;  131072  output buffer, 64 KiB + room for one reply
  (memory (export "memory") 3)

  (data (i32.const 1024) "guest: reading request \00")
  (data (i32.const 1056) ": frames: frame too large: the limit is 67108864 bytes\0a\00")
  (data (i32.const 1120) ": read stdin failed\0a\00")

  (global $max i64 (i64.const 67108864))
  (global $lines (mut i64) (i64.const 0)) ;; complete lines so far
  (global $cur (mut i64) (i64.const 0)) ;; bytes of the current line
  (global $out (mut i32) (i32.const 131072)) ;; end of the buffered replies

  (func $write_all (param $fd i32) (param $ptr i32) (param $len i32)
    (local $e i32)
    (block $done
      (loop $more
        (br_if $done (i32.eqz (local.get $len)))
        (i32.store (i32.const 0) (local.get $ptr))
        (i32.store (i32.const 4) (local.get $len))
        (local.set $e (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $more (i32.eq (local.get $e) (i32.const 27))) ;; EINTR
        (if (i32.or (i32.ne (local.get $e) (i32.const 0)) (i32.eqz (i32.load (i32.const 8))))
          (then
            (if (i32.eq (local.get $fd) (i32.const 1)) (then (call $proc_exit (i32.const 1))))
            (return)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.load (i32.const 8))))
        (local.set $len (i32.sub (local.get $len) (i32.load (i32.const 8))))
        (br $more))))

  (func $flush
    (call $write_all (i32.const 1) (i32.const 131072) (i32.sub (global.get $out) (i32.const 131072)))
    (global.set $out (i32.const 131072)))

  ;; digits writes v in decimal ending at 56 and returns where it starts.
  (func $digits (param $v i64) (result i32)
    (local $p i32)
    (local.set $p (i32.const 56))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i64.store8 (local.get $p) (i64.add (i64.const 48) (i64.rem_u (local.get $v) (i64.const 10))))
      (local.set $v (i64.div_u (local.get $v) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $v) (i64.const 0))))
    (local.get $p))

  (func $puts (param $p i32)
    (local $q i32)
    (local.set $q (local.get $p))
    (block $done
      (loop $more
        (br_if $done (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $more)))
    (call $write_all (i32.const 2) (local.get $p) (i32.sub (local.get $q) (local.get $p))))

  ;; fail reports "guest: reading request N<msg>" and exits 1.
  (func $fail (param $msg i32)
    (local $p i32)
    (call $flush)
    (call $puts (i32.const 1024))
    (local.set $p (call $digits (i64.add (global.get $lines) (i64.const 1))))
    (call $write_all (i32.const 2) (local.get $p) (i32.sub (i32.const 56) (local.get $p)))
    (call $puts (local.get $msg))
    (call $proc_exit (i32.const 1)))

  ;; reply buffers the current line's length and a '\n'.
  (func $reply
    (local $p i32) (local $n i32)
    (local.set $p (call $digits (global.get $cur)))
    (local.set $n (i32.sub (i32.const 56) (local.get $p)))
    (memory.copy (global.get $out) (local.get $p) (local.get $n))
    (i32.store8 (i32.add (global.get $out) (local.get $n)) (i32.const 10))
    (global.set $out (i32.add (global.get $out) (i32.add (local.get $n) (i32.const 1))))
    (global.set $lines (i64.add (global.get $lines) (i64.const 1)))
    (global.set $cur (i64.const 0))
    (if (i32.ge_u (global.get $out) (i32.const 196608)) (then (call $flush))))

  ;; The session marker (abi.SessionMarker): this filter writes its replies
  ;; before every read of stdin, so a host may keep one instance per kid.
  ;; Nobody calls it. (It reads lines whatever the pool's framing in
  ;; WASMPOOL_FRAMES: it has no SDK to read the environment.)
  (func (export "wasmpool_session"))

  (func $_start (export "_start")
    (local $p i32) (local $end i32) (local $e i32)
    (block $eof
      (loop $read
        (call $flush)
        (i32.store (i32.const 0) (i32.const 65536))
        (i32.store (i32.const 4) (i32.const 65536))
        (local.set $e (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $read (i32.eq (local.get $e) (i32.const 27))) ;; EINTR
        (if (local.get $e) (then (call $fail (i32.const 1120))))
        (br_if $eof (i32.eqz (i32.load (i32.const 8))))
        (local.set $p (i32.const 65536))
        (local.set $end (i32.add (i32.const 65536) (i32.load (i32.const 8))))
        (block $chunk
          (loop $byte
            (br_if $chunk (i32.ge_u (local.get $p) (local.get $end)))
            (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 10))
              (then (call $reply))
              (else
                (global.set $cur (i64.add (global.get $cur) (i64.const 1)))
                (if (i64.gt_u (global.get $cur) (global.get $max))
                  (then (call $fail (i32.const 1056))))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $byte)))
        (br $read)))
    ;; a last line without '\n'
    (if (i64.ne (global.get $cur) (i64.const 0)) (then (call $reply)))
    (call $flush)))
