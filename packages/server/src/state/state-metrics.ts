/** Prometheus gauges for the shared state, read from `state.status()` at scrape time. */
import { Gauge, type Registry } from 'prom-client';
import type { SharedState, StateConcern } from './types.js';

/**
 * Registers `openfugu_state_connected` (1 when the shared store answers) and
 * `openfugu_state_degraded_calls{concern}` (calls answered by the failure policy since start) on `registry`.
 *
 * @example
 * ```ts
 * registerStateMetrics(metrics.registry, state);
 * ```
 */
export function registerStateMetrics(registry: Registry, state: SharedState, prefix = 'openfugu_'): void {
  new Gauge({
    name: `${prefix}state_connected`,
    help: 'Whether the shared state (Redis) is reachable: 1 yes, 0 no (the failure policy answers).',
    labelNames: ['backend'],
    registers: [registry],
    collect() {
      const status = state.status();
      this.reset();
      this.set({ backend: status.backend }, status.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}state_degraded_calls`,
    help: 'Shared-state calls answered by the failure policy instead of the shared store, since start, by concern.',
    labelNames: ['concern'],
    registers: [registry],
    collect() {
      const degraded = state.status().degraded;
      for (const concern of Object.keys(degraded) as StateConcern[]) this.set({ concern }, degraded[concern]);
    },
  });
}
