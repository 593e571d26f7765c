/**
 * Alerts on counted failures (docs/connect-errors.md): connect() calls that found no
 * ephemeral port and bind() calls that found theirs in use, per network namespace and so per
 * pod. Unlike the ephemeral alerts, which predict from one sample, these count the outage
 * itself, so a failure pages however short it was. A group of its own, so it changes apart
 * from the socket alerts.
 */
import { type AlertingRule, type RuleGroup, toRule } from './alerts.js';
import type { MixinConfig } from './config.js';
import { series, whereTemplate } from './promql.js';

/** Whose failures, with the two `netns` values that are no namespace (docs/connect-errors.md). */
function failingOwnerTemplate(config: MixinConfig): string {
  return (
    '{{ if eq $labels.netns "exited" }}processes that exited before they could be attributed, on {{ $labels.instance }}' +
    '{{ else if eq $labels.netns "other" }}namespaces beyond --collector.connect-errors.max-namespaces on {{ $labels.instance }}' +
    `{{ else }}${whereTemplate(config)}{{ end }}`
  );
}

/**
 * Failures counted in the window. A namespace's series only appears with its first failure,
 * already above 0, and `increase()` sees no rise from a first sample: a series that was not
 * there a window ago counts too.
 */
function failuresIn(metric: string, selector: string, window: string): string {
  const counter = series(metric, selector);
  return `(increase(${counter}[${window}]) > 0)\nor\n(${counter} unless ${counter} offset ${window})`;
}

export function connectErrorsGroup(config: MixinConfig): RuleGroup {
  const c = config.connectErrors;
  const sel = config.selector;
  const connectFailing: AlertingRule = toRule(config, {
    alert: 'TcpStateConnectFailing',
    severity: 'critical',
    expr: failuresIn('tcpstate_connect_errors_total', sel, c.window),
    summary:
      'connect() calls fail with EADDRNOTAVAIL: a client has no ephemeral port left, its connections are not made.',
    description:
      `{{ $value | humanize }} connect() calls of ${failingOwnerTemplate(config)} failed with EADDRNOTAVAIL in the last ` +
      `${c.window}: every usable local port toward a destination was taken. These are failures the kernel ` +
      'returned, counted by --collector.connect-errors, not a prediction.',
  });
  const bindFailing: AlertingRule = toRule(config, {
    alert: 'TcpStateBindFailing',
    severity: 'warning',
    expr: failuresIn('tcpstate_bind_errors_total', sel, c.window),
    for: c.bindFor,
    summary:
      'bind() calls keep failing with EADDRINUSE: clients that bind first have no port left, or a server cannot take its port.',
    description:
      `{{ $value | humanize }} bind() calls of ${failingOwnerTemplate(config)} failed with EADDRINUSE in the last ` +
      `${c.window}, and have for ${c.bindFor}: a client that binds before connecting found no free port, or a ` +
      'server keeps retrying a port that is taken.',
  });
  return { name: 'tcpstate-connect-errors', rules: [connectFailing, bindFailing] };
}
