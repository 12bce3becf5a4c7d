// OpenFugu operations page: plain browser JavaScript, no dependencies, no network beyond this gateway.
// Untrusted text (model output, worker ids, key names) only ever goes into the DOM as text (textContent),
// never as markup.

const MAX_ROWS = 500;
const SVG = 'http://www.w3.org/2000/svg';
const state = {
  ids: new Set(),
  models: new Set(),
  received: 0,
  skipped: 0,
  dropped: 0,
  selected: undefined,
  pool: [],
};

const $ = (selector) => document.querySelector(selector);

/** Creates an element with attributes and children (strings become text nodes). */
function el(tag, attributes = {}, ...children) {
  const node = tag.startsWith('svg:')
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

const time = (ms) =>
  new Date(ms).toLocaleTimeString(undefined, { hour12: false }) + `.${String(ms % 1000).padStart(3, '0')}`;
const money = (usd) => (usd > 0 ? usd.toFixed(6) : '0');
const statusClass = (status) => (status < 400 ? 'status-ok' : 'status-bad');

// ---- tabs -------------------------------------------------------------------------------------------------
function showTab(name) {
  for (const button of document.querySelectorAll('#tabs button')) {
    button.setAttribute('aria-selected', String(button.dataset.tab === name));
  }
  for (const section of document.querySelectorAll('main > section'))
    section.hidden = section.id !== `tab-${name}`;
  if (name === 'reports') loadReports();
}
for (const button of document.querySelectorAll('#tabs button')) {
  button.addEventListener('click', () => showTab(button.dataset.tab));
}

// ---- live requests ----------------------------------------------------------------------------------------
function matchesFilters(row) {
  const model = $('#filter-model').value;
  const status = $('#filter-status').value;
  if (model && row.dataset.model !== model) return false;
  const code = Number(row.dataset.status);
  if (status === 'ok') return code < 400;
  if (status === 'error') return code >= 400;
  if (status === '4xx') return code >= 400 && code < 500;
  if (status === '5xx') return code >= 500;
  return true;
}

function applyFilters() {
  for (const row of $('#requests tbody').rows) row.hidden = !matchesFilters(row);
}
$('#filter-model').addEventListener('change', applyFilters);
$('#filter-status').addEventListener('change', applyFilters);

function addRows(rows) {
  const body = $('#requests tbody');
  const fragment = document.createDocumentFragment();
  // Rows arrive oldest first; the table shows the newest on top.
  for (let i = rows.length - 1; i >= 0; i--) {
    const request = rows[i];
    if (state.ids.has(request.id)) continue;
    state.ids.add(request.id);
    state.received++;
    if (!state.models.has(request.model)) {
      state.models.add(request.model);
      $('#filter-model').append(el('option', { value: request.model, text: request.model }));
    }
    const workers = el('td', { text: request.workers.join(' → ') });
    if (request.fallback) workers.append(el('span', { class: 'badge', text: 'fallback' }));
    const row = el(
      'tr',
      {
        'data-id': request.id,
        'data-model': request.model,
        'data-status': request.status,
        'data-mode': request.mode,
        onclick: () => selectRequest(request.id),
      },
      el('td', { text: time(request.at) }),
      el('td', { text: request.model }),
      el('td', { text: request.mode + (request.stream ? ' · stream' : '') }),
      el('td', { class: statusClass(request.status), text: request.status }),
      el('td', { class: 'num', text: request.ms.toFixed(1) }),
      el('td', { class: 'num', text: `${request.promptTokens}+${request.completionTokens}` }),
      el('td', { class: 'num', text: money(request.costUsd) }),
      workers,
    );
    row.hidden = !matchesFilters(row);
    fragment.append(row);
  }
  body.prepend(fragment);
  while (body.rows.length > MAX_ROWS) {
    const last = body.rows[body.rows.length - 1];
    state.ids.delete(last.dataset.id);
    last.remove();
  }
  renderCounts();
}

function renderCounts() {
  const parts = [`${state.received} requests seen`];
  if (state.skipped > 0) parts.push(`${state.skipped} sampled out (busy)`);
  if (state.dropped > 0) parts.push(`${state.dropped} dropped (slow viewer)`);
  $('#feed-counts').textContent = parts.join(' · ');
}

// ---- one request's trace ----------------------------------------------------------------------------------
async function selectRequest(id) {
  state.selected = id;
  for (const row of $('#requests tbody').rows) row.classList.toggle('selected', row.dataset.id === id);
  const panel = $('#trace');
  panel.replaceChildren(el('p', { class: 'muted', text: 'loading…' }));
  const response = await fetch(`/ui/api/requests/${encodeURIComponent(id)}`);
  if (state.selected !== id) return;
  if (!response.ok) {
    panel.replaceChildren(
      el('p', { class: 'status-bad', text: 'This trace is no longer kept (only recent ones are).' }),
    );
    return;
  }
  renderTrace(panel, await response.json());
}

function renderTrace(panel, trace) {
  const summary = el('dl', {});
  const add = (name, value) => summary.append(el('dt', { text: name }), el('dd', { text: value }));
  add('request', trace.id);
  add('model', `${trace.model} (${trace.mode})`);
  add('status', trace.status);
  add('latency', `${trace.ms.toFixed(1)} ms`);
  add('tokens', `${trace.promptTokens} prompt + ${trace.completionTokens} completion`);
  add('cost', `$${money(trace.costUsd)}`);
  add('key', trace.key);
  panel.replaceChildren(el('h2', { text: 'Trace' }), summary);
  const modeTraces = Array.isArray(trace.modeTrace) ? trace.modeTrace : [trace.modeTrace];
  modeTraces.forEach((modeTrace, index) => {
    if (modeTraces.length > 1) panel.append(el('h3', { text: `choice ${index}` }));
    if (modeTrace && Array.isArray(modeTrace.turns)) panel.append(renderTimeline(modeTrace));
    else if (modeTrace?.workflow) panel.append(renderWorkflow(modeTrace));
  });
  panel.append(renderCalls(trace));
}

/** Every worker call of the request: passthrough, fallbacks, retries of a mode. */
function renderCalls(trace) {
  const wrap = el('div', { class: 'calls' });
  const passthrough = trace.mode !== 'run' || trace.calls.length <= 1;
  wrap.append(el('h3', { text: passthrough ? 'Passthrough' : 'Worker calls' }));
  if (trace.calls.length === 0) {
    wrap.append(el('p', { class: 'muted', text: 'No worker was called.' }));
    return wrap;
  }
  const table = el(
    'table',
    { class: 'calls-table' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ...['worker', 'outcome', 'ms', 'tokens', 'cost $', 'note'].map((name) => el('th', { text: name })),
      ),
    ),
  );
  const body = el('tbody');
  for (const call of trace.calls) {
    const note = call.fallbackFrom ? `fallback from ${call.fallbackFrom}` : call.error ? call.error : '';
    body.append(
      el(
        'tr',
        { 'data-outcome': call.outcome, 'data-fallback': call.fallbackFrom ? 'true' : undefined },
        el('td', { text: call.workerId }),
        el('td', { class: call.outcome === 'ok' ? 'status-ok' : 'status-bad', text: call.outcome }),
        el('td', { class: 'num', text: call.ms.toFixed(1) }),
        el('td', {
          class: 'num',
          text: call.usage ? `${call.usage.promptTokens}+${call.usage.completionTokens}` : '',
        }),
        el('td', { class: 'num', text: call.costUsd ? money(call.costUsd) : '' }),
        el('td', { text: note }),
      ),
    );
  }
  table.append(body);
  wrap.append(table);
  return wrap;
}

