;; Line decoder for /proc/net/tcp and /proc/net/tcp6, run over the read buffer in this
;; module's own memory: read() writes the kernel's text there and decode() turns every
;; complete line into a record for tcp-table.ts. SIMD finds the newlines and decodes the
;; addresses' hex, 16 digits at a time. Assembled by scripts/gen-wasm.ts.
;;
;; Line: `%4d: LOCAL:PORT REMOTE:PORT ST TX:RX TR:WHEN ...`. `sl` widens past 9999, so
;; fields are found relative to the first colon. A line is a socket when it has the `sl:`
;; prefix, every separator in place up to WHEN and the space after it, hex digits (either
;; case) in every field read and a state in 01..0B; anything else is malformed. The kernel
;; prints the fixed-width `TX:RX TR:WHEN ` in every state (full, TIME_WAIT and request
;; sockets alike), so a line cut before them is not the kernel's, whatever its state: it
;; is malformed in every state, never kept for some and dropped for others (a kept socket
;; beside a dropped listener would count its inbound sockets as outbound). Their values are
;; read for LISTEN (rx_queue, when) and TIME_WAIT (tr, when) only. CLOSE_WAIT lines alone
;; are read on to their inode, so tcp-table.ts can follow a socket across samples.
;;
;; Memory: [0, 256 KiB) read buffer; 64 bytes of slack, as the newline scan loads 16
;; bytes at a time and may pass the end of the data; the hex table; the records.
;; Record (signed 32-bit words): state index (0 = ESTABLISHED), local port, remote port,
;; two state fields (LISTEN: rx_queue, the accept queue's length, and when; TIME_WAIT: tr
;; and when, the clock ticks left; CLOSE_WAIT: 0 and the inode; 0 and 0 for other
;; states), then the address words as printed: 2 for tcp (local, remote), 8 for tcp6.
(module
  (memory (export "memory") 10 10)
  (global (export "bufferBytes") i32 (i32.const 262144))
  ;; Also written out as offset=262208 in the table loads below: an offset must be a constant.
  (global $hexTable i32 (i32.const 262208))
  (global $records (export "records") i32 (i32.const 263168))

  ;; Results of the last decode() besides its return value (the number of records).
  (global $next (export "next") (mut i32) (i32.const 0))
  (global $lines (export "lines") (mut i32) (i32.const 0))
  (global $malformed (export "malformed") (mut i32) (i32.const 0))

  ;; Hex digit value by byte; 16 (bit 4) for anything that is not a hex digit.
  (func $fillHexTable
    (local $byte i32)
    (loop $every
      (i32.store8 (i32.add (global.get $hexTable) (local.get $byte)) (i32.const 16))
      (local.set $byte (i32.add (local.get $byte) (i32.const 1)))
      (br_if $every (i32.lt_u (local.get $byte) (i32.const 256))))
    (local.set $byte (i32.const 0))
    (loop $digits
      (i32.store8 (i32.add (global.get $hexTable) (i32.add (local.get $byte) (i32.const 48)))
        (local.get $byte))
      (local.set $byte (i32.add (local.get $byte) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $byte) (i32.const 10))))
    (local.set $byte (i32.const 0))
    (loop $letters
      (i32.store8 (i32.add (global.get $hexTable) (i32.add (local.get $byte) (i32.const 65)))
        (i32.add (local.get $byte) (i32.const 10)))
      (i32.store8 (i32.add (global.get $hexTable) (i32.add (local.get $byte) (i32.const 97)))
        (i32.add (local.get $byte) (i32.const 10)))
      (local.set $byte (i32.add (local.get $byte) (i32.const 1)))
      (br_if $letters (i32.lt_u (local.get $byte) (i32.const 6)))))
  (start $fillHexTable)

  ;; The inode of a full socket line, from $at, the first byte after `RETRNSMT `: uid
  ;; (%5u) and timeout (%8d), both space-padded, come first. 0 when the line ends before it
  ;; or it is not a number (the kernel prints 0 for a socket no program holds yet). Only
  ;; CLOSE_WAIT lines come here: the hot path of every other state never scans this far.
  (func $inode (param $at i32) (param $end i32) (result i32)
    (local $skipped i32) (local $value i32) (local $digit i32)
    (loop $eachField
      (block $spacesDone
        (loop $spaces
          (br_if $spacesDone (i32.ge_u (local.get $at) (local.get $end)))
          (br_if $spacesDone (i32.ne (i32.load8_u (local.get $at)) (i32.const 32)))
          (local.set $at (i32.add (local.get $at) (i32.const 1)))
          (br $spaces)))
      (if (i32.lt_u (local.get $skipped) (i32.const 2))
        (then
          (block $fieldDone
            (loop $field
              (br_if $fieldDone (i32.ge_u (local.get $at) (local.get $end)))
              (br_if $fieldDone (i32.eq (i32.load8_u (local.get $at)) (i32.const 32)))
              (local.set $at (i32.add (local.get $at) (i32.const 1)))
              (br $field)))
          (local.set $skipped (i32.add (local.get $skipped) (i32.const 1)))
          (br $eachField))))
    (block $digitsDone
      (loop $digits
        (br_if $digitsDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $digit (i32.sub (i32.load8_u (local.get $at)) (i32.const 48)))
        (br_if $digitsDone (i32.ge_u (local.get $digit) (i32.const 10)))
        (local.set $value (i32.add (i32.mul (local.get $value) (i32.const 10)) (local.get $digit)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $digits)))
    ;; A number ends at a space or at the end of the line.
    (if (i32.and (i32.lt_u (local.get $at) (local.get $end))
          (i32.ne (i32.load8_u (local.get $at)) (i32.const 32)))
      (then (return (i32.const 0))))
    (local.get $value))

  ;; Decodes the line [$start, $end) (no newline) into the record at $to; 1 if a socket.
  (func $decodeLine (param $start i32) (param $end i32) (param $ipv6 i32) (param $to i32)
    (result i32)
    (local $colon i32) (local $digits i32) (local $addressDigits i32) (local $local i32)
    (local $localPort i32) (local $remote i32) (local $remotePort i32) (local $state i32)
    (local $stateCode i32) (local $localPortValue i32) (local $remotePortValue i32)
    (local $hexOk i32) (local $digit i32) (local $badDigits i32) (local $blocks i32)
    (local $wordsAt i32) (local $firstAt i32) (local $secondAt i32) (local $readsWhen i32)
    (local $timer i32) (local $chunk v128)
    (local $decimal v128) (local $isDecimal v128) (local $letter v128) (local $values v128)
    (local.set $colon (local.get $start))
    (block $spacesDone
      (loop $spaces
        (br_if $spacesDone (i32.ge_u (local.get $colon) (local.get $end)))
        (br_if $spacesDone (i32.ne (i32.load8_u (local.get $colon)) (i32.const 32)))
        (local.set $colon (i32.add (local.get $colon) (i32.const 1)))
        (br $spaces)))
    (local.set $digits (local.get $colon))
    (block $digitsDone
      (loop $decimalDigits
        (br_if $digitsDone (i32.ge_u (local.get $colon) (local.get $end)))
        (br_if $digitsDone
          (i32.ge_u (i32.sub (i32.load8_u (local.get $colon)) (i32.const 48)) (i32.const 10)))
        (local.set $colon (i32.add (local.get $colon) (i32.const 1)))
        (br $decimalDigits)))
    (if (i32.or (i32.eq (local.get $colon) (local.get $digits))
          (i32.ge_u (local.get $colon) (local.get $end)))
      (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $colon)) (i32.const 58)) (then (return (i32.const 0))))

    (local.set $addressDigits (select (i32.const 32) (i32.const 8) (local.get $ipv6)))
    (local.set $local (i32.add (local.get $colon) (i32.const 2)))
    (local.set $localPort
      (i32.add (i32.add (local.get $local) (local.get $addressDigits)) (i32.const 1)))
    (local.set $remote (i32.add (local.get $localPort) (i32.const 5)))
    (local.set $remotePort
      (i32.add (i32.add (local.get $remote) (local.get $addressDigits)) (i32.const 1)))
    (local.set $state (i32.add (local.get $remotePort) (i32.const 5)))
    ;; `ST TX:RX TR:WHEN ` must be there whole (see the top of this file).
    (if (i32.gt_u (i32.add (local.get $state) (i32.const 33)) (local.get $end))
      (then (return (i32.const 0))))
    (if (i32.or
          (i32.or
            (i32.or
              (i32.ne (i32.load8_u offset=1 (local.get $colon)) (i32.const 32))
              (i32.ne (i32.load8_u (i32.sub (local.get $localPort) (i32.const 1))) (i32.const 58)))
            (i32.or
              (i32.ne (i32.load8_u (i32.sub (local.get $remote) (i32.const 1))) (i32.const 32))
              (i32.ne (i32.load8_u (i32.sub (local.get $remotePort) (i32.const 1))) (i32.const 58))))
          (i32.or
            (i32.or
              (i32.ne (i32.load8_u (i32.sub (local.get $state) (i32.const 1))) (i32.const 32))
              (i32.ne (i32.load8_u offset=2 (local.get $state)) (i32.const 32)))
            ;; ` TR:` as one little-endian word (space, two digits, colon), then the colon
            ;; of TX:RX and the space after WHEN.
            (i32.or
              (i32.ne (i32.and (i32.load offset=20 (local.get $state)) (i32.const 0xff0000ff))
                (i32.const 0x3a000020))
              (i32.ne
                (i32.or (i32.shl (i32.load8_u offset=11 (local.get $state)) (i32.const 8))
                  (i32.load8_u offset=32 (local.get $state)))
                (i32.const 0x3a20)))))
      (then (return (i32.const 0))))

    ;; Ports and the state, a digit at a time through the table: any digit that is not
    ;; hex sets bit 4 of $badDigits.
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u (local.get $state))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $stateCode (local.get $digit))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=1 (local.get $state))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $stateCode (i32.or (i32.shl (local.get $stateCode) (i32.const 4)) (local.get $digit)))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u (local.get $localPort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $localPortValue (local.get $digit))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=1 (local.get $localPort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $localPortValue (i32.or (i32.shl (local.get $localPortValue) (i32.const 4)) (local.get $digit)))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=2 (local.get $localPort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $localPortValue (i32.or (i32.shl (local.get $localPortValue) (i32.const 4)) (local.get $digit)))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=3 (local.get $localPort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $localPortValue (i32.or (i32.shl (local.get $localPortValue) (i32.const 4)) (local.get $digit)))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u (local.get $remotePort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $remotePortValue (local.get $digit))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=1 (local.get $remotePort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $remotePortValue (i32.or (i32.shl (local.get $remotePortValue) (i32.const 4)) (local.get $digit)))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=2 (local.get $remotePort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $remotePortValue (i32.or (i32.shl (local.get $remotePortValue) (i32.const 4)) (local.get $digit)))
    (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=3 (local.get $remotePort))))
    (local.set $badDigits (i32.or (local.get $badDigits) (local.get $digit)))
    (local.set $remotePortValue (i32.or (i32.shl (local.get $remotePortValue) (i32.const 4)) (local.get $digit)))
    (if (i32.or
          (i32.and (local.get $badDigits) (i32.const 16))
          (i32.ge_u (i32.sub (local.get $stateCode) (i32.const 1)) (i32.const 11)))
      (then (return (i32.const 0))))
    (i32.store (local.get $to) (i32.sub (local.get $stateCode) (i32.const 1)))
    (i32.store offset=4 (local.get $to) (local.get $localPortValue))
    (i32.store offset=8 (local.get $to) (local.get $remotePortValue))
    (i64.store offset=12 (local.get $to) (i64.const 0))
    ;; Blocks of 16 hex digits (two words), each from two 8-digit runs: tcp has one, of
    ;; both addresses; tcp6 four, two per address. LISTEN and TIME_WAIT lines first have
    ;; one more, of rx_queue and when: `ST TX:RX TR:WHEN ` with every field fixed-width.
    (local.set $blocks (select (i32.const 4) (i32.const 1) (local.get $ipv6)))
    (local.set $wordsAt (i32.add (local.get $to) (i32.const 20)))
    (local.set $firstAt (local.get $local))
    (local.set $secondAt
      (select (i32.add (local.get $local) (i32.const 8)) (local.get $remote) (local.get $ipv6)))
    (local.set $readsWhen
      (i32.or (i32.eq (local.get $stateCode) (i32.const 10))
        (i32.eq (local.get $stateCode) (i32.const 6))))
    (if (local.get $readsWhen)
      (then
        (local.set $blocks (i32.add (local.get $blocks) (i32.const 1)))
        (local.set $wordsAt (i32.add (local.get $to) (i32.const 12)))
        (local.set $firstAt (i32.add (local.get $state) (i32.const 12)))
        (local.set $secondAt (i32.add (local.get $state) (i32.const 24)))))
    (local.set $hexOk (i32.const 1))
    (loop $eachBlock
      (local.set $chunk
        (v128.load64_lane 1 (local.get $secondAt) (v128.load64_zero (local.get $firstAt))))
      (local.set $decimal (i8x16.sub (local.get $chunk) (i8x16.splat (i32.const 48))))
      (local.set $isDecimal (i8x16.lt_u (local.get $decimal) (i8x16.splat (i32.const 10))))
      ;; Setting bit 5 makes A-F a-f and turns no other byte into one of a-f.
      (local.set $letter
        (i8x16.sub (v128.or (local.get $chunk) (i8x16.splat (i32.const 32)))
          (i8x16.splat (i32.const 97))))
      (local.set $hexOk
        (i32.and (local.get $hexOk)
          (i8x16.all_true
            (v128.or (local.get $isDecimal)
              (i8x16.lt_u (local.get $letter) (i8x16.splat (i32.const 6)))))))
      (local.set $values
        (v128.bitselect (local.get $decimal)
          (i8x16.add (local.get $letter) (i8x16.splat (i32.const 10)))
          (local.get $isDecimal)))
      ;; Each 16-bit lane holds a digit pair, first digit in the low byte: make its low
      ;; byte the pair's value, then gather those bytes four to a word, highest first.
      (local.set $values
        (v128.or (i16x8.shl (local.get $values) (i32.const 4))
          (i16x8.shr_u (local.get $values) (i32.const 8))))
      (v128.store64_lane 0 (local.get $wordsAt)
        (i8x16.shuffle 6 4 2 0 14 12 10 8 0 0 0 0 0 0 0 0 (local.get $values) (local.get $values)))
      (local.set $wordsAt (i32.add (local.get $wordsAt) (i32.const 8)))
      ;; The next block: after rx/when the first address block; in tcp6, after the local
      ;; address's second block the remote address, else the next 16 digits.
      (local.set $firstAt
        (select (local.get $local)
          (select (local.get $remote) (i32.add (local.get $firstAt) (i32.const 16))
            (i32.eq (local.get $wordsAt) (i32.add (local.get $to) (i32.const 36))))
          (i32.eq (local.get $wordsAt) (i32.add (local.get $to) (i32.const 20)))))
      (local.set $secondAt
        (select (i32.add (local.get $firstAt) (i32.const 8)) (local.get $remote)
          (local.get $ipv6)))
      (local.set $blocks (i32.sub (local.get $blocks) (i32.const 1)))
      (br_if $eachBlock (local.get $blocks)))
    ;; TIME_WAIT: tr instead of rx_queue (always 0 there).
    (if (i32.eq (local.get $stateCode) (i32.const 6))
      (then
        (local.set $timer (i32.load8_u offset=262208 (i32.load8_u offset=21 (local.get $state))))
        (local.set $digit (i32.load8_u offset=262208 (i32.load8_u offset=22 (local.get $state))))
        (if (i32.and (i32.or (local.get $timer) (local.get $digit)) (i32.const 16))
          (then (return (i32.const 0))))
        (i32.store offset=12 (local.get $to)
          (i32.or (i32.shl (local.get $timer) (i32.const 4)) (local.get $digit)))))
    ;; CLOSE_WAIT: the inode, after `ST TX:RX TR:WHEN RETRNSMT ` (42 bytes from ST).
    (if (i32.eq (local.get $stateCode) (i32.const 8))
      (then
        (i32.store offset=16 (local.get $to)
          (call $inode (i32.add (local.get $state) (i32.const 42)) (local.get $end)))))
    (local.get $hexOk))

  ;; Decodes every complete line in [$from, $end) into records, tcp6 lines if $ipv6.
  ;; Returns the number of records; sets next (where the first incomplete line starts),
  ;; lines and malformed.
  (func (export "decode") (param $from i32) (param $end i32) (param $ipv6 i32) (result i32)
    (local $lineStart i32) (local $at i32) (local $newline i32) (local $found i32)
    (local $to i32) (local $recordBytes i32) (local $count i32) (local $lines i32)
    (local $malformed i32)
    (local.set $lineStart (local.get $from))
    (local.set $to (global.get $records))
    (local.set $recordBytes (select (i32.const 52) (i32.const 28) (local.get $ipv6)))
    (block $done
      (loop $eachLine
        (local.set $at (local.get $lineStart))
        (block $newlineFound
          (loop $scan
            (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
            (local.set $found
              (i8x16.bitmask
                (i8x16.eq (v128.load (local.get $at)) (i8x16.splat (i32.const 10)))))
            (if (local.get $found)
              (then
                (local.set $newline (i32.add (local.get $at) (i32.ctz (local.get $found))))
                (br $newlineFound)))
            (local.set $at (i32.add (local.get $at) (i32.const 16)))
            (br $scan)))
        ;; A newline past the end is a stale byte of an earlier read.
        (br_if $done (i32.ge_u (local.get $newline) (local.get $end)))
        (local.set $lines (i32.add (local.get $lines) (i32.const 1)))
        (if (call $decodeLine (local.get $lineStart) (local.get $newline) (local.get $ipv6)
              (local.get $to))
          (then
            (local.set $to (i32.add (local.get $to) (local.get $recordBytes)))
            (local.set $count (i32.add (local.get $count) (i32.const 1))))
          (else (local.set $malformed (i32.add (local.get $malformed) (i32.const 1)))))
        (local.set $lineStart (i32.add (local.get $newline) (i32.const 1)))
        (br $eachLine)))
    (global.set $next (local.get $lineStart))
    (global.set $lines (local.get $lines))
    (global.set $malformed (local.get $malformed))
    (local.get $count))
)
