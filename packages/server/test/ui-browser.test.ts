/**
 * The operations page in a real headless Chromium against the embedded gateway (simulated pool, trained router):
 * real requests through the `openai` client, then what a person sees on the page. Timeouts are generous (the
 * machine may be loaded); nothing asserts wall-clock speed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type ConfiguredServer,
  createConductorMode,
  createGateway,
  createOpenAIWorker,
  createServerFromConfig,
  DEFAULT_SIMULATED_POOL,
  type Gateway,
  parseConfig,
} from '../src/index.js';
import { artifactDir, describeWithBrowser, launchChromium } from './browser.js';

const WAIT = { timeout: 20_000 };

interface DebugTrace {
  modeTrace: {
    turns?: { turn: number; agent: string; role: string }[];
    workflow?: { steps: { worker: string; subtask: string; access: 'all' | number[] }[] };
    rounds?: { steps?: { step: number; output?: string }[] }[];
  };
}

/** What the debug trace (x-openfugu-debug: 1) of a completion says; the page must show the same. */
async function create(
  client: OpenAI,
  model: string,
  content: string,
): Promise<{ id: string; trace: DebugTrace }> {
  const answer = (await client.chat.completions.create(
    { model, messages: [{ role: 'user', content }] },
    { headers: { 'x-openfugu-debug': '1' } },
  )) as OpenAI.ChatCompletion & { openfugu_trace: DebugTrace };
  return { id: answer.id, trace: answer.openfugu_trace };
}

/** Edges of a workflow as the Conductor reads `access` (independent of the page's own code). */
function edgeCount(steps: { access: 'all' | number[] }[]): number {
  return steps.reduce((sum, step, index) => sum + (step.access === 'all' ? index : step.access.length), 0);
}

