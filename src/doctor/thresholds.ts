/**
 * Where a figure becomes a finding. Each value says why it is where it is; tests read
 * these constants instead of repeating the numbers.
 */

/**
 * A destination holding half its usable ports has no room left for its connection rate
 * to double: every TIME_WAIT keeps its port for 60 s.
 */
export const EPHEMERAL_USE_WARNING_RATIO = 0.5;
/** Past 80 % one burst exhausts the range and connect() fails with EADDRNOTAVAIL. */
export const EPHEMERAL_USE_CRITICAL_RATIO = 0.8;

/** A quarter of the limit left: a traffic peak reaches it. */
export const TIME_WAIT_BUCKETS_WARNING_RATIO = 0.75;
/** At the limit the kernel destroys new TIME_WAIT sockets at once. */
export const TIME_WAIT_BUCKETS_CRITICAL_RATIO = 0.95;

/**
 * Outbound TIME_WAIT toward one port that makes keepalive worth it: 500 sockets living
 * 60 s each are about 8 connections per second opened and closed by this host.
 */
export const CLIENT_TIME_WAIT_MIN = 500;
/** On a narrow port range, a tenth of the usable ports toward one port is already pressure. */
export const CLIENT_TIME_WAIT_USABLE_SHARE = 0.1;

/**
 * A correct program closes within milliseconds of reading EOF: this many CLOSE_WAIT
 * sockets on one port, in both samples, means it does not.
 */
export const CLOSE_WAIT_WARNING = 20;
/** Half the default soft limit of 1024 open files: the process is near running out of descriptors. */
export const CLOSE_WAIT_CRITICAL = 512;

/**
 * PAWS rejects at a trickle happen with old duplicates; one per second or more is a peer
 * (often a NAT) whose timestamps go backwards.
 */
export const PAWS_WARNING_PER_SECOND = 1;

/** Rows in each per-port table and destinations listed in text output. */
export const TEXT_TOP_ROWS = 10;

/*
 * Shared with the alerting rules and dashboards: mixin/config.ts reads the values above and
 * below, so an alert and doctor call the same figure a warning or critical. Where the rules
 * used to differ: CLOSE_WAIT paged at 100 and TIME_WAIT warned at 0.8 of the buckets while
 * doctor said 20 and 0.75. Doctor's values won: a CLOSE_WAIT socket is never normal for
 * long (the alert adds persistence with its `for`, as doctor does with two samples), and
 * 0.75 leaves the same quarter of headroom doctor's comment gives the reason for.
 */

/**
 * Distinct in-range ports held, against the usable ports: clients that bind() before
 * connect() (HAProxy `source`, nginx `proxy_bind`) need a port free for every destination
 * at once, so this host-wide figure is their limit. Only a warning: most hosts have no such
 * client, and then held ports near the limit harm nothing.
 */
export const EPHEMERAL_HELD_WARNING_RATIO = 0.8;

/**
 * A listener's accept queue this full at every sample for minutes is full for practical
 * purposes: completed handshakes already overflow it in the moments between samples.
 */
export const LISTEN_QUEUE_FULL_RATIO = 0.9;

/**
 * Orphans (closed by the program, not yet by TCP) against net.ipv4.tcp_max_orphans: the
 * kernel halves the limit for a socket with a soft error, so at half of it the kernel
 * already resets connections ("too many orphaned sockets").
 */
export const ORPHANS_WARNING_RATIO = 0.5;

/**
 * SYN cookies a second: a few are the SYN queue absorbing a burst or a scan; a steady
 * second's worth means the queue is too small for the load, or a flood.
 */
export const SYNCOOKIES_WARNING_PER_SECOND = 1;
