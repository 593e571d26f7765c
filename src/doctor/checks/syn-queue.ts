/**
 * syn-queue-overflow: a listener's SYN queue was full. With tcp_syncookies on, the kernel
 * answers with a SYN cookie (TCPReqQFullDoCookies) and the connection still works; with it
 * off, the SYN is dropped (TCPReqQFullDrop) and the client retries after a second or more.
 */

import { sysctlFix } from '../advice.js';
import { type Check, counterEvidence, finding, optionalCounter, Skip } from '../check-context.js';
import type { FixStep } from '../finding.js';
import { SYN_COOKIES_WARNING_PER_SECOND } from '../thresholds.js';

const SYNCOOKIES = 'net.ipv4.tcp_syncookies';
const SOMAXCONN = 'net.core.somaxconn';

export const synQueueOverflow: Check = (context) => {
  const drops = optionalCounter(context, { group: 'tcpExt', field: 'TCPReqQFullDrop' });
  const cookies = optionalCounter(context, { group: 'tcpExt', field: 'TCPReqQFullDoCookies' });
  if (drops === undefined && cookies === undefined)
    throw new Skip('this kernel has neither TCPReqQFullDrop nor TCPReqQFullDoCookies');
  const dropped = drops?.delta ?? 0;
  const cookied = cookies?.delta ?? 0;
  if (dropped === 0 && cookied === 0) return [];
  const syncookies = context.sysctl[SYNCOOKIES];
  const somaxconn = context.sysctl[SOMAXCONN];
  const severity =
    dropped > 0 || (cookies?.perSecond ?? 0) >= SYN_COOKIES_WARNING_PER_SECOND ? 'warning' : 'info';
  const stop: FixStep[] = [
    {
      step: 'Find the listener: SYN_RECV sockets pile up on its port, and for LISTEN sockets Send-Q is the backlog that also bounds the SYN queue',
      lines: ['ss -tan state syn-recv', 'ss -ltn'],
    },
  ];
  if (syncookies === 0)
    stop.push(
      sysctlFix(
        'Turn SYN cookies on so a full SYN queue answers instead of dropping',
        SYNCOOKIES,
        1,
      ),
    );
  return [
    finding('syn-queue-overflow', severity, {
      summary: `SYN queue full: ${dropped} SYNs dropped and ${cookied} answered with SYN cookies in ${context.windowSeconds} s`,
      evidence: {
        ...(drops !== undefined && counterEvidence(drops)),
        ...(cookies !== undefined && counterEvidence(cookies)),
        ...(syncookies !== undefined && { [SYNCOOKIES]: syncookies }),
        ...(somaxconn !== undefined && { [SOMAXCONN]: somaxconn }),
      },
      explanation: `A listener's SYN queue holds as many half-open connections as its accept backlog (min(the program's listen() backlog, ${SOMAXCONN})). When it is full the kernel sends a SYN cookie if ${SYNCOOKIES} is on (the connection works, but without the TCP options the SYN carried unless timestamps hold them) and drops the SYN if it is off (the client retries after 1 s, then 3 s...). Either a SYN flood, or more connection attempts than the listener's backlog for its accept rate.`,
      stopTheBleeding: stop,
      fix: [
        {
          step: `Raise the listener's backlog (capped by ${SOMAXCONN}), e.g. nginx`,
          lines: ['listen 80 backlog=4096;'],
        },
        {
          step: 'If it is a flood of spoofed SYNs (SYN_RECV from many addresses that never complete), filter it upstream; keep SYN cookies on',
        },
      ],
    }),
  ];
};