/** `fugu`: the TRINITY turns as a timeline. */
function renderTimeline(modeTrace) {
  const wrap = el('div', {}, el('h3', { text: `Turns (ended: ${modeTrace.reason ?? 'n/a'})` }));
  const list = el('ol', { class: 'timeline' });
  const longest = Math.max(1, ...modeTrace.turns.map((turn) => turn.latencyMs ?? 0));
  const agents = Array.isArray(modeTrace.agents) ? modeTrace.agents : [];
  modeTrace.turns.forEach((turn) => {
    const outcome = turn.error
      ? el('span', { class: 'outcome-error', text: `failed: ${turn.error}` })
      : el('span', {
          text:
            turn.accepted === true
              ? 'accepted'
              : turn.accepted === false
                ? 'critique'
                : turn.final
                  ? 'final answer'
                  : turn.tools
                    ? 'tool call passthrough'
                    : 'answered',
        });
    const item = el(
      'li',
      { class: 'turn', 'data-turn': turn.turn, 'data-role': turn.role, 'data-agent': turn.agent },
      el('div', { class: 'head', text: `Turn ${turn.turn} · ${turn.role} · ${turn.agent}` }),
      el('div', { class: 'bar', style: undefined }),
      el(
        'div',
        {},
        `${turn.latencyMs ?? '?'} ms · `,
        turn.usage ? `${turn.usage.promptTokens}+${turn.usage.completionTokens} tokens · ` : '',
        outcome,
        turn.roleChange ? ` · role changed (${turn.roleChange})` : '',
      ),
    );
    // Width through the CSSOM, not a style attribute (the page's CSP forbids inline styles).
    item.querySelector('.bar').style.width = `${Math.max(1, ((turn.latencyMs ?? 0) / longest) * 100)}%`;
    if (Array.isArray(turn.scores) && agents.length === turn.scores.length) {
      const scores = el('div', { class: 'scores', title: "router's probability per agent" });
      turn.scores.forEach((score, index) => {
        const chosen = agents[index] === turn.agent;
        const meter = el('div', { class: chosen ? 'meter chosen' : 'meter' }, el('div'));
        meter.firstChild.style.width = `${Math.round(score * 100)}%`;
        scores.append(
          el('span', { class: chosen ? 'chosen' : undefined, text: agents[index] }),
          meter,
          el('span', { class: chosen ? 'chosen' : undefined, text: score.toFixed(3) }),
        );
      });
      item.append(scores);
    } else {
      item.append(el('div', { class: 'muted', text: 'router scores not recorded' }));
    }
    list.append(item);
  });
  wrap.append(list);
  return wrap;
}

