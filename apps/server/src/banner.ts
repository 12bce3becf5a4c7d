/** The start-up banner. */
import type { ConfiguredServer } from '@openfugu/server';

/** Renders the banner printed when the server is ready. */
export function renderBanner(options: {
  url: string;
  server: ConfiguredServer;
  configPath: string | undefined;
}): string {
  const { url, server } = options;
  const example = JSON.stringify({
    model: 'fugu',
    messages: [{ role: 'user', content: 'What is 17 * 23?' }],
  });
  const lines = [
    `OpenFugu gateway listening on ${url}`,
    server.simulated
      ? `  EMBEDDED SIMULATED DEFAULT: no configuration given, so the pool is ${server.workerCount} simulated workers on ${server.simulated.baseURL} (no real models).`
      : `  configuration: ${options.configPath}`,
    `  models: ${server.models.join(', ')}`,
    ...(server.state.backend === 'redis'
      ? [
          `  shared state: Redis (${server.state.status().connected ? 'connected' : 'NOT connected: the failure policies answer'}); limits, budgets, worker health and keys are shared with every replica`,
        ]
      : []),
    ...server.notes.map((note) => `  routing: ${note}`),
    '  try:',
    `    curl -s ${url}/v1/chat/completions -H 'content-type: application/json' -d '${example}'`,
    `  health: ${url}/health   metrics: ${url}/metrics`,
    ...(server.ui ? [`  operations page (operator's view): ${url}/ui`] : []),
    ...(server.simulated
      ? ['  real models: pass --config <file> (see packages/server/README.md, "Use a LiteLLM proxy")']
      : []),
    '',
  ];
  return lines.join('\n');
}
