import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFuguError } from '@openfugu/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRouterHead } from './head.js';
import { loadHeadFile, saveHeadFile } from './head-file.js';
import { headFromArray, parseHead, serializeHead } from './head-io.js';
import { parseNpy, serializeNpy } from './npy.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url)));

describe('.npy', () => {
  it('reads files written by numpy 2.4 (float32 2-D, float64 1-D)', () => {
    const a = parseNpy(fixture('head-2x3-f4.npy'));
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect(Array.from(a.data)).toEqual([-1, -0.5, 0, 0.5, 1, 1.5]);
    const v = parseNpy(fixture('vec-5-f8.npy'));
    expect(v.shape).toEqual([5]);
    expect(Array.from(v.data)).toEqual([1.5, -2.25, 3, 0, 1e-3]);
  });

  it('writes byte-for-byte what numpy writes', () => {
    expect(serializeNpy({ shape: [2, 3], data: [-1, -0.5, 0, 0.5, 1, 1.5] }, 'float32')).toEqual(
      fixture('head-2x3-f4.npy'),
    );
    expect(serializeNpy({ shape: [5], data: [1.5, -2.25, 3, 0, 1e-3] }, 'float64')).toEqual(
      fixture('vec-5-f8.npy'),
    );
  });

  it('matches a hand-made header byte for byte', () => {
    const bytes = serializeNpy({ shape: [1], data: [2] }, 'float64');
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }";
    const padded = header + ' '.repeat(128 - 10 - header.length - 1) + '\n';
    expect(bytes.length).toBe(128 + 8);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    expect(bytes[8]! + 256 * bytes[9]!).toBe(padded.length);
    expect(new TextDecoder('latin1').decode(bytes.subarray(10, 128))).toBe(padded);
    expect(new DataView(bytes.buffer).getFloat64(128, true)).toBe(2);
  });

  it('reads big-endian float64 and rejects Fortran order and integer dtypes clearly', () => {
    expect(Array.from(parseNpy(fixture('big-endian-2x3-f8.npy')).data)).toEqual([-1, -0.5, 0, 0.5, 1, 1.5]);
    expect(() => parseNpy(fixture('fortran-2x3-f4.npy'))).toThrow(/Fortran order/);
    expect(() => parseNpy(fixture('int-2x3.npy'))).toThrow(/unsupported \.npy dtype '<i4'/);
    try {
      parseNpy(fixture('int-2x3.npy'));
    } catch (error) {
      expect(OpenFuguError.hasCode(error, 'parse_error')).toBe(true);
    }
  });

  it('rejects truncated data and bad magic', () => {
    const bytes = fixture('head-2x3-f4.npy');
    expect(() => parseNpy(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => parseNpy(new Uint8Array([1, 2, 3]))).toThrow(/magic/);
  });

  it('round-trips any float64 matrix', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.double({ noNaN: true }), { minLength: 35, maxLength: 35 }),
        (rows, cols, values) => {
          const data = values.slice(0, rows * cols);
          const parsed = parseNpy(serializeNpy({ shape: [rows, cols], data }, 'float64'));
          expect(parsed.shape).toEqual([rows, cols]);
          expect(Array.from(parsed.data)).toEqual(data.map((x) => (Object.is(x, -0) ? -0 : x)));
        },
      ),
    );
  });
});

