/** Remembers which collectors failed last time, to log only when one starts or stops failing. */
import type { CollectorStatus } from '../collectors/collector-set.js';
import type { CollectorName } from '../collectors/registry.js';
import type { Logger } from '../log.js';

export type CollectorTransition =
  | { readonly collector: CollectorName; readonly change: 'failing'; readonly error: string }
  | { readonly collector: CollectorName; readonly change: 'recovered' };

export class CollectorHealth {
  /** Collectors failing in the previous sample; at start, none. */
  private readonly failing = new Set<CollectorName>();

  observe(statuses: readonly CollectorStatus<CollectorName>[]): CollectorTransition[] {
    const transitions: CollectorTransition[] = [];
    for (const status of statuses) {
      const wasFailing = this.failing.has(status.name);
      if (!status.success && !wasFailing) {
        this.failing.add(status.name);
        transitions.push({
          collector: status.name,
          change: 'failing',
          error: status.error ?? 'unknown error',
        });
      } else if (status.success && wasFailing) {
        this.failing.delete(status.name);
        transitions.push({ collector: status.name, change: 'recovered' });
      }
    }
    return transitions;
  }
}

/** A collector failing is a warning; one recovering is good news, logged at info. */
export function logCollectorTransitions(
  logger: Logger,
  transitions: readonly CollectorTransition[],
): void {
  for (const transition of transitions) {
    if (transition.change === 'failing') {
      logger.warn(
        { collector: transition.collector, error: transition.error },
        'collector failing',
      );
    } else {
      logger.info({ collector: transition.collector }, 'collector recovered');
    }
  }
}
