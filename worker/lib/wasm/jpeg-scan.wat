;; JPEG entropy-coded data scanner (ITU-T T.81 §B.1.1.5), WebAssembly SIMD.
;;
;; Entropy-coded data cannot contain a marker: an 0xFF byte in it is followed
;; by 0x00 (byte stuffing) or by a restart marker 0xD0-0xD7, and 0xFF may be
;; followed by more 0xFF fill bytes before a marker (§B.1.1.2). So the data
;; ends at the first i with b[i] = 0xFF and b[i + 1] not in {0x00, 0xD0-0xD7,
;; 0xFF}: the same rule as the reference scanner in test/intake/jpeg-scan.test.ts.
;;
;; Why WebAssembly: walking 10 MB of a photo byte by byte from JavaScript cost
;; more than decrypting it (docs/decisions/0007-intake-fast-path.md). Here each
;; 128-byte block costs a few SIMD operations: a block is looked at closely only
;; when it holds an 0xFF followed by a non-zero byte, which in stuffed data is
;; only a restart marker or the end.
;;
;; Built by scripts/build-wasm.mjs (wabt) into jpeg-scan.wasm, which is
;; committed; test/node/wasm-build.test.ts checks the two agree.
(module
  ;; 2 pages = 128 KiB: room for one 64 KiB chunk plus its one-byte lookahead.
  (memory (export "memory") 2)

  ;; Exact test of [p, end - 1): 16 bytes at a time, then byte by byte.
  (func $exact (param $p i32) (param $end i32) (result i32)
    (local $a v128) (local $n v128) (local $m v128) (local $last i32) (local $c i32)
    (local.set $last (i32.sub (local.get $end) (i32.const 17)))
    (block $vector_done
      (loop $vector
        (br_if $vector_done (i32.gt_s (local.get $p) (local.get $last)))
        (local.set $a (v128.load align=1 (local.get $p)))
        (local.set $n (v128.load offset=1 align=1 (local.get $p)))
        ;; m = (a == FF) & !(n == 00) & !((n & F8) == D0) & !(n == FF)
        (local.set $m
          (v128.andnot
            (v128.andnot
              (v128.andnot
                (i8x16.eq (local.get $a) (v128.const i32x4 -1 -1 -1 -1))
                (i8x16.eq (local.get $n) (v128.const i32x4 0 0 0 0)))
              (i8x16.eq
                (v128.and (local.get $n) (v128.const i32x4 0xF8F8F8F8 0xF8F8F8F8 0xF8F8F8F8 0xF8F8F8F8))
                (v128.const i32x4 0xD0D0D0D0 0xD0D0D0D0 0xD0D0D0D0 0xD0D0D0D0)))
            (i8x16.eq (local.get $n) (v128.const i32x4 -1 -1 -1 -1))))
        (if (v128.any_true (local.get $m))
          (then (return (i32.add (local.get $p) (i32.ctz (i8x16.bitmask (local.get $m)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vector)))
    (block $bytes_done
      (loop $bytes
        (br_if $bytes_done (i32.ge_s (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0xFF))
          (then
            (local.set $c (i32.load8_u offset=1 (local.get $p)))
            (if (i32.and
                  (i32.and
                    (i32.ne (local.get $c) (i32.const 0x00))
                    (i32.ne (i32.and (local.get $c) (i32.const 0xF8)) (i32.const 0xD0)))
                  (i32.ne (local.get $c) (i32.const 0xFF)))
              (then (return (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $bytes)))
    (i32.const -1))

  ;; scan(p, end): the first marker position in [p, end - 1), or -1. Bytes up
  ;; to end - 1 are read (the last one only as the byte after an 0xFF).
  (func (export "scan") (param $p i32) (param $end i32) (result i32)
    (local $last i32) (local $r i32)
    (local.set $last (i32.sub (local.get $end) (i32.const 129)))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_s (local.get $p) (local.get $last)))
        ;; Cheap filter over 128 bytes: any 0xFF followed by a non-zero byte?
        ;; (a == FF) is all-ones in those lanes, so (a == FF) & next is
        ;; non-zero exactly there.
        (if (v128.any_true
              (v128.or
                (v128.or
                  (v128.or
                    (v128.and (i8x16.eq (v128.load align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=1 align=1 (local.get $p)))
                    (v128.and (i8x16.eq (v128.load offset=16 align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=17 align=1 (local.get $p))))
                  (v128.or
                    (v128.and (i8x16.eq (v128.load offset=32 align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=33 align=1 (local.get $p)))
                    (v128.and (i8x16.eq (v128.load offset=48 align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=49 align=1 (local.get $p)))))
                (v128.or
                  (v128.or
                    (v128.and (i8x16.eq (v128.load offset=64 align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=65 align=1 (local.get $p)))
                    (v128.and (i8x16.eq (v128.load offset=80 align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=81 align=1 (local.get $p))))
                  (v128.or
                    (v128.and (i8x16.eq (v128.load offset=96 align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=97 align=1 (local.get $p)))
                    (v128.and (i8x16.eq (v128.load offset=112 align=1 (local.get $p)) (v128.const i32x4 -1 -1 -1 -1))
                              (v128.load offset=113 align=1 (local.get $p)))))))
          (then
            (local.set $r (call $exact (local.get $p) (i32.add (local.get $p) (i32.const 129))))
            (if (i32.ge_s (local.get $r) (i32.const 0)) (then (return (local.get $r))))))
        (local.set $p (i32.add (local.get $p) (i32.const 128)))
        (br $blocks)))
    (call $exact (local.get $p) (local.get $end))))