describe('.safetensors', () => {
  it('parses a hand-made file byte by byte', () => {
    const header = '{"router_head":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}';
    const bytes = new Uint8Array(8 + header.length + 16);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, header.length, true);
    for (let i = 0; i < header.length; i++) bytes[8 + i] = header.charCodeAt(i);
    for (const [i, x] of [1, -2, 0.5, 4].entries()) view.setFloat32(8 + header.length + 4 * i, x, true);
    const file = parseSafetensors(bytes);
    expect(file.tensors.get('router_head')?.shape).toEqual([2, 2]);
    expect(Array.from(file.tensors.get('router_head')!.data)).toEqual([1, -2, 0.5, 4]);
  });

  it('round-trips F32/F64 with metadata; reads F16 and BF16', () => {
    const bytes = serializeSafetensors(
      [
        { name: 'a', shape: [3], data: [1, 2, 3] },
        { name: 'b', shape: [1, 2], data: [0.25, -8] },
      ],
      { dtype: 'float64', metadata: { k: 'v' } },
    );
    expect((bytes[0]! + 256 * bytes[1]!) % 8).toBe(0);
    const file = parseSafetensors(bytes);
    expect(Array.from(file.tensors.get('b')!.data)).toEqual([0.25, -8]);
    expect(file.metadata).toEqual({ k: 'v' });

    const header =
      '{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"g":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}';
    const raw = new Uint8Array(8 + header.length + 6);
    const view = new DataView(raw.buffer);
    view.setUint32(0, header.length, true);
    for (let i = 0; i < header.length; i++) raw[8 + i] = header.charCodeAt(i);
    view.setUint16(8 + header.length, 0x3c00, true); // 1.0
    view.setUint16(8 + header.length + 2, 0xc000, true); // -2.0
    view.setUint16(8 + header.length + 4, 0x3fc0, true); // bf16 1.5
    const parsed = parseSafetensors(raw);
    expect(Array.from(parsed.tensors.get('h')!.data)).toEqual([1, -2]);
    expect(Array.from(parsed.tensors.get('g')!.data)).toEqual([1.5]);
  });

  it('rejects bad header lengths, offsets and dtypes', () => {
    const good = serializeSafetensors([{ name: 'x', shape: [2], data: [1, 2] }]);
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(0, 10_000, true);
    expect(() => parseSafetensors(bad)).toThrow(/header length/);
    const header = '{"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}';
    const raw = new Uint8Array(8 + header.length + 4);
    new DataView(raw.buffer).setUint32(0, header.length, true);
    for (let i = 0; i < header.length; i++) raw[8 + i] = header.charCodeAt(i);
    expect(() => parseSafetensors(raw)).toThrow(/unsupported dtype "I32"/);
    expect(() => parseSafetensors(good.subarray(0, good.length - 1))).toThrow(/past the end/);
  });
});

describe('parseHead layouts', () => {
  const d = 1024;
  const published = Float64Array.from({ length: 19_456 }, (_, i) => (i % 97) / 97 - 0.5);

  it('accepts the 19,456-float vector: 9 × 1024 SVF offsets then a 10 × 1024 head, row-major', () => {
    const head = parseHead(serializeNpy({ shape: [19_456], data: published }, 'float64'));
    expect(head.agentCount).toBe(7);
    expect(head.roleCount).toBe(3);
    expect(head.dimension).toBe(d);
    expect(head.svfOffsets?.length).toBe(9 * d);
    expect(head.svfOffsets?.[5]).toBe(published[5]);
    expect(head.weights[0]).toBe(published[9 * d]);
    // Row 7 (the Worker role row), column 3.
    expect(head.weights[7 * d + 3]).toBe(published[9 * d + 7 * d + 3]);
  });

  it('accepts the 10,240-float head-only vector and router_head [10, 1024] safetensors', () => {
    const flat = parseHead(serializeNpy({ shape: [10_240], data: published.subarray(9 * d) }, 'float32'));
    expect(flat.agentCount).toBe(7);
    expect(flat.svfOffsets).toBeUndefined();
    const st = parseHead(
      serializeSafetensors([{ name: 'router_head', shape: [10, d], data: published.subarray(9 * d) }]),
    );
    expect(st.agentCount).toBe(7);
    expect(Array.from(st.weights)).toEqual(Array.from(flat.weights));
  });

  it('throws ShapeMismatchError on a wrong size or shape', () => {
    const attempt = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const error = attempt(() => parseHead(serializeNpy({ shape: [10_000], data: new Float64Array(10_000) })));
    expect(OpenFuguError.hasCode(error, 'shape_mismatch')).toBe(true);
    expect((error as Error).message).toMatch(/\[10240\].*\[19456\]/);
    expect(() =>
      headFromArray({ shape: [10, 1024], data: new Float64Array(10_240) }, { agentCount: 5 }),
    ).toThrow(/shape \[10, 1024\]/);
    expect(() =>
      headFromArray({ shape: [10, 1024], data: new Float64Array(10_240) }, { dimension: 512 }),
    ).toThrow(/512/);
    expect(() => headFromArray({ shape: [2, 2, 2], data: new Float64Array(8) })).toThrow(
      /1-D vector or a 2-D/,
    );
    expect(() =>
      parseHead(
        serializeSafetensors([
          { name: 'other', shape: [1], data: [1] },
          { name: 'more', shape: [1], data: [1] },
        ]),
      ),
    ).toThrow(/no tensor 'router_head'/);
  });

  it('infers agent counts from 2-D shapes and supports heads without roles', () => {
    const withRoles = headFromArray({ shape: [8, 4], data: new Float64Array(32) });
    expect(withRoles.agentCount).toBe(5);
    const noRoles = headFromArray({ shape: [5, 4], data: new Float64Array(20) }, { roles: false });
    expect(noRoles.agentCount).toBe(5);
    expect(noRoles.roleCount).toBe(0);
  });
});

