;; Decoder and counter for /proc/net/nf_conntrack, run over the read buffer in this module's
;; own memory: read() writes the kernel's text there and decode() finds each complete line's
;; tuples and counts every source-NATed flow per destination (protocol, NAT address, remote
;; address, remote port) in an open-addressing hash table, so JS makes one call per buffer
;; and reads the table once per sample (conntrack-table.ts). Assembled by scripts/gen-wasm.ts.
;;
;; Line: `ipv4 2 tcp 6 117 TIME_WAIT src=A dst=R sport=a dport=r src=R dst=N sport=r dport=n
;; ...`. A flow whose reply destination N:n differs from its original source A:a was
;; source-NATed: N:n is the NAT address and port it holds toward R:r (docs/conntrack.md).
;; Lines without two tuples, with a bad address or port, are malformed.
;;
;; Memory: [0, 1 MiB) read buffer; 64 bytes of slack (the newline scan loads 16 bytes at a
;; time); scratch; a batch of keys to count; the hash table from 0x110000, grown by doubling.
;; Key (36 bytes): port word (remote port | IPv6 << 16 | protocol << 17), NAT address,
;; remote address (16 bytes each, network order; IPv4 in the first 4, the rest zero).
;; Slot (40 bytes): count (0: empty), then the key.
;;
;; The table is larger than the caches, and each read() of the kernel's table evicts them,
;; so nearly every lookup misses: keys are counted in batches whose slots are loaded first,
;; all at once, so the misses overlap instead of coming one after another.
(module
  (memory (export "memory") 20)
  (global (export "bufferBytes") i32 (i32.const 1048576))
  ;; The original source address, compared with the NAT address.
  (global $original i32 (i32.const 1048640))
  ;; Groups of an IPv6 address being decoded, one i32 each.
  (global $groups i32 (i32.const 1048672))
  ;; Keys waiting to be counted, 40 bytes apart (the key, then its hash).
  (global $batch i32 (i32.const 1048704))
  (global $batchKeys i32 (i32.const 32))
  (global $batched (mut i32) (i32.const 0))
  ;; Where the batch's first loads go, so that they are not dropped as unused.
  (global $touched (mut i32) (i32.const 0))
  (global $table (export "table") i32 (i32.const 1114112))
  (global $initialSlots i32 (i32.const 4096))

  (global $slots (export "slots") (mut i32) (i32.const 4096))
  (global $size (export "size") (mut i32) (i32.const 0))
  (global $maxSlots (mut i32) (i32.const 2097152))
  ;; Totals of the decode() calls since reset().
  (global $lines (export "lines") (mut i32) (i32.const 0))
  (global $malformed (export "malformed") (mut i32) (i32.const 0))
  (global $natted (export "natted") (mut i32) (i32.const 0))
  ;; Where the last decimal number ended.
  (global $after (mut i32) (i32.const 0))

  (func (export "setMaxSlots") (param $slots i32)
    (global.set $maxSlots (local.get $slots)))

  ;; Empties the table for a new sample, sized for the last sample's destinations.
  (func (export "reset")
    (local $slots i32)
    (local.set $slots (global.get $initialSlots))
    (loop $fit
      (if (i32.lt_u (local.get $slots) (i32.shl (global.get $size) (i32.const 1)))
        (then
          (local.set $slots (i32.shl (local.get $slots) (i32.const 1)))
          (br $fit))))
    (global.set $slots (local.get $slots))
    (memory.fill (global.get $table) (i32.const 0) (i32.mul (local.get $slots) (i32.const 40)))
    (global.set $size (i32.const 0))
    (global.set $batched (i32.const 0))
    (global.set $lines (i32.const 0))
    (global.set $malformed (i32.const 0))
    (global.set $natted (i32.const 0)))

  (func $skipSpaces (param $at i32) (param $end i32) (result i32)
    (block $done
      (loop $spaces
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (br_if $done (i32.ne (i32.load8_u (local.get $at)) (i32.const 32)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $spaces)))
    (local.get $at))

  ;; The index after the field at $at and the spaces that follow it.
  (func $skipField (param $at i32) (param $end i32) (result i32)
    (block $done
      (loop $field
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (br_if $done (i32.eq (i32.load8_u (local.get $at)) (i32.const 32)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $field)))
    (call $skipSpaces (local.get $at) (local.get $end)))

  ;; Whether the $length bytes at $at (all before $end) are $word's, first byte lowest.
  (func $matches (param $at i32) (param $end i32) (param $word i64) (param $length i32)
    (result i32)
    (if (i32.gt_u (i32.add (local.get $at) (local.get $length)) (local.get $end))
      (then (return (i32.const 0))))
    (i64.eq (local.get $word)
      (i64.and (i64.load (local.get $at))
        (i64.sub
          (i64.shl (i64.const 1) (i64.extend_i32_u (i32.shl (local.get $length) (i32.const 3))))
          (i64.const 1)))))

  ;; A decimal number from $at up to a space or $end, else -1; $after: where it ended.
  (func $decimal (param $at i32) (param $end i32) (result i64)
    (local $from i32) (local $digit i32) (local $value i64)
    (local.set $from (local.get $at))
    (block $done
      (loop $digits
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $digit (i32.sub (i32.load8_u (local.get $at)) (i32.const 48)))
        (br_if $done (i32.ge_u (local.get $digit) (i32.const 10)))
        (local.set $value
          (i64.add (i64.mul (local.get $value) (i64.const 10)) (i64.extend_i32_u (local.get $digit))))
        (if (i64.gt_u (local.get $value) (i64.const 0xffffffff)) (then (return (i64.const -1))))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $digits)))
    (global.set $after (local.get $at))
    (if (i32.or (i32.eq (local.get $at) (local.get $from))
          (i32.and (i32.lt_u (local.get $at) (local.get $end))
            (i32.ne (i32.load8_u (local.get $at)) (i32.const 32))))
      (then (return (i64.const -1))))
    (local.get $value))

  ;; A port (0-65535) from $at, else -1.
  (func $port (param $at i32) (param $end i32) (result i32)
    (local $value i64)
    (local.set $value (call $decimal (local.get $at) (local.get $end)))
    (if (i64.gt_u (local.get $value) (i64.const 65535)) (then (return (i32.const -1))))
    (i32.wrap_i64 (local.get $value)))

  ;; The index after the next `src=` from $at, or -1 when the line has none.
  (func $nextTuple (param $at i32) (param $end i32) (result i32)
    (local.set $at (call $skipSpaces (local.get $at) (local.get $end)))
    (block $none
      (loop $fields
        (br_if $none (i32.ge_u (local.get $at) (local.get $end)))
        (if (call $matches (local.get $at) (local.get $end) (i64.const 0x3d637273) (i32.const 4))
          (then (return (i32.add (local.get $at) (i32.const 4)))))
        (local.set $at (call $skipField (local.get $at) (local.get $end)))
        (br $fields)))
    (i32.const -1))

  ;; A dotted quad into the 16 bytes at $to (the last 12 zero); the index after it, or -1.
  (func $ipv4 (param $at i32) (param $end i32) (param $to i32) (result i32)
    (local $part i32) (local $from i32) (local $value i32) (local $digit i32) (local $next i32)
    (v128.store (local.get $to) (v128.const i64x2 0 0))
    (loop $parts
      (local.set $value (i32.const 0))
      (local.set $from (local.get $at))
      (block $digitsDone
        (loop $digits
          (br_if $digitsDone (i32.ge_u (local.get $at) (local.get $end)))
          (br_if $digitsDone (i32.ge_u (i32.sub (local.get $at) (local.get $from)) (i32.const 3)))
          (local.set $digit (i32.sub (i32.load8_u (local.get $at)) (i32.const 48)))
          (br_if $digitsDone (i32.ge_u (local.get $digit) (i32.const 10)))
          (local.set $value (i32.add (i32.mul (local.get $value) (i32.const 10)) (local.get $digit)))
          (local.set $at (i32.add (local.get $at) (i32.const 1)))
          (br $digits)))
      (if (i32.or (i32.eq (local.get $at) (local.get $from))
            (i32.gt_u (local.get $value) (i32.const 255)))
        (then (return (i32.const -1))))
      (i32.store8 (i32.add (local.get $to) (local.get $part)) (local.get $value))
      (local.set $next (i32.load8_u (local.get $at)))
      (if (i32.lt_u (local.get $part) (i32.const 3))
        (then
          (if (i32.ne (local.get $next) (i32.const 46)) (then (return (i32.const -1))))
          (local.set $at (i32.add (local.get $at) (i32.const 1)))
          (local.set $part (i32.add (local.get $part) (i32.const 1)))
          (br $parts))))
    (if (i32.and (i32.lt_u (local.get $at) (local.get $end))
          (i32.ne (local.get $next) (i32.const 32)))
      (then (return (i32.const -1))))
    (local.get $at))

  ;; A hex digit's value, or -1.
  (func $hex (param $byte i32) (result i32)
    (local $letter i32)
    (if (i32.lt_u (i32.sub (local.get $byte) (i32.const 48)) (i32.const 10))
      (then (return (i32.sub (local.get $byte) (i32.const 48)))))
    (local.set $letter (i32.sub (i32.or (local.get $byte) (i32.const 32)) (i32.const 97)))
    (if (i32.lt_u (local.get $letter) (i32.const 6))
      (then (return (i32.add (local.get $letter) (i32.const 10)))))
    (i32.const -1))

  ;; Eight groups of hex digits as %pI6 prints them, or a `::`-compressed form, into the 16
  ;; bytes at $to; the index after it, or -1.
  (func $ipv6 (param $at i32) (param $end i32) (param $to i32) (result i32)
    (local $count i32) (local $gap i32) (local $value i32) (local $from i32) (local $digit i32)
    (local $group i32) (local $source i32)
    (local.set $gap (i32.const -1))
    (if (i32.and (i32.eq (i32.load8_u (local.get $at)) (i32.const 58))
          (i32.eq (i32.load8_u offset=1 (local.get $at)) (i32.const 58)))
      (then
        (local.set $gap (i32.const 0))
        (local.set $at (i32.add (local.get $at) (i32.const 2)))))
    (block $groupsDone
      (loop $eachGroup
        (br_if $groupsDone (i32.ge_u (local.get $at) (local.get $end)))
        (br_if $groupsDone (i32.eq (i32.load8_u (local.get $at)) (i32.const 32)))
        (local.set $value (i32.const 0))
        (local.set $from (local.get $at))
        (block $digitsDone
          (loop $digits
            (br_if $digitsDone (i32.ge_u (local.get $at) (local.get $end)))
            (br_if $digitsDone (i32.ge_u (i32.sub (local.get $at) (local.get $from)) (i32.const 4)))
            (local.set $digit (call $hex (i32.load8_u (local.get $at))))
            (br_if $digitsDone (i32.lt_s (local.get $digit) (i32.const 0)))
            (local.set $value (i32.or (i32.shl (local.get $value) (i32.const 4)) (local.get $digit)))
            (local.set $at (i32.add (local.get $at) (i32.const 1)))
            (br $digits)))
        (if (i32.or (i32.eq (local.get $at) (local.get $from)) (i32.eq (local.get $count) (i32.const 8)))
          (then (return (i32.const -1))))
        (i32.store (i32.add (global.get $groups) (i32.shl (local.get $count) (i32.const 2)))
          (local.get $value))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (if (i32.and (i32.lt_u (local.get $at) (local.get $end))
              (i32.eq (i32.load8_u (local.get $at)) (i32.const 58)))
          (then
            (local.set $at (i32.add (local.get $at) (i32.const 1)))
            (if (i32.eq (i32.load8_u (local.get $at)) (i32.const 58))
              (then
                (if (i32.ge_s (local.get $gap) (i32.const 0)) (then (return (i32.const -1))))
                (local.set $gap (local.get $count))
                (local.set $at (i32.add (local.get $at) (i32.const 1))))
              (else
                (if (i32.or (i32.ge_u (local.get $at) (local.get $end))
                      (i32.eq (i32.load8_u (local.get $at)) (i32.const 32)))
                  (then (return (i32.const -1)))))))
          (else
            (if (i32.and (i32.lt_u (local.get $at) (local.get $end))
                  (i32.ne (i32.load8_u (local.get $at)) (i32.const 32)))
              (then (return (i32.const -1))))))
        (br $eachGroup)))
    (if (select
          (i32.ne (local.get $count) (i32.const 8))
          (i32.gt_u (local.get $count) (i32.const 7))
          (i32.lt_s (local.get $gap) (i32.const 0)))
      (then (return (i32.const -1))))
    ;; Group $group is decoded group $group before the gap, the 8 - count groups of the gap
    ;; are zero, and the groups after it are shifted to the end.
    (loop $out
      (local.set $value (i32.const 0))
      (if (i32.or (i32.lt_s (local.get $gap) (i32.const 0)) (i32.lt_s (local.get $group) (local.get $gap)))
        (then (local.set $source (local.get $group)))
        (else (local.set $source (i32.sub (local.get $group) (i32.sub (i32.const 8) (local.get $count))))))
      (if (i32.or (i32.lt_s (local.get $gap) (i32.const 0)) (i32.or
            (i32.lt_s (local.get $group) (local.get $gap))
            (i32.ge_s (local.get $source) (local.get $gap))))
        (then
          (local.set $value
            (i32.load (i32.add (global.get $groups) (i32.shl (local.get $source) (i32.const 2)))))))
      (i32.store8 (local.get $to) (i32.shr_u (local.get $value) (i32.const 8)))
      (i32.store8 offset=1 (local.get $to) (local.get $value))
      (local.set $to (i32.add (local.get $to) (i32.const 2)))
      (local.set $group (i32.add (local.get $group) (i32.const 1)))
      (br_if $out (i32.lt_u (local.get $group) (i32.const 8))))
    (local.get $at))

  (func $address (param $at i32) (param $end i32) (param $ipv6 i32) (param $to i32) (result i32)
    (if (result i32) (local.get $ipv6)
      (then (call $ipv6 (local.get $at) (local.get $end) (local.get $to)))
      (else (call $ipv4 (local.get $at) (local.get $end) (local.get $to)))))

  ;; Mixes the 9 words of the key at $at.
  (func $hash (param $at i32) (result i32)
    (local $hash i32) (local $word i32)
    (loop $words
      (local.set $hash
        (i32.mul (i32.xor (i32.rotl (local.get $hash) (i32.const 5))
                   (i32.load (i32.add (local.get $at) (i32.shl (local.get $word) (i32.const 2)))))
          (i32.const 0x9e3779b1)))
      (local.set $word (i32.add (local.get $word) (i32.const 1)))
      (br_if $words (i32.lt_u (local.get $word) (i32.const 9))))
    (i32.xor (local.get $hash) (i32.shr_u (local.get $hash) (i32.const 15))))

  ;; The slot of the key at $at, whose hash is $hash: its own, or the empty one where it belongs.
  (func $slotOf (param $at i32) (param $hash i32) (result i32)
    (local $mask i32) (local $index i32) (local $slot i32)
    (local.set $mask (i32.sub (global.get $slots) (i32.const 1)))
    (local.set $index (i32.and (local.get $hash) (local.get $mask)))
    (loop $probe
      (local.set $slot
        (i32.add (global.get $table) (i32.mul (local.get $index) (i32.const 40))))
      (if (i32.eqz (i32.load (local.get $slot))) (then (return (local.get $slot))))
      (if (i32.and
            (i32.and
              (i32.eq (i32.load offset=4 (local.get $slot)) (i32.load (local.get $at)))
              (i32.eqz (v128.any_true (v128.xor (v128.load offset=8 (local.get $slot))
                (v128.load offset=4 (local.get $at))))))
            (i32.eqz (v128.any_true (v128.xor (v128.load offset=24 (local.get $slot))
              (v128.load offset=20 (local.get $at))))))
        (then (return (local.get $slot))))
      (local.set $index (i32.and (i32.add (local.get $index) (i32.const 1)) (local.get $mask)))
      (br $probe))
    (unreachable))

  ;; Doubles the table, keeping it at most half full; 0 when that passes the cap.
  (func $grow (result i32)
    (local $old i32) (local $oldSlots i32) (local $pages i32) (local $slot i32) (local $end i32)
    (local.set $oldSlots (global.get $slots))
    (if (i32.gt_u (i32.shl (local.get $oldSlots) (i32.const 1)) (global.get $maxSlots))
      (then (return (i32.const 0))))
    ;; The old slots are copied past the new table, then put back in their new places.
    (local.set $old
      (i32.add (global.get $table) (i32.mul (local.get $oldSlots) (i32.const 80))))
    (local.set $end (i32.add (local.get $old) (i32.mul (local.get $oldSlots) (i32.const 40))))
    (local.set $pages
      (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
        (memory.size)))
    (if (i32.gt_s (local.get $pages) (i32.const 0))
      (then
        (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1))
          (then (return (i32.const 0))))))
    (memory.copy (local.get $old) (global.get $table) (i32.mul (local.get $oldSlots) (i32.const 40)))
    (global.set $slots (i32.shl (local.get $oldSlots) (i32.const 1)))
    (memory.fill (global.get $table) (i32.const 0) (i32.mul (global.get $slots) (i32.const 40)))
    (local.set $slot (local.get $old))
    (loop $each
      (if (i32.load (local.get $slot))
        (then
          (memory.copy
            (call $slotOf (i32.add (local.get $slot) (i32.const 4))
              (call $hash (i32.add (local.get $slot) (i32.const 4))))
            (local.get $slot) (i32.const 40))))
      (local.set $slot (i32.add (local.get $slot) (i32.const 40)))
      (br_if $each (i32.lt_u (local.get $slot) (local.get $end))))
    (i32.const 1))

  ;; Counts the key at $key, whose hash is $hash: 1, or 0 when the table is at its cap.
  (func $count (param $key i32) (param $hash i32) (result i32)
    (local $slot i32)
    (local.set $slot (call $slotOf (local.get $key) (local.get $hash)))
    (if (i32.eqz (i32.load (local.get $slot)))
      (then
        (if (i32.gt_u (i32.shl (i32.add (global.get $size) (i32.const 1)) (i32.const 1))
              (global.get $slots))
          (then
            (if (i32.eqz (call $grow)) (then (return (i32.const 0))))
            (local.set $slot (call $slotOf (local.get $key) (local.get $hash)))))
        (memory.copy (i32.add (local.get $slot) (i32.const 4)) (local.get $key) (i32.const 36))
        (global.set $size (i32.add (global.get $size) (i32.const 1)))))
    (i32.store (local.get $slot) (i32.add (i32.load (local.get $slot)) (i32.const 1)))
    (i32.const 1))

  ;; Counts the batch's keys, their first slots loaded first: 1, or 0 at the table's cap.
  (func $flush (result i32)
    (local $key i32) (local $end i32) (local $mask i32) (local $touched i32)
    (local.set $end
      (i32.add (global.get $batch) (i32.mul (global.get $batched) (i32.const 40))))
    (local.set $mask (i32.sub (global.get $slots) (i32.const 1)))
    (local.set $key (global.get $batch))
    (block $touchedAll
      (loop $touch
        (br_if $touchedAll (i32.ge_u (local.get $key) (local.get $end)))
        (local.set $touched
          (i32.add (local.get $touched)
            (i32.load (i32.add (global.get $table)
              (i32.mul (i32.and (i32.load offset=36 (local.get $key)) (local.get $mask))
                (i32.const 40))))))
        (local.set $key (i32.add (local.get $key) (i32.const 40)))
        (br $touch)))
    (global.set $touched (local.get $touched))
    (global.set $batched (i32.const 0))
    (local.set $key (global.get $batch))
    (block $countedAll
      (loop $each
        (br_if $countedAll (i32.ge_u (local.get $key) (local.get $end)))
        (if (i32.eqz (call $count (local.get $key) (i32.load offset=36 (local.get $key))))
          (then (return (i32.const 0))))
        (local.set $key (i32.add (local.get $key) (i32.const 40)))
        (br $each)))
    (i32.const 1))

  ;; 1: a source-NATed flow, batched to be counted; 0: a flow that is not, or of a protocol
  ;; without ports; -1: malformed; -2: the table is at its cap. The tuples' fields come in a
  ;; fixed order (src, dst, then sport, dport), so each is expected in turn, not looked up.
  (func $decodeLine (param $start i32) (param $end i32) (result i32)
    (local $ipv6 i32) (local $protocol i64) (local $at i32) (local $sourcePort i32)
    (local $remotePort i32) (local $natPort i32) (local $key i32)
    (local.set $key
      (i32.add (global.get $batch) (i32.mul (global.get $batched) (i32.const 40))))
    (local.set $ipv6 (i32.eq (i32.load8_u offset=3 (local.get $start)) (i32.const 54)))
    ;; Fields 3 and 4: the protocol's name, then its number.
    (local.set $protocol
      (call $decimal
        (call $skipField
          (call $skipField (call $skipField (local.get $start) (local.get $end)) (local.get $end))
          (local.get $end))
        (local.get $end)))
    (if (i64.lt_s (local.get $protocol) (i64.const 0)) (then (return (i32.const -1))))
    (if (i32.eqz (i32.or
          (i32.or (i64.eq (local.get $protocol) (i64.const 6)) (i64.eq (local.get $protocol) (i64.const 17)))
          (i32.or (i64.eq (local.get $protocol) (i64.const 33))
            (i32.or (i64.eq (local.get $protocol) (i64.const 132))
              (i64.eq (local.get $protocol) (i64.const 136))))))
      (then (return (i32.const 0))))
    ;; The original tuple: its source is compared with the reply's destination.
    (local.set $at (call $nextTuple (global.get $after) (local.get $end)))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $at (call $address (local.get $at) (local.get $end) (local.get $ipv6) (global.get $original)))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.eqz (call $matches (local.get $at) (local.get $end) (i64.const 0x3d74736420) (i32.const 5)))
      (then (return (i32.const -1))))
    (local.set $at (call $skipField (i32.add (local.get $at) (i32.const 1)) (local.get $end)))
    (if (i32.eqz (call $matches (i32.sub (local.get $at) (i32.const 1)) (local.get $end)
          (i64.const 0x3d74726f707320) (i32.const 7)))
      (then (return (i32.const -1))))
    (local.set $sourcePort (call $port (i32.add (local.get $at) (i32.const 6)) (local.get $end)))
    (if (i32.lt_s (local.get $sourcePort) (i32.const 0)) (then (return (i32.const -1))))
    ;; The reply tuple: remote address and port, then the NAT address and port.
    (local.set $at (call $nextTuple (global.get $after) (local.get $end)))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $at (call $address (local.get $at) (local.get $end) (local.get $ipv6)
      (i32.add (local.get $key) (i32.const 20))))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.eqz (call $matches (local.get $at) (local.get $end) (i64.const 0x3d74736420) (i32.const 5)))
      (then (return (i32.const -1))))
    (local.set $at
      (call $address (i32.add (local.get $at) (i32.const 5)) (local.get $end) (local.get $ipv6)
        (i32.add (local.get $key) (i32.const 4))))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.eqz (call $matches (local.get $at) (local.get $end) (i64.const 0x3d74726f707320) (i32.const 7)))
      (then (return (i32.const -1))))
    (local.set $remotePort (call $port (i32.add (local.get $at) (i32.const 7)) (local.get $end)))
    (if (i32.lt_s (local.get $remotePort) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.eqz (call $matches (global.get $after) (local.get $end) (i64.const 0x3d74726f706420) (i32.const 7)))
      (then (return (i32.const -1))))
    (local.set $natPort (call $port (i32.add (global.get $after) (i32.const 7)) (local.get $end)))
    (if (i32.lt_s (local.get $natPort) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.and (i32.eq (local.get $natPort) (local.get $sourcePort))
          (i32.eqz (v128.any_true (v128.xor (v128.load offset=4 (local.get $key))
            (v128.load (global.get $original))))))
      (then (return (i32.const 0))))
    (i32.store (local.get $key)
      (i32.or (local.get $remotePort)
        (i32.or (i32.shl (local.get $ipv6) (i32.const 16))
          (i32.shl (i32.wrap_i64 (local.get $protocol)) (i32.const 17)))))
    (i32.store offset=36 (local.get $key) (call $hash (local.get $key)))
    (global.set $batched (i32.add (global.get $batched) (i32.const 1)))
    (if (i32.eq (global.get $batched) (global.get $batchKeys))
      (then (if (i32.eqz (call $flush)) (then (return (i32.const -2))))))
    (i32.const 1))

  ;; Decodes every complete line in [0, $end), the first one skipped as malformed if
  ;; $discardFirst (the rest of a line longer than the buffer). Returns where the first
  ;; incomplete line starts, or -1 when the table reached its cap.
  (func (export "decode") (param $end i32) (param $discardFirst i32) (result i32)
    (local $lineStart i32) (local $at i32) (local $newline i32) (local $found i32)
    (local $outcome i32)
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
        (global.set $lines (i32.add (global.get $lines) (i32.const 1)))
        (if (local.get $discardFirst)
          (then
            (local.set $discardFirst (i32.const 0))
            (local.set $outcome (i32.const -1)))
          (else (local.set $outcome (call $decodeLine (local.get $lineStart) (local.get $newline)))))
        (if (i32.eq (local.get $outcome) (i32.const -2)) (then (return (i32.const -1))))
        (if (i32.eq (local.get $outcome) (i32.const -1))
          (then (global.set $malformed (i32.add (global.get $malformed) (i32.const 1)))))
        (global.set $natted (i32.add (global.get $natted) (i32.eq (local.get $outcome) (i32.const 1))))
        (local.set $lineStart (i32.add (local.get $newline) (i32.const 1)))
        (br $eachLine)))
    (if (i32.eqz (call $flush)) (then (return (i32.const -1))))
    (local.get $lineStart))
)
