/**
 * `promtool test rules` cases of the `tcpstate-kernel-counters` group
 * (mixin/counter-alerts.ts), in the form of alert-cases.ts, which runs them with the others.
 * Counters rise linearly (`0+12x30`: 12 a minute), so rates are exact.
 */
import type { AlertScenarios, ExpectedAlert } from './alert-cases.js';
import { INSTANCE, TARGET } from './case-target.js';
import { everyOther } from './conntrack-alert-cases.js';

const UP = `up{${TARGET}}`;
const ABORTS = `tcpstate_timeout_aborts_total{${TARGET}}`;
const ACTIVE = `tcpstate_active_opens_total{${TARGET}}`;
const PASSIVE = `tcpstate_passive_opens_total{${TARGET}}`;
const warning = (description: string): ExpectedAlert => ({
  labels: { severity: 'warning', job: 'tcpstate', instance: INSTANCE },
  description,
});

const abortsAlert = (share: string) =>
  warning(
    `${INSTANCE}: connections aborted after exhausting their retransmissions or keepalive probes ` +
      `(TCPAbortOnTimeout) are ${share} of the connections opened over 10m, and have been for 15m: peers ` +
      'or a path that lose packets, or a middlebox that dropped the flows.',
  );

/** 10 connections/s opened, 0.2 aborted by a timer: 2 %. */
const OPENS = { [ACTIVE]: '0+540x30', [PASSIVE]: '0+60x30' };

function dropScenarios(alert: string, metric: string, why: string): AlertScenarios {
  const series = `${metric}{${TARGET}}`;
  const dropsAlert = (perSecond: string) =>
    warning(
      `${INSTANCE} dropped ${perSecond} segments/s over 10m (${why}), and has for 15m: each one is sent ` +
        'again after a retransmission timeout, so requests slow down.',
    );
  return {
    alert,
    evalTime: '25m',
    firing: {
      name: 'two segments a second dropped for twenty minutes',
      series: { [series]: '0+120x30' },
      expected: [dropsAlert('2.00')],
    },
    quiet: { name: 'a drop every other second', series: { [series]: '0+30x30' } },
    idle: { name: 'nothing dropped', series: { [series]: '0x30' } },
    reset: {
      name: 'the counter restarts from zero with the exporter, at a low rate after',
      series: { [series]: '0+600x10 0+10x19' },
    },
    absent: { name: 'a kernel without the counter', series: { [UP]: '1x30' } },
    flapping: {
      name: 'drops in every other minute only are the same trouble',
      series: { [series]: everyOther(240, 31) },
      expected: [dropsAlert('2.00')],
    },
    burst: {
      name: 'three minutes of heavy drops is no alert',
      series: { [series]: '0x18 0+600x3 1800x9' },
    },
  };
}

export const COUNTER_SCENARIOS: readonly AlertScenarios[] = [
  {
    alert: 'TcpStateTimeoutAborts',
    evalTime: '25m',
    firing: {
      name: 'one connection in fifty aborted by its timers',
      series: { [ABORTS]: '0+12x30', ...OPENS },
      expected: [abortsAlert('2%')],
    },
    quiet: {
      name: 'one in two hundred: vanishing mobile clients',
      series: { [ABORTS]: '0+3x30', ...OPENS },
    },
    idle: {
      name: 'no connection at all',
      series: { [ABORTS]: '0x30', [ACTIVE]: '0x30', [PASSIVE]: '0x30' },
    },
    reset: {
      name: 'the counters restart from zero with the exporter, few aborts after',
      series: { [ABORTS]: '0+12x10 0+1x19', [ACTIVE]: '0+540x10 0+540x19', [PASSIVE]: '0+60x30' },
    },
    absent: { name: 'a kernel without the counter', series: { ...OPENS, [UP]: '1x30' } },
    flapping: {
      name: 'aborts in every other minute only are the same trouble',
      series: { [ABORTS]: everyOther(24, 31), ...OPENS },
      expected: [abortsAlert('2%')],
    },
    burst: {
      name: 'a three-minute outage of one peer is no alert',
      series: { [ABORTS]: '0x18 0+100x3 300x9', ...OPENS },
    },
    more: [
      {
        kind: 'quiet',
        name: 'an idle host whose few long-lived peers vanish, under the floor of aborts',
        series: { [ABORTS]: everyOther(1, 31), [ACTIVE]: '0x30', [PASSIVE]: '0x30' },
      },
    ],
  },
  dropScenarios(
    'TcpStateBacklogDrops',
    'tcpstate_backlog_drops_total',
    "TCPBacklogDrop: a program held the socket's lock while more arrived than its backlog holds",
  ),
  dropScenarios(
    'TcpStateReceiveQueueDrops',
    'tcpstate_receive_queue_drops_total',
    'TCPRcvQDrop: a program reads too slowly for its receive buffer, or TCP memory ran short',
  ),
];
