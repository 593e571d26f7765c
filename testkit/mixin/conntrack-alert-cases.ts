/**
 * `promtool test rules` cases of the `tcpstate-conntrack` group (mixin/conntrack-alerts.ts),
 * in the form of alert-cases.ts, which runs them with the others. Besides the usual kinds:
 * a share flapping between 100 % and 99.99 % each scrape, a short burst, and a share that
 * dips below the level after paging.
 */
import type { AlertScenarios, ExpectedAlert } from './alert-cases.js';
import { INSTANCE, TARGET } from './case-target.js';

const labels = (severity: string, extra: Readonly<Record<string, string>> = {}) => ({
  severity,
  job: 'tcpstate',
  instance: INSTANCE,
  ...extra,
});
/** promtool's notation for one value a scrape, alternating between two. */
const alternating = (a: number, b: number, count: number): string =>
  Array.from({ length: count }, (_, index) => (index % 2 === 0 ? a : b)).join(' ');

const NAT_DESTINATION = {
  nat_address: '198.18.0.1',
  remote_address: '203.0.113.10',
  remote_port: '443',
  protocol: 'tcp',
} as const;
const selector = (values: Readonly<Record<string, string>>): string =>
  Object.entries(values)
    .map(([name, value]) => `${name}="${value}"`)
    .join(',');
const SNAT_USED = `tcpstate_snat_ports_used{${TARGET},${selector(NAT_DESTINATION)}}`;
const SNAT_OTHER = `tcpstate_snat_ports_used{${TARGET},nat_address="other",remote_address="other",remote_port="other",protocol="other"}`;
const SNAT_USABLE = `tcpstate_snat_ports_usable{${TARGET},source="rule"}`;
const UP = `up{${TARGET}}`;

function snatAlert(severity: string, share: string): ExpectedAlert {
  return {
    labels: labels(severity, NAT_DESTINATION),
    description:
      `web-1:10120: ${share} of the 10000 NAT ports toward 203.0.113.10 port 443/tcp (from NAT address ` +
      '198.18.0.1) are held by conntrack entries. When none is left the SYN is dropped (conntrack ' +
      'insert_failed and drop): the client times out instead of failing at once.',
  };
}

const ENTRIES = `tcpstate_conntrack_entries{${TARGET}}`;
const LIMIT = `tcpstate_conntrack_entries_limit{${TARGET}}`;
const tableAlert = (
  share: string,
  extra: Readonly<Record<string, string>> = {},
): ExpectedAlert => ({
  labels: labels('warning', extra),
  description:
    `${extra.pod === undefined ? '' : `pod ${extra.namespace}/${extra.pod} (container ${extra.container}) on `}` +
    `web-1:10120: the conntrack table holds ${share} of its 262144 entries (nf_conntrack_max). At the ` +
    'limit the kernel evicts unassured flows (early_drop) and then drops new ones.',
});

/** A pod's namespace (--collector.netns), counted against the node's one limit. */
const POD_NAMESPACE = {
  netns: '4026532001',
  pod: 'web-7d9f8-x2x5q',
  namespace: 'shop',
  container: 'php-fpm',
} as const;
const POD_ENTRIES = `tcpstate_conntrack_entries{${TARGET},${selector(POD_NAMESPACE)}}`;

const INSERT_FAILED = `tcpstate_conntrack_events_total{${TARGET},event="insert_failed"}`;
const DROP = `tcpstate_conntrack_events_total{${TARGET},event="drop"}`;
/** Not a refused flow: must not count. */
const EARLY_DROP = `tcpstate_conntrack_events_total{${TARGET},event="early_drop"}`;

/** A counter that rises by `step` every other sample. */
export function everyOther(step: number, count: number): string {
  return Array.from({ length: count }, (_, i) => Math.floor(i / 2) * step).join(' ');
}

