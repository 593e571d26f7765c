/**
 * `promtool test rules` cases of the `tcpstate-connect-errors` group
 * (mixin/connect-errors-alerts.ts), in the form of alert-cases.ts, which runs them with the
 * others. Counted failures are the outage itself: a burst pages, and so does a namespace's
 * first failure, whose series appears already above 0. bind() is also a server retrying its
 * port, which stays quiet.
 */
import type { AlertScenarios, ExpectedAlert } from './alert-cases.js';
import { INSTANCE, POD, POD_LABELS, POD_OWNER, TARGET } from './case-target.js';
import { everyOther } from './conntrack-alert-cases.js';

const OWNER = POD_OWNER;
const CONNECT = `tcpstate_connect_errors_total{${TARGET},errno="EADDRNOTAVAIL",${POD}}`;
const CONNECT_EXITED = `tcpstate_connect_errors_total{${TARGET},errno="EADDRNOTAVAIL",netns="exited"}`;
const BIND = `tcpstate_bind_errors_total{${TARGET},errno="EADDRINUSE",${POD}}`;
const UP = `up{${TARGET}}`;

function connectAlert(
  count: string,
  extra: Readonly<Record<string, string>> = POD_LABELS,
  owner = OWNER,
): ExpectedAlert {
  return {
    labels: {
      severity: 'critical',
      job: 'tcpstate',
      instance: INSTANCE,
      errno: 'EADDRNOTAVAIL',
      ...extra,
    },
    description:
      `${count} connect() calls of ${owner} failed with EADDRNOTAVAIL in the last 5m: every usable local port ` +
      'toward a destination was taken. These are failures the kernel returned, counted by ' +
      '--collector.connect-errors, not a prediction.',
  };
}

function bindAlert(count: string): ExpectedAlert {
  return {
    labels: {
      severity: 'warning',
      job: 'tcpstate',
      instance: INSTANCE,
      errno: 'EADDRINUSE',
      ...POD_LABELS,
    },
    description:
      `${count} bind() calls of ${OWNER} failed with EADDRINUSE in the last 5m, and have for 10m: a client that ` +
      'binds before connecting found no free port, or a server keeps retrying a port that is taken.',
  };
}

export const CONNECT_ERROR_SCENARIOS: readonly AlertScenarios[] = [
  {
    alert: 'TcpStateConnectFailing',
    evalTime: '20m',
    firing: {
      name: 'a pod fails 3 connect() calls a minute',
      series: { [CONNECT]: '0+3x25' },
      expected: [connectAlert('15')],
    },
    quiet: {
      name: 'failures counted long ago, none in the last 15 minutes',
      series: { [CONNECT]: '7x25' },
    },
    idle: { name: 'no failure since the exporter started: no series', series: { [UP]: '1x25' } },
    reset: {
      name: 'the exporter restarts after failures stopped: the series is gone until the next one',
      series: { [CONNECT]: '0+2x5 10x4 _x16', [UP]: '1x25' },
    },
    absent: {
      name: 'the collector is off (or failing): nothing is counted, nothing guessed',
      series: { [UP]: '1x25', [BIND]: '0+1x25' },
    },
    flapping: {
      name: 'failures in every other minute are one outage',
      series: { [CONNECT]: everyOther(2, 26) },
      expected: [connectAlert('6')],
    },
    burst: {
      name: 'a burst of 4 failures between two scrapes, 3 minutes ago, pages',
      series: { [CONNECT]: '0x17 4x7' },
      expected: [connectAlert('4')],
    },
    more: [
      {
        kind: 'firing',
        name: "a namespace's first failures: its series appears above 0 and pages",
        series: { [CONNECT]: '_x18 2x7' },
        expected: [connectAlert('2')],
      },
      {
        kind: 'firing',
        name: 'a process gone before attribution is still a failure, named as such',
        series: { [CONNECT_EXITED]: '_x18 1x7' },
        expected: [
          connectAlert(
            '1',
            { netns: 'exited' },
            'processes that exited before they could be attributed, on web-1:10120',
          ),
        ],
      },
      {
        kind: 'firing',
        name: 'a page whose failures stopped 8 minutes ago keeps firing (keep_firing_for)',
        series: { [CONNECT]: '0+1x12 12x13' },
        // The value is the last one the rule saw before it cleared.
        expected: [connectAlert('1')],
      },
    ],
  },
  {
    alert: 'TcpStateBindFailing',
    evalTime: '20m',
    firing: {
      name: 'bind() fails every minute for 20 minutes',
      series: { [BIND]: '0+1x25' },
      expected: [bindAlert('5')],
    },
    quiet: {
      name: 'benign: a restarting server retries its busy port for 3 minutes',
      series: { [BIND]: '_x10 1 2 3 3x12' },
    },
    idle: { name: 'no failure: no series', series: { [UP]: '1x25' } },
    reset: {
      name: 'the exporter restarts after failures stopped',
      series: { [BIND]: '0+1x8 8x2 _x15', [UP]: '1x25' },
    },
    absent: {
      name: 'the collector is off; connect() failures are another alert',
      series: { [UP]: '1x25', [CONNECT]: '0+1x25' },
    },
    flapping: {
      name: 'failures in every other minute for 20 minutes',
      series: { [BIND]: everyOther(2, 26) },
      expected: [bindAlert('6')],
    },
    burst: {
      name: 'a 3-minute burst of failures is no warning',
      series: { [BIND]: '0x14 0+5x3 15x7' },
    },
  },
];
