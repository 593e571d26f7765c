/**
 * Who closes first between nginx and php-fpm on 127.0.0.1:9000, counted in a network namespace
 * with the real programs. Without `fastcgi_keep_conn` nginx sends FCGI_BEGIN_REQUEST without
 * FCGI_KEEP_CONN, which asks the application to close the connection after its response
 * (FastCGI specification, 5.1): php-fpm closes first, so the TIME_WAIT sits on php-fpm's side
 * (local port 9000), not on nginx's ephemeral ports. With `fastcgi_keep_conn on` and an upstream
 * `keepalive`, nginx reuses its connection and nobody closes: no TIME_WAIT on either side.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canRun } from '../../testkit/kernel/capabilities.js';
import { NetnsLab } from '../../testkit/kernel/netns.js';
import { waitForSs } from '../../testkit/kernel/socket-scenario.js';
import type { SsSocket } from '../../testkit/kernel/ss-oracle.js';

const HOST = '127.0.0.1';
const FPM_PORT = 9000;
const NGINX_PORT = 8080;
const REQUESTS = 50;
/** Idle connections nginx keeps to php-fpm: under the pool's pm.max_children. */
const KEEPALIVE = 2;
const MAX_CHILDREN = 4;

/** Debian names the binary after the PHP version (php-fpm8.2, php-fpm8.4...). */
const phpFpm =
  readdirSync('/usr/sbin').find((name) => /^php-fpm\d+(\.\d+)?$/.test(name)) ?? 'php-fpm';

function fpmConfig(dir: string): string {
  return `[global]
error_log = ${dir}/php-fpm.log
daemonize = no
[pool]
listen = ${HOST}:${FPM_PORT}
pm = static
pm.max_children = ${MAX_CHILDREN}
`;
}

function nginxConfig(dir: string): string {
  const params = `fastcgi_param SCRIPT_FILENAME ${dir}/index.php; fastcgi_param REQUEST_METHOD GET;`;
  return `error_log ${dir}/nginx-error.log;
pid ${dir}/nginx.pid;
worker_processes 1;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp;
  upstream php_fpm { server ${HOST}:${FPM_PORT}; keepalive ${KEEPALIVE}; }
  server {
    listen ${HOST}:${NGINX_PORT};
    location /plain { fastcgi_pass ${HOST}:${FPM_PORT}; ${params} }
    location /kept { fastcgi_pass php_fpm; fastcgi_keep_conn on; ${params} }
  }
}
`;
}

describe.skipIf(
  !canRun('nginx -> php-fpm closes', {
    netns: true,
    commands: ['ss', 'nginx', 'curl', phpFpm],
  }),
)('nginx in front of php-fpm on 127.0.0.1:9000', () => {
  const lab = new NetnsLab('tfc');
  const dir = mkdtempSync(join(tmpdir(), 'tsk-fastcgi-'));
  let ns = '';
  const masters: ChildProcess[] = [];

  /**
   * SIGTERM lets each master stop its workers (the lab's SIGKILL would leave them running);
   * SIGKILL after a bound.
   */
  const stop = async (master: ChildProcess): Promise<void> => {
    if (master.exitCode !== null || master.signalCode !== null) return;
    const exited = once(master, 'exit');
    master.kill('SIGTERM');
    const timer = setTimeout(() => master.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  /** TIME_WAIT on php-fpm's side (it closed first) and on nginx's side (nginx closed first). */
  const timeWait = (list: SsSocket[]) => ({
    phpFpm: list.filter((s) => s.state === 'time_wait' && s.localPort === FPM_PORT).length,
    nginx: list.filter((s) => s.state === 'time_wait' && s.remotePort === FPM_PORT).length,
  });

  /** REQUESTS requests over one curl connection to nginx; each answer proves PHP ran. */
  const request = (path: string): string[] => {
    const url = `http://${HOST}:${NGINX_PORT}${path}`;
    const urls = Array.from({ length: REQUESTS }, () => url);
    return lab
      .exec(ns, 'curl', ['-sSf', '--max-time', '10', ...urls])
      .split('\n')
      .filter((line) => line !== '');
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'index.php'), '<?php echo "php\\n";\n');
    writeFileSync(join(dir, 'php-fpm.conf'), fpmConfig(dir));
    writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir));
    ns = lab.addNamespace('web');
    // -R: the test runs as root, and the pool has no user to switch to.
    masters.push(lab.spawn(ns, phpFpm, ['-F', '-R', '-y', join(dir, 'php-fpm.conf')]));
    masters.push(
      lab.spawn(ns, 'nginx', [
        '-e',
        join(dir, 'nginx-error.log'),
        '-p',
        dir,
        '-c',
        join(dir, 'nginx.conf'),
        '-g',
        'daemon off;',
      ]),
    );
    await waitForSs(lab, ns, (list) =>
      [FPM_PORT, NGINX_PORT]
        .filter((port) => !list.some((s) => s.state === 'listen' && s.localPort === port))
        .map((port) => `nothing listens on ${port} yet`),
    );
  });
  afterAll(async () => {
    await Promise.all(masters.map(stop));
    await lab.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // First, while no FastCGI connection has closed yet in this namespace.
  it('with fastcgi_keep_conn and keepalive, reuses its connections: no TIME_WAIT on either side', async () => {
    expect(request('/kept')).toEqual(Array.from({ length: REQUESTS }, () => 'php'));
    const sockets = await waitForSs(lab, ns, () => []);
    expect(timeWait(sockets)).toEqual({ phpFpm: 0, nginx: 0 });
    const kept = sockets.filter((s) => s.state === 'established' && s.remotePort === FPM_PORT);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThanOrEqual(KEEPALIVE);
  });

  it('without fastcgi_keep_conn, php-fpm closes first: the TIME_WAIT is on port 9000, not on nginx', async () => {
    expect(request('/plain')).toEqual(Array.from({ length: REQUESTS }, () => 'php'));
    // The last response's close may still be on its way.
    const sockets = await waitForSs(lab, ns, (list) => {
      const { phpFpm: count } = timeWait(list);
      return count >= REQUESTS ? [] : [`${count} TIME_WAIT on port ${FPM_PORT}, want ${REQUESTS}`];
    });
    expect(timeWait(sockets)).toEqual({ phpFpm: REQUESTS, nginx: 0 });
  });
});
