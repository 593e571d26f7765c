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

/**
 * Clients that bind(address, 0) before connect() (Go Dialer.LocalAddr, Java bind(addr, 0),
 * Python source_address) are sure only of ports no socket holds, for any destination. /proc cannot show whether any client binds
 * first, so this finding is never critical: info at half the usable ports held (the line of
 * EPHEMERAL_USE_WARNING_RATIO, for the host-wide figure)...
 */
export const BIND_FIRST_HELD_INFO_RATIO = 0.5;
/** ...and a warning past 80 %, where one burst leaves such a client no port (EADDRINUSE). */
export const BIND_FIRST_HELD_WARNING_RATIO = 0.8;

/**
 * Orphans (closed by the program, still finishing the TCP close) against tcp_max_orphans.
 * tcp_out_of_resources() shifts the orphan count left once for a socket that sent nothing
 * for 2 x TCP_RTO_MAX (or is not to be reset) and once more for a soft error, so the
 * quietest of them are reset from a quarter of the limit ("too many orphaned sockets")...
 */
export const ORPHANS_WARNING_RATIO = 0.25;
/** ...and every idle or erring one from half of it. */
export const ORPHANS_CRITICAL_RATIO = 0.5;

/**
 * SYN cookies rising at this rate or more: a queue that overflows every second, not a
 * stray burst. Below it the finding is info. Any TCPReqQFullDrop is a warning: SYNs lost.
 */
export const SYN_COOKIES_WARNING_PER_SECOND = 1;

/**
 * tcp_tw_reuse_delay's default (Linux 6.14+): below it a reused 4-tuple may meet a peer or a
 * middlebox that has not finished with the old connection; an info finding, never worse.
 */
export const TW_REUSE_DELAY_DEFAULT_MS = 1000;

/**
 * tcp_fin_timeout's default, in seconds: below it someone lowered it, usually to shorten
 * TIME_WAIT, which it does not touch (TIME_WAIT is a fixed 60 s); an info finding.
 */
export const FIN_TIMEOUT_DEFAULT_SECONDS = 60;

/**
 * NAT ports held toward one destination against those the NAT rule gives. Conntrack keeps
 * a closed flow's port for nf_conntrack_tcp_timeout_time_wait (120 s): at half, the
 * connection rate to that destination cannot double...
 */
export const SNAT_USE_WARNING_RATIO = 0.5;
/**
 * ...and past 80 % one burst takes the rest, and SYNs are dropped (connect() times out).
 * Kernels give up early on a large, nearly full range, so the page comes well before 100 %.
 */
export const SNAT_USE_CRITICAL_RATIO = 0.8;

/**
 * Conntrack entries against nf_conntrack_max: a quarter left, a traffic peak reaches the
 * limit, where new flows are dropped.
 */
export const CONNTRACK_ENTRIES_WARNING_RATIO = 0.75;
/** At the limit new flows are dropped now. */
export const CONNTRACK_ENTRIES_CRITICAL_RATIO = 1;

/** Rows in each per-port table and destinations listed in text output. */
export const TEXT_TOP_ROWS = 10;

/*
 * Shared with the alerting rules and dashboards: mixin/config.ts reads these values, so an
 * alert and doctor call the same figure a warning or critical. Where the rules used to
 * differ: CLOSE_WAIT paged at 100 and TIME_WAIT warned at 0.8 of the buckets while doctor
 * said 20 and 0.75. Doctor's values won: a CLOSE_WAIT socket is never normal for long (the
 * alert adds persistence with its `for`, as doctor does with two samples), and 0.75 leaves
 * the same quarter of headroom doctor's comment gives the reason for.
 */
