/** Prometheus metrics on a per-gateway registry (never prom-client's global one, so gateways can coexist). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TraceCall } from './pool.js';

/** The gateway's metrics. Labels carry public aliases only, never upstream model names. */
export interface GatewayMetrics {
  readonly registry: Registry;
  observeRequest(model: string, status: number, seconds: number): void;
  observeUpstream(call: TraceCall): void;
  observeTokens(model: string, promptTokens: number, completionTokens: number, costUsd: number): void;
  observeRouting(model: string, seconds: number): void;
  setInFlight(count: number): void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * Creates the metrics on a fresh `Registry`.
 *
 * @example
 * ```ts
 * const metrics = createGatewayMetrics();
 * const text = await metrics.registry.metrics(); // Prometheus exposition format
 * ```
 */
export function createGatewayMetrics(prefix = 'openfugu_'): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: `${prefix}requests_total`,
    help: 'Chat-completion requests by public model and HTTP status.',
    labelNames: ['model', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${prefix}request_duration_seconds`,
    help: 'Time to the full answer (or to the end of the stream), by public model.',
    labelNames: ['model'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const upstreamCalls = new Counter({
    name: `${prefix}upstream_calls_total`,
    help: 'Calls to pool workers by worker alias and outcome (ok, error, timeout, aborted).',
    labelNames: ['worker', 'outcome'],
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: `${prefix}upstream_errors_total`,
    help: 'Failed calls to pool workers by worker alias.',
    labelNames: ['worker'],
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: `${prefix}upstream_duration_seconds`,
    help: 'Duration of calls to pool workers by worker alias.',
    labelNames: ['worker'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const tokens = new Counter({
    name: `${prefix}tokens_total`,
    help: 'Tokens summed over all worker calls, by public model and kind (prompt, completion).',
    labelNames: ['model', 'kind'],
    registers: [registry],
  });
  const cost = new Counter({
    name: `${prefix}cost_usd_total`,
    help: 'Cost in USD from the price table, summed over all worker calls, by public model.',
    labelNames: ['model'],
    registers: [registry],
  });
  const routing = new Histogram({
    name: `${prefix}routing_duration_seconds`,
    help: 'Router decision time by public model.',
    labelNames: ['model'],
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: `${prefix}in_flight_requests`,
    help: 'Chat-completion requests being served.',
    registers: [registry],
  });
  return {
    registry,
    observeRequest(model, status, seconds) {
      requests.inc({ model, status: String(status) });
      latency.observe({ model }, seconds);
    },
    observeUpstream(call) {
      upstreamCalls.inc({ worker: call.workerId, outcome: call.outcome });
      if (call.outcome !== 'ok' && call.outcome !== 'aborted') upstreamErrors.inc({ worker: call.workerId });
      upstreamLatency.observe({ worker: call.workerId }, call.ms / 1000);
    },
    observeTokens(model, promptTokens, completionTokens, costUsd) {
      if (promptTokens > 0) tokens.inc({ model, kind: 'prompt' }, promptTokens);
      if (completionTokens > 0) tokens.inc({ model, kind: 'completion' }, completionTokens);
      if (costUsd > 0) cost.inc({ model }, costUsd);
    },
    observeRouting(model, seconds) {
      routing.observe({ model }, seconds);
    },
    setInFlight(count) {
      inFlight.set(count);
    },
  };
}
