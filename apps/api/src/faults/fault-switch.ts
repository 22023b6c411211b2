import { faultNames, noFaults, type FaultName, type Faults } from '@three-tier/shared';
import type { Metrics } from '../metrics.js';

/**
 * The faults one instance is switched to, and their gauges. Changed only through /faults (or a
 * test); read on every work request, so reading costs one property access when all are off.
 */
export class FaultSwitch {
  private current: Faults = noFaults;

  constructor(private readonly metrics: Metrics) {
    this.publish();
  }

  get state(): Faults {
    return this.current;
  }

  /** True when any fault is on: the work routes' fast path checks only this. */
  get active(): boolean {
    return this.current !== noFaults;
  }

  set(change: Partial<Faults>): Faults {
    const next = { ...this.current, ...change };
    const none = !next.unready && next.latencyMs === 0 && next.errorRate === 0;
    this.current = none ? noFaults : next;
    this.publish();
    return this.current;
  }

  clear(name?: FaultName): Faults {
    if (name === undefined) return this.set(noFaults);
    return this.set(name === 'unready' ? { unready: false } : name === 'latency' ? { latencyMs: 0 } : { errorRate: 0 });
  }

  private publish(): void {
    const { unready, latencyMs, errorRate } = this.current;
    const on: Record<FaultName, boolean> = { unready, latency: latencyMs > 0, errors: errorRate > 0 };
    for (const name of faultNames) this.metrics.faultActive.set({ fault: name }, on[name] ? 1 : 0);
    this.metrics.faultLatencySeconds.set(latencyMs / 1_000);
    this.metrics.faultErrorRatio.set(errorRate);
  }
}
