/** Markdown and SVG renderings of a `RoutingReport` (pure). */
import type { RoutingReport, ScoredMean } from './evaluate.js';
import { renderLineChartSvg, type SvgChart } from './svg.js';

const f3 = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(3));
const ci = (s: ScoredMean): string => `${f3(s.mean)} [${f3(s.ci95[0])}, ${f3(s.ci95[1])}]`;

/** A Markdown summary: baselines with 95% intervals, curve metrics, and the per-subset breakdown. */
export function renderMarkdownReport(report: RoutingReport): string {
  const lines: string[] = [];
  lines.push(
    `### ${report.dataset} — ${report.models.length} models, backbone \`${report.backbone}\`, trainer \`${report.trainer}\`, seed ${report.seed}`,
    '',
    `Train ${report.n_train} prompts, test ${report.n_test} prompts${report.split === null ? ' (separate test set)' : ` (split ${report.split} by prompt)`}.`,
    '',
    '| router | held-out mean [95% CI] |',
    '|---|---|',
    `| **TRINITY head (${report.trainer})** | **${ci(report.router)}** |`,
    `| best single (${report.best_single.model}) | ${ci(report.best_single)} |`,
    `| kNN (k=${report.knn.k}) | ${ci(report.knn)} |`,
    `| random | ${ci(report.random)} |`,
    `| oracle | ${ci(report.oracle)} |`,
    `| router − best single (paired) | ${ci(report.router_minus_best_single)} |`,
    '',
    `Strong = ${report.strong_model} (best on train), weak = ${report.weak_model}. APGR ${f3(report.apgr)} (kNN ${f3(report.knn_apgr)}, random ≈ 0.5), CPT(50%) ${pct(report.cpt50)}, CPT(80%) ${pct(report.cpt80)}, CPT(95%) ${pct(report.cpt95)}, AIQ ${f3(report.aiq)} (x = ${report.aiq_axis === 'cost' ? 'cost per query' : 'share of strong calls'}).`,
    '',
    `Cost at equal quality (${report.aiq_axis === 'cost' ? 'mean cost' : 'share of strong calls'} at which the curve first matches the strong model): ${report.aiq_axis === 'cost' ? f3(report.cost_at_equal_quality) : pct(report.cost_at_equal_quality)}. Quality at equal cost (at the argmax router's ${pct(report.quality_at_equal_cost.strong_share)} strong calls): ${f3(report.quality_at_equal_cost.router)} vs ${f3(report.quality_at_equal_cost.random_mix)} for a random mix.`,
    '',
    `Router choices: ${Object.entries(report.router.choice_share)
      .filter(([, share]) => share > 0)
      .map(([model, share]) => `${model} ${(share * 100).toFixed(1)}%`)
      .join(', ')}.`,
  );
  if (report.operating_points.length > 0) {
    lines.push(
      '',
      "Knob operating points (threshold on the margin, calibrated on the training prompts' out-of-fold predictions):",
      '',
      '| target | strong share on train | strong share on test | test quality | test PGR |',
      '|---|---|---|---|---|',
    );
    for (const o of report.operating_points) {
      const target = o.kind === 'pgr' ? `PGR ${pct(o.target)}` : `≤ ${pct(o.target)} strong`;
      lines.push(
        `| ${target} | ${pct(o.train_share)} | ${pct(o.test_share)} | ${f3(o.test_quality)} | ${f3(o.test_pgr)} |`,
      );
    }
  }
  if (report.subsets.length > 1) {
    lines.push(
      '',
      '| subset | n | router | best single | router − best | oracle | strong share |',
      '|---|---|---|---|---|---|---|',
    );
    for (const s of report.subsets) {
      lines.push(
        `| ${s.subset} | ${s.n} | ${f3(s.router)} | ${f3(s.best_single)} | ${f3(s.router - s.best_single)} | ${f3(s.oracle)} | ${pct(s.strong_share)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const pct = (x: number | null): string => (x === null ? 'not reached' : `${(x * 100).toFixed(1)}%`);

/** The cost–quality plot: router and kNN curves, random line, best-single and oracle references. */
export function renderCurveSvg(report: RoutingReport): string {
  const useCost = report.aiq_axis === 'cost';
  const x = (p: { strong_share: number; cost?: number }): number =>
    useCost ? p.cost! : p.strong_share * 100;
  const routerPoints = report.curve.map((p) => ({ x: x(p), y: p.quality }));
  const series = [
    { name: `TRINITY head (${report.trainer})`, points: routerPoints, color: '#d62728' },
    ...(useCost || report.operating_points.length === 0
      ? []
      : [
          {
            name: 'knob operating points (calibrated on train)',
            points: report.operating_points
              .map((o) => ({ x: o.test_share * 100, y: o.test_quality }))
              .sort((a, b) => a.x - b.x),
            color: '#9467bd',
            dashed: true,
            markers: true,
          },
        ]),
    ...(useCost
      ? []
      : [
          {
            name: `kNN (k=${report.knn.k})`,
            points: report.knn_curve.map((p) => ({ x: p.strong_share * 100, y: p.quality })),
            color: '#1f77b4',
          },
        ]),
    ...(useCost
      ? []
      : [
          {
            name: 'random',
            points: [
              { x: 0, y: report.weak_mean },
              { x: 100, y: report.strong_mean },
            ],
            color: '#7f7f7f',
            dashed: true,
          },
        ]),
  ];
  const chart: SvgChart = {
    title: `${report.dataset}: quality vs ${useCost ? 'cost' : 'strong-model calls'}`,
    subtitle: `${report.n_test} held-out prompts · backbone ${report.backbone} · APGR ${f3(report.apgr)} · AIQ ${f3(report.aiq)}`,
    xLabel: useCost ? 'mean cost per query' : `calls to ${report.strong_model} (%)`,
    yLabel: 'mean outcome',
    series,
    references: [
      { name: `oracle ${f3(report.oracle.mean)}`, y: report.oracle.mean, color: '#2ca02c' },
      { name: `best single ${f3(report.best_single.mean)}`, y: report.best_single.mean, color: '#ff7f0e' },
      { name: `router argmax ${f3(report.router.mean)}`, y: report.router.mean, color: '#9467bd' },
    ],
  };
  if (!useCost) chart.xFormat = (v: number) => `${Math.round(v)}%`;
  return renderLineChartSvg(chart);
}