export const CONNTRACK_SCENARIOS: readonly AlertScenarios[] = [
  {
    alert: 'TcpStateSnatPortHeadroomLow',
    evalTime: '20m',
    firing: {
      name: 'every NAT port toward one destination is held',
      series: { [SNAT_USED]: '10000x25', [SNAT_USABLE]: '10000x25' },
      expected: [snatAlert('critical', '100%'), snatAlert('warning', '100%')],
    },
    quiet: {
      name: 'just under half the ports toward the destination; the summed rest is no destination',
      series: {
        [SNAT_USED]: '4990x25',
        [SNAT_OTHER]: '30000x25',
        [SNAT_USABLE]: '10000x25',
      },
    },
    idle: { name: 'no source-NATed flow', series: { [SNAT_USABLE]: '10000x25' } },
    reset: {
      name: 'the exporter restarts after a few minutes at the level and comes back lower',
      series: { [SNAT_USED]: '10000x3 _x2 1000x19', [SNAT_USABLE]: '10000x25' },
    },
    absent: {
      name: 'no tool could list the NAT rules: usable is absent, nothing is guessed',
      series: { [SNAT_USED]: '10000x25', [UP]: '1x25' },
    },
    flapping: {
      name: 'flapping between 100 % and 99.99 % each scrape pages once, at both levels',
      series: { [SNAT_USED]: alternating(10000, 9999, 26), [SNAT_USABLE]: '10000x25' },
      expected: [snatAlert('critical', '100%'), snatAlert('warning', '100%')],
    },
    burst: {
      name: 'a three-minute burst to 100 % is no page',
      series: { [SNAT_USED]: '100x16 10000x2 100x6', [SNAT_USABLE]: '10000x25' },
    },
    more: [
      {
        kind: 'firing',
        name: 'a page that dips under the level for a few scrapes keeps firing (keep_firing_for)',
        series: { [SNAT_USED]: '9000x12 4000x12', [SNAT_USABLE]: '10000x25' },
        expected: [snatAlert('critical', '90%')],
      },
    ],
  },
  {
    alert: 'TcpStateConntrackTableNearlyFull',
    evalTime: '20m',
    firing: {
      name: 'the table holds three quarters of nf_conntrack_max',
      series: { [ENTRIES]: '200000x25', [LIMIT]: '262144x25' },
      expected: [tableAlert('76.29%')],
    },
    quiet: {
      name: 'just under three quarters',
      series: { [ENTRIES]: '196000x25', [LIMIT]: '262144x25' },
    },
    idle: { name: 'a few flows', series: { [ENTRIES]: '40x25', [LIMIT]: '262144x25' } },
    reset: {
      name: 'the exporter restarts and the table is emptier after',
      series: { [ENTRIES]: '250000x3 _x2 1000x19', [LIMIT]: '262144x3 _x2 262144x19' },
    },
    absent: {
      name: 'conntrack is absent: no entries, no limit',
      series: { [UP]: '1x25' },
    },
    flapping: {
      name: 'full and one entry short of full, each scrape, is one alert',
      series: { [ENTRIES]: alternating(262144, 262143, 26), [LIMIT]: '262144x25' },
      expected: [tableAlert('100%')],
    },
    burst: {
      name: 'a five-minute peak at the limit is no alert',
      series: { [ENTRIES]: '1000x15 262144x5 1000x4', [LIMIT]: '262144x25' },
    },
    more: [
      {
        kind: 'firing',
        name: "a pod's namespace near the node's one limit is named; the node's own table is not",
        series: { [ENTRIES]: '1000x25', [POD_ENTRIES]: '200000x25', [LIMIT]: '262144x25' },
        expected: [tableAlert('76.29%', POD_NAMESPACE)],
      },
    ],
  },
  {
    alert: 'TcpStateConntrackDropping',
    evalTime: '20m',
    firing: {
      name: 'flows refused every minute',
      series: { [INSERT_FAILED]: '0+3x25', [DROP]: '0+3x25', [EARLY_DROP]: '0+50x25' },
      expected: [
        {
          labels: labels('critical'),
          description:
            'web-1:10120: conntrack counted 30 insert_failed and drop events in the last 5m, and has for 5m: ' +
            'flows refused for want of a free NAT port toward a destination, or by a full table. Each refused ' +
            'SYN is a connect() that times out.',
        },
      ],
    },
    quiet: {
      name: 'entries evicted early, none refused',
      series: { [INSERT_FAILED]: '7x25', [DROP]: '7x25', [EARLY_DROP]: '0+50x25' },
    },
    idle: { name: 'nothing counted', series: { [INSERT_FAILED]: '0x25', [DROP]: '0x25' } },
    reset: {
      name: 'the counters restart from zero with the exporter',
      series: { [INSERT_FAILED]: '900x17 0x7', [DROP]: '900x17 0x7' },
    },
    absent: { name: 'conntrack is absent', series: { [UP]: '1x25' } },
    flapping: {
      name: 'flows refused in every other minute are refused flows all the same',
      series: { [INSERT_FAILED]: everyOther(6, 26), [DROP]: everyOther(6, 26) },
      expected: [
        {
          labels: labels('critical'),
          description:
            'web-1:10120: conntrack counted 36 insert_failed and drop events in the last 5m, and has for 5m: ' +
            'flows refused for want of a free NAT port toward a destination, or by a full table. Each refused ' +
            'SYN is a connect() that times out.',
        },
      ],
    },
    burst: {
      name: 'one burst of refused flows two minutes ago is no page yet',
      series: { [INSERT_FAILED]: '0x17 4x7', [DROP]: '0x17 4x7' },
    },
  },
];