/** The edges of a workflow: for each step, the earlier steps it reads. */
function dependencies(steps) {
  return steps.map((step, index) => {
    if (step.access === 'all') return Array.from({ length: index }, (_, j) => j);
    return Array.isArray(step.access)
      ? step.access.filter((j) => Number.isInteger(j) && j >= 0 && j < index)
      : [];
  });
}

/** `fugu-ultra`: the Conductor workflow as a DAG (columns = steps that can run at the same time). */
function renderWorkflow(modeTrace) {
  const steps = modeTrace.workflow.steps ?? [];
  const executed = [...(modeTrace.rounds ?? [])].reverse().find((round) => Array.isArray(round.steps));
  const runs = new Map((executed?.steps ?? []).map((step) => [step.step, step]));
  const deps = dependencies(steps);
  const level = [];
  deps.forEach((from, index) => {
    level[index] = from.length === 0 ? 0 : 1 + Math.max(...from.map((j) => level[j]));
  });
  const columns = [];
  level.forEach((value, index) => {
    columns[value] ??= [];
    columns[value].push(index);
  });
  const W = 170;
  const H = 58;
  const GX = 60;
  const GY = 18;
  const top = 22;
  const rows = Math.max(1, ...columns.map((column) => column.length));
  const width = columns.length * (W + GX) - GX + 20;
  // Edges that skip a stage run in a lane below the nodes instead of through the stage they skip.
  const skips = deps.some((from, to) => from.some((source) => level[to] - level[source] > 1));
  const bottom = top + rows * (H + GY) - GY;
  const height = bottom + (skips ? 34 : 10);
  const position = [];
  columns.forEach((column, x) => {
    column.forEach((step, y) => {
      position[step] = { x: 10 + x * (W + GX), y: top + y * (H + GY) };
    });
  });
  const svg = el('svg:svg', { class: 'dag', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  svg.append(
    el(
      'svg:defs',
      {},
      el(
        'svg:marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        el('svg:path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#8c959f' }),
      ),
    ),
  );
  columns.forEach((column, x) => {
    const label = column.length > 1 ? `${column.length} steps in parallel` : `stage ${x + 1}`;
    svg.append(
      el('svg:g', { class: 'dag-level' }, el('svg:text', { x: 10 + x * (W + GX), y: 13, text: label })),
    );
  });
  deps.forEach((from, to) => {
    for (const source of from) {
      const a = position[source];
      const b = position[to];
      const x1 = a.x + W;
      const y1 = a.y + H / 2;
      const x2 = b.x;
      const y2 = b.y + H / 2;
      const mid = (x1 + x2) / 2;
      const lane = bottom + 8 + (source % 3) * 7;
      const d =
        level[to] - level[source] > 1
          ? `M ${x1} ${y1} C ${x1 + 22} ${y1}, ${x1 + 22} ${lane}, ${x1 + 34} ${lane} L ${b.x - 12} ${lane} C ${b.x + 14} ${lane}, ${b.x + 14} ${lane}, ${b.x + 14} ${b.y + H + 2}`
          : `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2 - 2} ${y2}`;
      svg.append(
        el('svg:path', {
          class: 'dag-edge',
          'data-from': source,
          'data-to': to,
          d,
          'marker-end': 'url(#arrow)',
        }),
      );
    }
  });
  const detail = el(
    'div',
    { class: 'step-detail' },
    el('p', { class: 'muted', text: 'Click a step to see its subtask and output.' }),
  );
  steps.forEach((step, index) => {
    const run = runs.get(index);
    const worker = run?.worker ?? step.worker;
    const status = run?.status ?? 'not run';
    const node = el(
      'svg:g',
      {
        class: `dag-node ${status === 'completed' ? '' : 'failed'}`,
        'data-step': index,
        'data-worker': worker,
        transform: `translate(${position[index].x} ${position[index].y})`,
      },
      el('svg:rect', { width: W, height: H, rx: 6 }),
      el('svg:text', { class: 'title', x: 8, y: 16, text: `step ${index} · ${worker}` }),
      el('svg:text', { x: 8, y: 32, text: `${status}${run ? ` · ${run.latencyMs} ms` : ''}` }),
      el('svg:text', {
        x: 8,
        y: 48,
        text: step.subtask.length > 26 ? `${step.subtask.slice(0, 25)}…` : step.subtask,
      }),
    );
    node.addEventListener('click', () => {
      for (const other of svg.querySelectorAll('.dag-node'))
        other.classList.toggle('selected', other === node);
      detail.replaceChildren(
        el('h3', {
          text: `Step ${index} · ${worker}${worker !== step.worker ? ` (planned: ${step.worker})` : ''}`,
        }),
        el('p', { text: `Subtask: ${step.subtask}` }),
        el('p', {
          class: 'muted',
          text: `Sees: ${step.access === 'all' ? 'all earlier steps' : deps[index].length ? deps[index].map((j) => `step ${j}`).join(', ') : 'no earlier step'}`,
        }),
        el('pre', { class: 'output', text: run?.output ?? '(no output recorded)' }),
      );
    });
    svg.append(node);
  });
  const rounds = modeTrace.rounds?.length ?? 0;
  return el(
    'div',
    { class: 'workflow' },
    el('h3', {
      text: `Workflow: ${steps.length} steps${rounds > 1 ? `, ${rounds} planning rounds` : ''} (${modeTrace.stopReason ?? ''}, ${modeTrace.ms ?? '?'} ms)`,
    }),
    svg,
    detail,
  );
}

// ---- pool and spend ---------------------------------------------------------------------------------------
function renderPool(pool) {
  state.pool = pool;
  const body = $('#pool tbody');
  const now = Date.now();
  body.replaceChildren(
    ...pool.map((worker) => {
      const cooling = !worker.available;
      const label = cooling
        ? worker.coolingUntil
          ? `cooling down until ${time(worker.coolingUntil)} (${Math.max(0, Math.round((worker.coolingUntil - now) / 1000))} s)`
          : 'cooling down'
        : 'up';
      return el(
        'tr',
        { 'data-worker': worker.id, 'data-state': cooling ? 'cooling' : 'up' },
        el('td', { text: worker.id }),
        el('td', { text: label }),
        el('td', { class: 'num', text: worker.calls }),
        el('td', { class: 'num', text: worker.errors }),
        el('td', { class: 'num', text: `${(worker.errorRate * 100).toFixed(1)}%` }),
        el('td', { class: 'num', text: worker.meanMs.toFixed(1) }),
        el('td', {
          text: worker.lastError ? `${worker.lastError.code} at ${time(worker.lastError.at)}` : '',
        }),
      );
    }),
  );
}

function usageRows(into, usage) {
  $(into).replaceChildren(
    ...Object.entries(usage)
      .sort((a, b) => b[1].costUsd - a[1].costUsd || b[1].requests - a[1].requests)
      .map(([name, row]) =>
        el(
          'tr',
          { 'data-name': name },
          el('td', { text: name }),
          el('td', { class: 'num', text: row.requests }),
          el('td', { class: 'num', text: row.errors }),
          el('td', { class: 'num', text: row.promptTokens }),
          el('td', { class: 'num', text: row.completionTokens }),
          el('td', { class: 'num', text: money(row.costUsd) }),
        ),
      ),
  );
}

const COLORS = ['#1f6feb', '#cf222e', '#1a7f37', '#8250df', '#9a6700', '#0a7ea4', '#bf3989'];

function renderSpend(spend) {
  usageRows('#spend-keys tbody', spend.byKey);
  usageRows('#spend-models tbody', spend.byModel);
  // Stacked bars: one per minute, one colour per public model.
  const width = 720;
  const height = 170;
  const left = 44;
  const base = height - 22;
  const n = Math.max(1, spend.minutes.length);
  const models = Object.keys(spend.series);
  const totals = spend.minutes.map((_, i) =>
    models.reduce((sum, model) => sum + (spend.series[model].requests[i] ?? 0), 0),
  );
  const peak = Math.max(1, ...totals);
  const slot = (width - left - 150) / Math.max(n, 10);
  const svg = el('svg:svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}` });
  svg.append(
    el('svg:line', { class: 'axis', x1: left, y1: base, x2: left + slot * Math.max(n, 10), y2: base }),
  );
  svg.append(el('svg:text', { x: 2, y: 16, text: `${peak}/min` }));
  spend.minutes.forEach((minute, i) => {
    let y = base;
    models.forEach((model, index) => {
      const value = spend.series[model].requests[i] ?? 0;
      if (value === 0) return;
      const h = (value / peak) * (base - 14);
      y -= h;
      svg.append(
        el(
          'svg:rect',
          {
            x: left + i * slot + 1,
            y,
            width: Math.max(2, slot - 2),
            height: h,
            fill: COLORS[index % COLORS.length],
            'data-model': model,
          },
          el('svg:title', {
            text: `${model}: ${value} requests, $${money(spend.series[model].costUsd[i] ?? 0)}`,
          }),
        ),
      );
    });
    if (i === 0 || i === spend.minutes.length - 1) {
      svg.append(el('svg:text', { x: left + i * slot, y: height - 6, text: time(minute).slice(0, 5) }));
    }
  });
  models.forEach((model, index) => {
    const y = 14 + index * 14;
    svg.append(
      el('svg:rect', {
        x: width - 140,
        y: y - 9,
        width: 10,
        height: 10,
        fill: COLORS[index % COLORS.length],
      }),
    );
    svg.append(el('svg:text', { class: 'legend', x: width - 124, y, text: model }));
  });
  $('#spend-chart').replaceChildren(svg);
}

// ---- reports ----------------------------------------------------------------------------------------------
async function loadReports() {
  const response = await fetch('/ui/api/reports');
  if (!response.ok) return;
  const reports = await response.json();
  $('#reports-note').textContent = reports.configured
    ? `${reports.data.length} SVG report(s) in the configured report directory.`
    : 'No report directory is configured (ui.reportDir).';
  $('#reports').replaceChildren(
    ...reports.data.map((report) =>
      el(
        'li',
        {},
        el('button', {
          type: 'button',
          'data-report': report.name,
          text: report.name,
          onclick: () =>
            $('#report-view').replaceChildren(
              el('img', { src: `/ui/reports/${encodeURIComponent(report.name)}`, alt: report.name }),
            ),
        }),
        ` ${(report.bytes / 1024).toFixed(1)} KiB · ${new Date(report.modified).toLocaleString()}`,
      ),
    ),
  );
}

// ---- the feed ---------------------------------------------------------------------------------------------
function connect() {
  const status = $('#feed-status');
  const events = new EventSource('/ui/events');
  events.addEventListener('open', () => {
    status.dataset.state = 'live';
    status.textContent = 'live';
  });
  events.addEventListener('error', () => {
    status.dataset.state = 'down';
    status.textContent = 'feed lost, reconnecting…';
  });
  events.addEventListener('snapshot', (event) => {
    const snapshot = JSON.parse(event.data);
    addRows(snapshot.rows);
    renderPool(snapshot.pool);
    renderSpend(snapshot.spend);
  });
  events.addEventListener('requests', (event) => {
    const batch = JSON.parse(event.data);
    state.skipped += batch.skipped;
    state.dropped = batch.dropped;
    addRows(batch.rows);
  });
  events.addEventListener('status', (event) => {
    const update = JSON.parse(event.data);
    renderPool(update.pool);
    renderSpend(update.spend);
  });
}
connect();
