/** The sysctls findings cite, by the dotted names `sysctl` and the evidence use. */
export const PORT_RANGE = 'net.ipv4.ip_local_port_range';
export const RESERVED_PORTS = 'net.ipv4.ip_local_reserved_ports';
export const TW_REUSE = 'net.ipv4.tcp_tw_reuse';
export const TW_REUSE_DELAY = 'net.ipv4.tcp_tw_reuse_delay';
export const TIMESTAMPS = 'net.ipv4.tcp_timestamps';
export const MAX_TW_BUCKETS = 'net.ipv4.tcp_max_tw_buckets';
export const EHASH_ENTRIES = 'net.ipv4.tcp_ehash_entries';
export const FIN_TIMEOUT = 'net.ipv4.tcp_fin_timeout';
export const TW_RECYCLE = 'net.ipv4.tcp_tw_recycle';
export const SOMAXCONN = 'net.core.somaxconn';
export const MAX_SYN_BACKLOG = 'net.ipv4.tcp_max_syn_backlog';
export const SYNCOOKIES = 'net.ipv4.tcp_syncookies';
export const MAX_ORPHANS = 'net.ipv4.tcp_max_orphans';
export const TCP_MEM = 'net.ipv4.tcp_mem';
export const CONNTRACK_MAX = 'net.netfilter.nf_conntrack_max';
