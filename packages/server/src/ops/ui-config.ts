/** The config file's `ui` block turned into the gateway's (the operator key read from the environment). */
import { type ServerConfig, secretFromEnv } from '../config.js';
import type { OpsUiConfig } from './ui-routes.js';

/**
 * The gateway's `ui` setting: as configured, or on by default for the embedded simulated pool (which listens on
 * loopback and, without keys, lets only loopback clients in).
 */
export function opsUiConfig(
  ui: ServerConfig['ui'],
  embedded: boolean,
  env: Readonly<Record<string, string | undefined>>,
): { ui?: OpsUiConfig } {
  const enabled = ui?.enabled ?? embedded;
  if (!enabled) return {};
  return {
    ui: {
      enabled,
      ...(ui?.adminKeyEnv ? { adminKey: secretFromEnv(env, ui.adminKeyEnv, 'ui.adminKeyEnv') } : {}),
      ...(ui?.reportDir ? { reportDir: ui.reportDir } : {}),
      ...(ui?.traceCapacity ? { traceCapacity: ui.traceCapacity } : {}),
      ...(ui?.maxViewers ? { maxViewers: ui.maxViewers } : {}),
    },
  };
}
