/** A small, dependency-free SVG line chart for cost–quality curves (pure: returns the SVG text). */

/** One plotted line. */
export interface SvgSeries {
  name: string;
  points: readonly { x: number; y: number }[];
  color: string;
  dashed?: boolean;
  markers?: boolean;
}

/** A horizontal reference line (best single, oracle). */
export interface SvgReference {
  name: string;
  y: number;
  color: string;
}

/** Chart settings. */
export interface SvgChart {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: readonly SvgSeries[];
  references?: readonly SvgReference[];
  /** Format of x tick labels (default: 2 significant decimals). */
  xFormat?: (x: number) => string;
  yFormat?: (y: number) => string;
  width?: number;
  height?: number;
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Renders a line chart with axes, ticks, grid, reference lines and a legend. */
export function renderLineChartSvg(chart: SvgChart): string {
  const width = chart.width ?? 760;
  const height = chart.height ?? 480;
  const margin = { left: 70, right: 200, top: 56, bottom: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p.x)).filter(Number.isFinite);
  const ys = [
    ...chart.series.flatMap((s) => s.points.map((p) => p.y)),
    ...(chart.references ?? []).map((r) => r.y),
  ].filter(Number.isFinite);
  let xMin = xs.length ? Math.min(...xs) : 0;
  let xMax = xs.length ? Math.max(...xs) : 1;
  if (xMax === xMin) xMax = xMin + 1;
  let yMin = ys.length ? Math.min(...ys) : 0;
  let yMax = ys.length ? Math.max(...ys) : 1;
  const pad = (yMax - yMin || 1) * 0.06;
  yMin -= pad;
  yMax += pad;
  if (xMin > 0 && xMin < (xMax - xMin) * 0.05) xMin = 0;
  const sx = (x: number): number => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number): number => margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;
  const fx = chart.xFormat ?? ((x: number) => String(Number(x.toPrecision(3))));
  const fy = chart.yFormat ?? ((y: number) => String(Number(y.toPrecision(3))));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="24" font-size="16" font-weight="bold" fill="#222">${escapeXml(chart.title)}</text>`,
  );
  if (chart.subtitle)
    out.push(`<text x="${margin.left}" y="42" fill="#555">${escapeXml(chart.subtitle)}</text>`);
  for (const t of niceTicks(xMin, xMax, 6)) {
    const x = sx(t).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotH}" stroke="#eee"/>`,
      `<text x="${x}" y="${margin.top + plotH + 18}" text-anchor="middle" fill="#444">${escapeXml(fx(t))}</text>`,
    );
  }
  for (const t of niceTicks(yMin, yMax, 6)) {
    const y = sy(t).toFixed(1);
    out.push(
      `<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="#eee"/>`,
      `<text x="${margin.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${escapeXml(fy(t))}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle" fill="#222">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#222">${escapeXml(chart.yLabel)}</text>`,
  );
  const legend: { name: string; color: string; dashed: boolean }[] = [];
  for (const reference of chart.references ?? []) {
    if (!Number.isFinite(reference.y)) continue;
    const y = sy(reference.y).toFixed(1);
    out.push(
      `<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotW}" y2="${y}" stroke="${reference.color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    legend.push({ name: reference.name, color: reference.color, dashed: true });
  }
  for (const series of chart.series) {
    const pts = series.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pts.length === 0) continue;
    const d = pts
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`)
      .join(' ');
    out.push(
      `<path d="${d}" fill="none" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="3 3"' : ''}/>`,
    );
    if (series.markers || pts.length === 1) {
      for (const p of pts) {
        out.push(
          `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${series.color}"/>`,
        );
      }
    }
    legend.push({ name: series.name, color: series.color, dashed: series.dashed ?? false });
  }
  const lx = margin.left + plotW + 16;
  legend.forEach((entry, i) => {
    const y = margin.top + 10 + i * 20;
    out.push(
      `<line x1="${lx}" y1="${y}" x2="${lx + 24}" y2="${y}" stroke="${entry.color}" stroke-width="2"${entry.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 30}" y="${y}" dominant-baseline="middle" fill="#222">${escapeXml(entry.name.length > 26 ? `${entry.name.slice(0, 25)}…` : entry.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