describe('serializeHead / parseHead round trips', () => {
  const head = createRouterHead({
    agentCount: 3,
    dimension: 4,
    weights: Array.from({ length: 24 }, (_, i) => i / 8 - 1.1),
    svfOffsets: Array.from({ length: 36 }, (_, i) => i / 100),
    agents: ['a', 'b', 'c'],
    backboneId: 'hashing-v1:d4',
  });

  for (const format of ['npy', 'safetensors', 'json'] as const) {
    it(`${format}: float64 round trip keeps weights exactly`, () => {
      const back = parseHead(serializeHead(head, format, { dtype: 'float64' }));
      expect(Array.from(back.weights)).toEqual(Array.from(head.weights));
      expect(back.agentCount).toBe(3);
      if (format !== 'npy') {
        expect(back.agents).toEqual(['a', 'b', 'c']);
        expect(back.backboneId).toBe('hashing-v1:d4');
        expect(Array.from(back.svfOffsets!)).toEqual(Array.from(head.svfOffsets!));
      }
    });
  }

  it('safetensors and JSON heads without role rows load as written (role_count recorded in the file)', () => {
    const agentsOnly = createRouterHead({
      agentCount: 4,
      dimension: 3,
      roles: false,
      weights: Array.from({ length: 12 }, (_, i) => i),
    });
    for (const format of ['safetensors', 'json'] as const) {
      const back = parseHead(serializeHead(agentsOnly, format));
      expect(back.roleCount).toBe(0);
      expect(back.agentCount).toBe(4);
      expect(Array.from(back.weights)).toEqual(Array.from(agentsOnly.weights));
    }
    // An explicit option still wins over the recorded count.
    expect(parseHead(serializeHead(agentsOnly, 'safetensors'), { roles: true }).agentCount).toBe(1);
  });

  it('npy flat layout keeps SVF offsets; float32 rounds to float32', () => {
    const back = parseHead(serializeHead(head, 'npy', { flat: true }), { agentCount: 3, dimension: 4 });
    expect(back.svfOffsets?.length).toBe(36);
    expect(back.weights[1]).toBe(Math.fround(head.weights[1]!));
  });

  it('JSON accepts a bare matrix and rejects foreign objects', () => {
    const bytes = new TextEncoder().encode(
      JSON.stringify([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
      ]),
    );
    expect(parseHead(bytes).agentCount).toBe(1);
    expect(() => parseHead(new TextEncoder().encode('{"weights": []}'))).toThrow(/openfugu.router-head/);
    expect(() => parseHead(new TextEncoder().encode('[[1, 2], [3]]'))).toThrow(/different lengths/);
  });

  it('saves and loads files by extension', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trinity-head-'));
    try {
      for (const ext of ['npy', 'safetensors', 'json']) {
        const path = join(dir, `head.${ext}`);
        await saveHeadFile(path, head, { dtype: 'float64' });
        const back = await loadHeadFile(path);
        expect(Array.from(back.weights)).toEqual(Array.from(head.weights));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
