/**
 * The fixes, as exact commands and configuration lines, in the order that works: keep
 * connections alive, unix sockets for local backends, let the server close first; then
 * (relief while that happens) more addresses or ports, a wider range, tcp_tw_reuse=1 for
 * outgoing connections where it applies.
 */
import type { FixStep } from './finding.js';
import { RESERVED_PORTS, TIMESTAMPS, TW_REUSE } from './sysctl-names.js';

/** Sets a sysctl now and persists it in its own file under /etc/sysctl.d/. */
export function sysctlFix(step: string, name: string, value: number | string): FixStep {
  const file = `/etc/sysctl.d/90-${name.split('.').at(-1) ?? name}.conf`;
  const shown = String(value);
  const quoted = /\s/.test(shown) ? `"${shown}"` : shown;
  return {
    step,
    lines: [`sysctl -w ${name}=${quoted}`, `echo '${name} = ${shown}' > ${file}`],
  };
}

/** 127.0.0.0/8 and ::1: what tcp_tw_reuse=2 and "local backend" mean by loopback. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** Inclusive ranges as the kernel's list syntax: `9000,40000-40010`. */
export function formatPortList(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`)).join(',');
}

/** Merges ranges and single ports into sorted, non-overlapping inclusive ranges. */
export function mergePorts(
  ranges: readonly (readonly [number, number])[],
  ports: readonly number[],
): [number, number][] {
  const all = [...ranges.map(([low, high]) => [low, high] as [number, number])];
  for (const port of ports) all.push([port, port]);
  all.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [low, high] of all) {
    const last = merged.at(-1);
    if (last !== undefined && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else merged.push([low, high]);
  }
  return merged;
}

/** The ip_local_reserved_ports line that keeps the current list and adds `ports`. */
export function reservePortsFix(
  step: string,
  current: readonly (readonly [number, number])[],
  ports: readonly number[],
): FixStep {
  return sysctlFix(step, RESERVED_PORTS, formatPortList(mergePorts(current, ports)));
}

const DATABASE_PORTS: Readonly<Record<number, string>> = {
  3306: 'MySQL',
  5432: 'PostgreSQL',
  6379: 'Redis',
  11211: 'memcached',
};

/** FastCGI (php-fpm's default port) gets FastCGI advice; everything else is treated as HTTP. */
const FASTCGI_PORT = 9000;
/**
 * Idle connections each nginx worker keeps per php-fpm upstream: small, because each one
 * holds a php-fpm worker, and pm.max_children is 5 in the shipped pool file.
 */
const PHP_FPM_KEEPALIVE = 2;

export interface Upstream {
  readonly port: number;
  /** Addresses this host connects to on that port (as far as the top destinations show). */
  readonly addresses: readonly string[];
  /** The backend runs on this host: a unix socket removes the ports altogether. */
  readonly local: boolean;
}

function upstreamServers(upstream: Upstream): string[] {
  const addresses = upstream.addresses.length > 0 ? upstream.addresses : ['BACKEND_ADDRESS'];
  return addresses.map(
    (address) => `    server ${address.includes(':') ? `[${address}]` : address}:${upstream.port};`,
  );
}

/** Keep connections to this upstream open, then the alternatives, in order. */
export function upstreamFixes(upstream: Upstream): FixStep[] {
  const { port } = upstream;
  const steps: FixStep[] = [];
  const database = DATABASE_PORTS[port];
  if (port === FASTCGI_PORT) {
    steps.push({
      step: "Port 9000 is php-fpm's default: keep FastCGI connections to it open with an nginx upstream with keepalive, and fastcgi_keep_conn in the location that passes to it. Each kept-alive connection pins one php-fpm worker for as long as it stays open, so keepalive × nginx worker_processes must stay well under php-fpm's pm.max_children, or requests queue for a free worker",
      lines: [
        'upstream php_fpm {',
        ...upstreamServers(upstream),
        `    keepalive ${PHP_FPM_KEEPALIVE};`,
        '}',
        'fastcgi_pass php_fpm;',
        'fastcgi_keep_conn on;',
      ],
    });
    if (upstream.local) {
      steps.push({
        step: 'Or talk to the local php-fpm over a unix socket: no ports, no TIME_WAIT (php-fpm pool, then nginx)',
        lines: ['listen = /run/php/php-fpm.sock', 'fastcgi_pass unix:/run/php/php-fpm.sock;'],
      });
    }
    steps.push({
      step: 'If port 9000 speaks HTTP instead, keep connections open with an upstream keepalive and, in the location',
      lines: ['proxy_http_version 1.1;', 'proxy_set_header Connection "";'],
    });
  } else if (database !== undefined) {
    steps.push({
      step: `Use persistent connections or a connection pool for ${database} on port ${port} instead of a connection per request`,
    });
    if (upstream.local) {
      steps.push({
        step: `Or connect to the local ${database} over its unix socket: no ports, no TIME_WAIT`,
      });
    }
  } else {
    steps.push({
      step: `Keep HTTP connections to port ${port} open: nginx upstream with keepalive, HTTP/1.1 and an empty Connection header in the location that proxies to it (other clients: enable keep-alive or a connection pool). keepalive N is the idle connections each nginx worker keeps, not a limit on connections; keepalive_requests (1000 by default) closes a connection after that many requests, and keepalive_timeout must be shorter than the backend's own idle timeout, or nginx reuses connections the backend is closing`,
      lines: [
        `upstream backend_${port} {`,
        ...upstreamServers(upstream),
        '    keepalive 32;',
        '}',
        `proxy_pass http://backend_${port};`,
        'proxy_http_version 1.1;',
        'proxy_set_header Connection "";',
      ],
    });
    if (upstream.local) {
      steps.push({
        step: 'Or let the local backend listen on a unix socket and proxy to it: no ports, no TIME_WAIT',
        lines: ['proxy_pass http://unix:/run/backend.sock;'],
      });
    }
  }
  steps.push({
    step: "Where connections are opened per request and you control both ends, let the server close them: TIME_WAIT then stays on the server, where it holds no ephemeral port (for kept-alive connections this does not apply: an idle one should be closed by the client, before the server's idle timeout)",
  });
  return steps;
}

/** tcp_tw_reuse=1 with its precondition, for outgoing connections only. */
export function twReuseFixes(timestamps: number | undefined): FixStep[] {
  const steps: FixStep[] = [];
  if (timestamps === 0) {
    steps.push(
      sysctlFix(
        'Turn TCP timestamps on first: tcp_tw_reuse does nothing without them',
        TIMESTAMPS,
        1,
      ),
    );
  }
  steps.push(
    sysctlFix(
      'Let connect() reuse a TIME_WAIT 4-tuple for every destination, not only loopback (affects outgoing connections only)',
      TW_REUSE,
      1,
    ),
  );
  return steps;
}
