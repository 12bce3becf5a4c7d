import type { UserWorkspaceConfig } from 'vitest/config';
/** Shared vitest project preset for OpenFugu workspace packages. */
export declare function openfuguProject(
  name: string,
  test?: UserWorkspaceConfig['test'],
): UserWorkspaceConfig;
