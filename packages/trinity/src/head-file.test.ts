import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRouterHead } from './head.js';
import { headSidecarPath, loadHeadFile, saveHeadFile } from './head-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'openfugu-head-file-'));
const head = createRouterHead({
  agentCount: 2,
  dimension: 4,
  weights: Array.from({ length: 5 * 4 }, (_, i) => i / 8),
  agents: ['math', 'writer'],
  backboneId: 'hashing-v2:4',
});

describe('.npy heads keep agent ids and the backbone id in a sidecar', () => {
  it('saveHeadFile writes head.npy.meta.json; loadHeadFile reads it back', async () => {
    const file = path.join(dir, 'head.npy');
    await saveHeadFile(file, head);
    expect(headSidecarPath(file)).toBe(`${file}.meta.json`);
    expect(JSON.parse(readFileSync(`${file}.meta.json`, 'utf8'))).toEqual({
      format: 'openfugu.router-head-meta',
      version: 1,
      agentCount: 2,
      roleCount: 3,
      dimension: 4,
      agents: ['math', 'writer'],
      backboneId: 'hashing-v2:4',
    });
    const loaded = await loadHeadFile(file);
    expect(loaded.agents).toEqual(['math', 'writer']);
    expect(loaded.backboneId).toBe('hashing-v2:4');
    expect(Array.from(loaded.weights)).toEqual(Array.from(head.weights));
    // The caller's agent ids still win.
    expect((await loadHeadFile(file, { agents: ['a', 'b'] })).agents).toEqual(['a', 'b']);
  });

  it('a logistic value head keeps its value link through the sidecar (its qualities stay probabilities)', async () => {
    const file = path.join(dir, 'logistic.npy');
    const logistic = createRouterHead({
      agentCount: 2,
      dimension: 4,
      roles: false,
      weights: Array.from({ length: 2 * 4 }, (_, i) => i / 8),
      backboneId: 'hashing-v2:4',
      valueLink: 'logistic',
    });
    await saveHeadFile(file, logistic);
    expect(JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')).valueLink).toBe('logistic');
    expect((await loadHeadFile(file)).valueLink).toBe('logistic');
    writeFileSync(
      `${file}.meta.json`,
      JSON.stringify({ ...JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')), valueLink: 'probit' }),
    );
    await expect(loadHeadFile(file)).rejects.toThrow(/valueLink/);
  });

  it('without a sidecar a .npy head loads as before (numbers only); other formats write none', async () => {
    const file = path.join(dir, 'bare.npy');
    await saveHeadFile(file, head);
    rmSync(`${file}.meta.json`);
    const loaded = await loadHeadFile(file, { agentCount: 2, dimension: 4 });
    expect(loaded.agents).toBeUndefined();
    expect(loaded.backboneId).toBeUndefined();
    await saveHeadFile(path.join(dir, 'head.safetensors'), head);
    expect(existsSync(path.join(dir, 'head.safetensors.meta.json'))).toBe(false);
  });

  it('a sidecar that disagrees with the array is a shape mismatch; a malformed one a HeadFormatError', async () => {
    const file = path.join(dir, 'mismatch.npy');
    await saveHeadFile(file, head);
    const meta = JSON.parse(readFileSync(`${file}.meta.json`, 'utf8'));
    writeFileSync(`${file}.meta.json`, JSON.stringify({ ...meta, dimension: 8, agentCount: 1 }));
    await expect(loadHeadFile(file)).rejects.toMatchObject({ code: 'shape_mismatch' });
    writeFileSync(`${file}.meta.json`, '{"format":"something else"}');
    await expect(loadHeadFile(file)).rejects.toMatchObject({ code: 'parse_error', name: 'HeadFormatError' });
  });
});
