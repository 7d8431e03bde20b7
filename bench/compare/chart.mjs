// An SVG line chart of throughput (events/s) against log size, one line per
// engine and thread count, from the result of compare.mjs. No dependencies.
//   node chart.mjs bench/results/compare.json > bench/results/compare.svg
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const COLORS = {
  leadscore: ["#1f5fa8", "#6aa6e8"],
  duckdb: ["#c25700", "#f0a050"],
  sqlite: ["#2e7d32", "#81c784"],
};

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function sizeLabel(n) {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return String(n);
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmtRate(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(v % 1e6 === 0 ? 0 : 1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(0)}k`;
  return String(v);
}

export function renderChart(result) {
  const W = 760, H = 420;
  const left = 80, right = 210, top = 48, bottom = 60;
  const pw = W - left - right, ph = H - top - bottom;

  // Series: engine + threads -> [(events, events/s)]
  const series = new Map();
  for (const s of result.sizes) {
    for (const r of s.rows) {
      const key = `${r.engine} / ${r.threads} thread${r.threads > 1 ? "s" : ""}`;
      if (!series.has(key)) series.set(key, { engine: r.engine, threads: r.threads, points: [] });
      series.get(key).points.push([s.events, r.events_per_s]);
    }
  }
  const sizes = result.sizes.map((s) => s.events);
  const minX = Math.min(...sizes), maxX = Math.max(...sizes);
  const lx = (v) => Math.log10(v);
  const x = (v) => maxX === minX ? left + pw / 2
    : left + (lx(v) - lx(minX)) / (lx(maxX) - lx(minX)) * pw;
  const maxY = Math.max(1, ...[...series.values()].flatMap((s) => s.points.map((p) => p[1])));
  const step = niceStep(maxY * 1.05, 5);
  const topY = Math.ceil(maxY * 1.05 / step) * step;
  const y = (v) => top + ph - (v / topY) * ph;

  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  // (Results from before there were jobs are of the bench job.)
  const job = result.job ?? "bench";
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(`Scoring throughput, ${job} job: leadscore, DuckDB, SQLite (same CSV)`)}</text>`);
  const m = result.machine;
  out.push(`<text x="${left}" y="38" fill="#555">${esc(`${result.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB; median wall time of whole runs`)}</text>`);
  // Grid and y axis.
  for (let v = 0; v <= topY + 1e-9; v += step) {
    out.push(`<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${left + pw}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmtRate(v)}</text>`);
  }
  out.push(`<text transform="translate(18 ${top + ph / 2}) rotate(-90)" text-anchor="middle">events per second (higher is better)</text>`);
  // X axis.
  out.push(`<line x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}" stroke="#333"/>`);
  for (const s of sizes) {
    out.push(`<line x1="${x(s).toFixed(1)}" y1="${top + ph}" x2="${x(s).toFixed(1)}" y2="${top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${x(s).toFixed(1)}" y="${top + ph + 19}" text-anchor="middle">${sizeLabel(s)}</text>`);
  }
  out.push(`<text x="${left + pw / 2}" y="${H - 16}" text-anchor="middle">events in the log (log scale)</text>`);
  // Lines.
  let i = 0;
  for (const [key, s] of series) {
    const palette = COLORS[s.engine] ?? ["#555", "#999"];
    const color = palette[s.threads > 1 ? 0 : 1];
    const dash = s.threads > 1 ? "" : ` stroke-dasharray="6 4"`;
    const pts = s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2.5"${dash}/>`);
    for (const [a, b] of s.points) {
      out.push(`<circle cx="${x(a).toFixed(1)}" cy="${y(b).toFixed(1)}" r="4" fill="${color}"><title>${esc(`${key}: ${sizeLabel(a)} events, ${Math.round(b).toLocaleString("en-US")} events/s`)}</title></circle>`);
    }
    const ly = top + 10 + i * 22;
    out.push(`<line x1="${left + pw + 20}" y1="${ly}" x2="${left + pw + 50}" y2="${ly}" stroke="${color}" stroke-width="2.5"${dash}/>`);
    out.push(`<text x="${left + pw + 58}" y="${ly + 4}">${esc(key)}</text>`);
    i++;
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? "bench/results/compare.json";
  process.stdout.write(renderChart(JSON.parse(fs.readFileSync(file, "utf8"))));
}