describeWithBrowser('operations page in headless Chromium', (executablePath) => {
  let server: ConfiguredServer;
  let wide: Gateway;
  let url: string;
  let wideUrl: string;
  let browser: Browser;
  let page: Page;
  let client: OpenAI;
  let reportDir: string;
  const shots = artifactDir();

  beforeAll(async () => {
    reportDir = await mkdtemp(join(tmpdir(), 'openfugu-reports-'));
    await writeFile(
      join(reportDir, 'routing-curve.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120"><rect width="240" height="120" fill="#eef"/>' +
        '<polyline points="10,110 80,60 160,40 230,20" fill="none" stroke="#1f6feb" stroke-width="3"/>' +
        '<text x="12" y="20">router vs best single</text></svg>',
    );
    await writeFile(join(reportDir, 'notes.txt'), 'not a report');
    server = await createServerFromConfig(
      parseConfig({
        simulated: { latency: false },
        pool: { failureThreshold: 3, cooldownMs: 120_000 },
        ui: { reportDir },
      }),
    );
    url = await server.gateway.listen({ port: 0 });
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
    browser = await launchChromium(executablePath);
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${url}/ui`);
    await page.waitForSelector('#feed-status[data-state="live"]', WAIT);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await wide?.close();
    await server?.close();
    if (reportDir) await rm(reportDir, { recursive: true, force: true });
  });

  it('says it is an operator view', async () => {
    expect(await page.textContent('#operator-note')).toMatch(/Operator's view/);
  });

  it('shows a request in the live table once it is answered', async () => {
    const { id } = await create(client, 'fugu', 'What is 17 * 23?');
    const row = page.locator(`#requests tbody tr[data-id="${id}"]`);
    await row.waitFor(WAIT);
    const cells = await row.locator('td').allTextContents();
    expect(cells[1]).toBe('fugu');
    expect(cells[3]).toBe('200');
    expect(cells[7]).not.toBe(''); // the workers that ran
  });

  it("shows a fugu run's turns as a timeline, with the router's scores", async () => {
    const { id, trace } = await create(client, 'fugu', 'What is 41 * 3? Show the result.');
    const turns = trace.modeTrace.turns ?? [];
    expect(turns.length).toBeGreaterThan(0);
    await page.locator(`#requests tbody tr[data-id="${id}"]`).click(WAIT);
    await page.waitForSelector('#trace .turn', WAIT);
    const shown = await page.locator('#trace .turn').evaluateAll((items) =>
      items.map((item) => ({
        agent: item.getAttribute('data-agent'),
        role: item.getAttribute('data-role'),
      })),
    );
    expect(shown).toEqual(turns.map((turn) => ({ agent: turn.agent, role: turn.role })));
    expect(await page.locator('#trace .turn .scores').count()).toBe(turns.length);
    await page.screenshot({ path: join(shots, 'trace-fugu.png') });
  });

  it('draws a fugu-ultra workflow as a DAG with its steps, edges and outputs', async () => {
    const { id, trace } = await create(client, 'fugu-ultra', 'What is 12 * 12?');
    const steps = trace.modeTrace.workflow?.steps ?? [];
    await page.locator(`#requests tbody tr[data-id="${id}"]`).click(WAIT);
    await page.waitForSelector('#trace svg.dag', WAIT);
    expect(await page.locator('#trace .dag-node').count()).toBe(steps.length);
    expect(await page.locator('#trace .dag-edge').count()).toBe(edgeCount(steps));
    await page.locator('#trace .dag-node[data-step="0"]').click();
    const output = trace.modeTrace.rounds?.at(-1)?.steps?.[0]?.output;
    expect(output).toBeTruthy();
    expect(await page.textContent('#trace .step-detail pre.output')).toBe(output);
  });

  it('draws parallel steps side by side (a scripted planner over the same pool)', async () => {
    const plan = [
      "model_id: ['math', 'writer', 'generalist', 'generalist']",
      "subtasks: ['Compute 17 * 23.', 'Write one sentence about multiplication.', 'Combine both.', 'State the final answer.']",
      "access_list: [[], [], [0, 1], 'all']",
    ].join('\n');
    const planner = { id: 'scripted-planner', complete: async () => ({ content: plan }) };
    const baseURL = server.simulated?.baseURL ?? '';
    const workers = DEFAULT_SIMULATED_POOL.map((entry) =>
      createOpenAIWorker({ id: entry.id, baseURL, model: entry.spec.model, price: entry.price }),
    );
    wide = createGateway({
      workers,
      modes: [createConductorMode({ model: 'fugu-ultra', planner })],
      config: { debugTrace: true, ui: { enabled: true } },
    });
    wideUrl = await wide.listen({ port: 0 });
    const wideClient = new OpenAI({
      baseURL: `${wideUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      timeout: 30_000,
    });
    const widePage = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      await widePage.goto(`${wideUrl}/ui`);
      await widePage.waitForSelector('#feed-status[data-state="live"]', WAIT);
      const { id } = await create(wideClient, 'fugu-ultra', 'What is 17 * 23? Add a sentence about it.');
      await widePage.locator(`#requests tbody tr[data-id="${id}"]`).click(WAIT);
      await widePage.waitForSelector('#trace svg.dag', WAIT);
      expect(await widePage.locator('#trace .dag-node').count()).toBe(4);
      expect(await widePage.locator('#trace .dag-edge').count()).toBe(5); // 0+0+2+3
      expect(await widePage.locator('#trace .dag-level').allTextContents()).toEqual([
        '2 steps in parallel',
        'stage 2',
        'stage 3',
      ]);
      await widePage.locator('#trace .dag-node[data-step="1"]').click();
      await widePage.waitForSelector('#trace .step-detail pre.output', WAIT);
      await widePage.screenshot({ path: join(shots, 'trace-fugu-ultra.png') });
    } finally {
      await widePage.close();
    }
  });

  it('shows a direct request as a passthrough', async () => {
    const { id } = await create(client, 'writer', 'Write a line about the sea.');
    await page.locator(`#requests tbody tr[data-id="${id}"]`).click(WAIT);
    await page.waitForSelector('#trace .calls h3', WAIT);
    expect(await page.textContent('#trace .calls h3')).toBe('Passthrough');
    expect(await page.locator('#trace .calls-table tbody tr td').first().textContent()).toBe('writer');
    await page.screenshot({ path: join(shots, 'requests.png') });
  });

  it('shows a worker cooling down after injected faults, and filters the failed requests', async () => {
    server.simulated?.setFaults('sim-math-7b', { rate500: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const failed = await client.chat.completions
          .create({ model: 'math', messages: [{ role: 'user', content: `What is ${i} + 2?` }] })
          .catch((error: unknown) => error);
        expect(failed).toBeInstanceOf(OpenAI.APIError);
      }
    } finally {
      server.simulated?.setFaults('sim-math-7b', undefined);
    }
    await page.click('#tabs button[data-tab="pool"]');
    const math = page.locator('#pool tr[data-worker="math"][data-state="cooling"]');
    await math.waitFor(WAIT);
    expect(await math.locator('td').nth(1).textContent()).toMatch(/^cooling down until \d\d:\d\d:\d\d/);
    expect(Number(await math.locator('td').nth(3).textContent())).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#pool tr[data-state="up"]').count()).toBe(3);
    await page.screenshot({ path: join(shots, 'pool.png') });

    await page.click('#tabs button[data-tab="requests"]');
    await page.selectOption('#filter-status', '5xx');
    const visible = page.locator('#requests tbody tr:visible');
    await expect.poll(() => visible.count(), WAIT).toBeGreaterThanOrEqual(3);
    const statuses = await visible.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-status')));
    expect(statuses.every((status) => Number(status) >= 500)).toBe(true);
    await page.selectOption('#filter-status', '');
    await page.selectOption('#filter-model', 'fugu');
    const models = await visible.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-model')));
    expect(models.length).toBeGreaterThan(0);
    expect(new Set(models)).toEqual(new Set(['fugu']));
    await page.selectOption('#filter-model', '');
  });

  it('shows spend and usage per client key and per public model', async () => {
    await page.click('#tabs button[data-tab="spend"]');
    await expect.poll(() => page.locator('#spend-models tbody tr').count(), WAIT).toBeGreaterThanOrEqual(3);
    const key = page.locator('#spend-keys tbody tr[data-name="anonymous"] td');
    expect(Number(await key.nth(1).textContent())).toBeGreaterThanOrEqual(7);
    const fugu = page.locator('#spend-models tbody tr[data-name="fugu"] td');
    expect(Number(await fugu.nth(1).textContent())).toBe(2);
    expect(Number(await fugu.nth(5).textContent())).toBeGreaterThan(0);
    expect(await page.locator('#spend-chart rect[data-model]').count()).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: join(shots, 'spend.png') });
  });

  it('lists the SVG reports of the report directory and shows one', async () => {
    await page.click('#tabs button[data-tab="reports"]');
    const button = page.locator('#reports button[data-report="routing-curve.svg"]');
    await button.waitFor(WAIT);
    expect(await page.locator('#reports li').count()).toBe(1); // notes.txt is not a report
    await button.click();
    const image = page.locator('#report-view img');
    await image.waitFor(WAIT);
    // The image decoded: its natural width is the SVG's (240).
    await expect
      .poll(() => image.evaluate((node) => (node as unknown as { naturalWidth: number }).naturalWidth), WAIT)
      .toBe(240);
    await page.screenshot({ path: join(shots, 'reports.png') });
    for (const name of ['..%2F..%2Fetc%2Fpasswd', '..%2Fnotes.txt', 'notes.txt', '.%2E%2Fx.svg']) {
      expect((await fetch(`${url}/ui/reports/${name}`)).status).toBe(404);
    }
  });
  it('keeps up with a burst: each request is shown or counted as sampled out, and the page still answers', async () => {
    await page.click('#tabs button[data-tab="requests"]');
    const counts = async (): Promise<{ seen: number; sampled: number }> => {
      const text = (await page.textContent('#feed-counts')) ?? '';
      return {
        seen: Number(/(\d+) requests seen/.exec(text)?.[1] ?? 0),
        sampled: Number(/(\d+) sampled out/.exec(text)?.[1] ?? 0),
      };
    };
    const before = await counts();
    const burst = 300;
    await Promise.all(
      Array.from({ length: burst }, (_, i) =>
        client.chat.completions.create({
          model: 'writer',
          messages: [{ role: 'user', content: `Line ${i}` }],
        }),
      ),
    );
    await expect
      .poll(async () => {
        const now = await counts();
        return now.seen + now.sampled - before.seen - before.sampled;
      }, WAIT)
      .toBe(burst);
    expect(await page.locator('#requests tbody tr').count()).toBeLessThanOrEqual(500);
    await page.locator('#requests tbody tr').first().click();
    await page.waitForSelector('#trace .calls h3', WAIT);
  });
});
