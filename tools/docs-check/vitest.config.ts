import { openfuguProject } from '@openfugu/vitest-config';

// The commands run the built bins (dist/): turbo builds every package before this project's test.
export default openfuguProject('docs-check', { include: ['*.test.ts'], testTimeout: 120_000 });
