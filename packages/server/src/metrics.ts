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
  // prom-client hashes the label object on every inc/observe; the label sets here are few and fixed (public
  // model names, worker aliases), so each child is looked up once and kept.
  const cached = <T>(make: (key: string) => T): ((key: string) => T) => {
    const children = new Map<string, T>();
    return (key) => {
      let child = children.get(key);
      if (child === undefined) {
        child = make(key);
        children.set(key, child);
      }
      return child;
    };
  };
  const requestChildren = cached((key) => {
    const [model = '', status = ''] = key.split('\u0000');
    return requests.labels({ model, status });
  });
  const latencyChild = cached((model) => latency.labels({ model }));
  const upstreamChildren = cached((key) => {
    const [worker = '', outcome = ''] = key.split('\u0000');
    return upstreamCalls.labels({ worker, outcome });
  });
  const upstreamErrorChild = cached((worker) => upstreamErrors.labels({ worker }));
  const upstreamLatencyChild = cached((worker) => upstreamLatency.labels({ worker }));
  const promptChild = cached((model) => tokens.labels({ model, kind: 'prompt' }));
  const completionChild = cached((model) => tokens.labels({ model, kind: 'completion' }));
  const costChild = cached((model) => cost.labels({ model }));
  const routingChild = cached((model) => routing.labels({ model }));
  return {
    registry,
    observeRequest(model, status, seconds) {
      requestChildren(`${model}\u0000${status}`).inc();
      latencyChild(model).observe(seconds);
    },
    observeUpstream(call) {
      upstreamChildren(`${call.workerId}\u0000${call.outcome}`).inc();
      if (call.outcome !== 'ok' && call.outcome !== 'aborted') upstreamErrorChild(call.workerId).inc();
      upstreamLatencyChild(call.workerId).observe(call.ms / 1000);
    },
    observeTokens(model, promptTokens, completionTokens, costUsd) {
      if (promptTokens > 0) promptChild(model).inc(promptTokens);
      if (completionTokens > 0) completionChild(model).inc(completionTokens);
      if (costUsd > 0) costChild(model).inc(costUsd);
    },
    observeRouting(model, seconds) {
      routingChild(model).observe(seconds);
    },
    setInFlight(count) {
      inFlight.set(count);
    },
  };
}
