#!/usr/bin/env node
// Every type a package's public declarations take from a sibling @openfugu package must also be exported by
// the package itself, so a user can name what its API returns without a second dependency (the trinity README
// once promised `RoutingDecision` from @openfugu/trinity, which lived only in @openfugu/schema: TS2305).
// Reads the built declarations (dist/*.d.ts, chunks included): run after `pnpm build`. Exit 1 and name every gap.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const names = (list) =>
  list
    .split(',')
    .map((item) => item.trim().replace(/^type\s+/, ''))
    .filter(Boolean);

let failures = 0;
for (const pkg of readdirSync(path.join(root, 'packages'))) {
  const dist = path.join(root, 'packages', pkg, 'dist');
  const index = path.join(dist, 'index.d.ts');
  if (!existsSync(index)) {
    console.error(`packages/${pkg}: no dist/index.d.ts (run pnpm build first)`);
    failures++;
    continue;
  }
  const imported = new Map();
  for (const file of readdirSync(dist).filter((name) => name.endsWith('.d.ts'))) {
    const text = readFileSync(path.join(dist, file), 'utf8');
    for (const match of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@openfugu\/[^'/]+)'/g)) {
      for (const name of names(match[1])) imported.set(name.split(/\s+as\s+/)[0], match[2]);
    }
  }
  const exported = new Set();
  for (const match of readFileSync(index, 'utf8').matchAll(/export\s*(?:type\s*)?\{([^}]*)\}/g)) {
    for (const name of names(match[1])) exported.add(name.split(/\s+as\s+/).pop());
  }
  for (const [name, from] of imported) {
    if (exported.has(name)) continue;
    console.error(`packages/${pkg}: its API uses ${name} from ${from} but does not re-export it`);
    failures++;
  }
}
if (failures > 0) process.exit(1);
console.log('re-exports: every sibling type used in a public API is exported by the package itself');
