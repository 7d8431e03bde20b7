// The peer comparison: leadscore, DuckDB and SQLite on the same job.
//
// Two jobs (sql.mjs, JOBS; pick one with JOB):
//   bench  (default) bench_model.textproto / job.sql.in on a 9-column log of
//          20 events per member: the heavier job of docs/performance.md.
//   issue  issue_model.textproto / issue_job.sql.in on a 5-column log of 10
//          events per member: the shape issue #4's goal names (2M events,
//          200k members, about 100 MB).
// For each log size: generate a seeded log (gen_log.mjs, cached), run every
// engine once and check that all give the same answers member by member
// (scores to 1e-6 relative, counters and tags exactly); only then time
// repeated runs, interleaved (leadscore, DuckDB, SQLite, then again in a
// rotated order), and report the median wall time of each.
// A run is a whole child process, timed from spawn to exit: start-up, reading
// and parsing the CSV, scoring, and writing the per-member answers.
//
// Environment (all optional):
//   JOB         bench or issue             (default bench)
//   SIZES       log sizes in events        (default "1000000 2000000 10000000")
//   REPS        timed runs per engine      (default 5)
//   REPS_LARGE  timed runs for sizes >= 10M (default 3: see docs/performance.md)
//   THREADS     thread counts              (default "1 2"; SQLite always 1)
//   SEED        generator seed             (default 42)
//   LEADSCORE   the CLI                    (default build-bench/leadscore)
//   WORK        logs and outputs           (default build-bench/compare)
//   RESULTS     table, chart and raw data  (default bench/results)
//   ENGINES     which to run               (default "leadscore duckdb sqlite")
//   LEADSCORE_VERSION  what to call the leadscore build in the results
//                      (default: git commit of this tree, "+ local changes")
import { spawnSync, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { jobNamed, sqliteScript } from "./sql.mjs";
import { renderChart } from "./chart.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const env = process.env;
const words = (s) => s.trim().split(/\s+/).filter(Boolean);

const SIZES = words(env.SIZES ?? "1000000 2000000 10000000").map(Number);
const REPS = Number(env.REPS ?? 5);
const REPS_LARGE = Number(env.REPS_LARGE ?? 3);
const THREADS = words(env.THREADS ?? "1 2").map(Number);
const SEED = Number(env.SEED ?? 42);
const LEADSCORE = path.resolve(root, env.LEADSCORE ?? "build-bench/leadscore");
const WORK = path.resolve(root, env.WORK ?? "build-bench/compare");
const RESULTS = path.resolve(root, env.RESULTS ?? "bench/results");
const ENGINES = words(env.ENGINES ?? "leadscore duckdb sqlite");
const JOB = (() => {
  try { return jobNamed(env.JOB || "bench"); } catch (e) {
    console.error(`compare: JOB: ${e.message}`);
    process.exit(1);
  }
})();
const MODEL = path.join(here, JOB.model);
const GNU_TIME = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

const REL_TOL = 1e-6;   // scores: relative
const ABS_TOL = 1e-9;   // ... with this floor for values at or near 0

function die(msg) {
  console.error(`compare: ${msg}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Running and timing one child process.

// Runs argv (stdin from a file if given); returns seconds and peak RSS (KiB,
// when GNU time is there). Fails loudly on a non-zero exit.
function timed(argv, { stdinFile, label, logFile }) {
  const rssFile = path.join(WORK, ".rss");
  const cmd = GNU_TIME ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...argv] : argv;
  const stdin = stdinFile ? fs.openSync(stdinFile, "r") : "ignore";
  const log = fs.openSync(logFile, "w");
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: [stdin, log, log] });
  const t1 = process.hrtime.bigint();
  if (stdinFile) fs.closeSync(stdin);
  fs.closeSync(log);
  if (r.error) die(`${label}: ${r.error.message}`);
  if (r.status !== 0) {
    die(`${label} failed (exit ${r.status}); its output:\n` +
        fs.readFileSync(logFile, "utf8").slice(-3000));
  }
  let rssKiB = null;
  if (GNU_TIME) {
    const m = /(\d+)\s*$/.exec(fs.readFileSync(rssFile, "utf8"));
    if (m) rssKiB = Number(m[1]);
  }
  return { seconds: Number(t1 - t0) / 1e9, rssKiB };
}

function md5(file) {
  return crypto.createHash("md5").update(fs.readFileSync(file)).digest("hex");
}

// One engine configuration: how to run it on a log, and where its answers go.
function configs() {
  const out = [];
  for (const t of THREADS) {
    if (ENGINES.includes("leadscore")) out.push({ engine: "leadscore", threads: t });
    if (ENGINES.includes("duckdb")) out.push({ engine: "duckdb", threads: t });
  }
  if (ENGINES.includes("sqlite")) out.push({ engine: "sqlite", threads: 1 });
  return out;
}

function runEngine(cfg, log, asOf, tag) {
  const base = path.join(WORK, `${cfg.engine}-t${cfg.threads}-${tag}`);
  const label = `${cfg.engine} (threads ${cfg.threads})`;
  if (cfg.engine === "leadscore") {
    const members = base + ".members.jsonl";
    const r = timed([LEADSCORE, "score", "--model", MODEL, "--events", log,
                     "--as-of", String(asOf), "--threads", String(cfg.threads),
                     "--members-out", members, "--changes-out", base + ".changes.jsonl"],
                    { label, logFile: base + ".log" });
    return { ...r, answers: members };
  }
  if (cfg.engine === "duckdb") {
    const out = base + ".csv";
    const r = timed([process.execPath, path.join(here, "duckdb_job.mjs"), "--log", log,
                     "--as-of", String(asOf), "--threads", String(cfg.threads),
                     "--out", out, "--job", JOB.name],
                    { label, logFile: base + ".log" });
    return { ...r, answers: out };
  }
  if (cfg.engine === "sqlite") {
    const out = base + ".csv";
    const script = base + ".sql";
    fs.writeFileSync(script, sqliteScript(JOB, log, asOf, out));
    const r = timed(["sqlite3", "-bail", "-batch", ":memory:"],
                    { stdinFile: script, label, logFile: base + ".log" });
    return { ...r, answers: out };
  }
  die(`unknown engine ${cfg.engine}`);
}

// ---------------------------------------------------------------------------
// Answers, and checking that they agree.

// The scores and counters the job's model has (and its query answers).
const SCORES = JOB.scores;
const COUNTERS = JOB.counters;

// members.jsonl -> Map(member_id -> {scores, counters, tags})
function readLeadscore(file) {
  const out = new Map();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    const o = JSON.parse(line);
    out.set(o.member_id, {
      scores: SCORES.map((s) => o.scores[s]),
      counters: COUNTERS.map((c) => o.counters[c]),
      tags: o.tags.join(","),
    });
  }
  return out;
}

// One CSV line into cells (RFC 4180; no line breaks inside cells here).
function csvCells(line) {
  const cells = [];
  let i = 0;
  for (;;) {
    let cell = "";
    if (line[i] === '"') {
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error(`bad CSV line: ${line}`);
        cell += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') { cell += '"'; i++; continue; }
        break;
      }
    } else {
      const c = line.indexOf(",", i);
      const end = c < 0 ? line.length : c;
      cell = line.slice(i, end);
      i = end;
    }
    cells.push(cell);
    if (i >= line.length) return cells;
    i++;  // the comma
  }
}

// The SQL engines' CSV -> the same Map.
function readSqlCsv(file) {
  const lines = fs.readFileSync(file, "utf8").split(/\r?\n/).filter(Boolean);
  const header = csvCells(lines[0]);
  const col = (n) => {
    const i = header.indexOf(n);
    if (i < 0) throw new Error(`${file}: no column ${n}`);
    return i;
  };
  const id = col("member_id"), tags = col("tags");
  const sc = SCORES.map(col), cc = COUNTERS.map(col);
  const out = new Map();
  for (let k = 1; k < lines.length; k++) {
    const c = csvCells(lines[k]);
    out.set(c[id], {
      scores: sc.map((i) => Number(c[i])),
      counters: cc.map((i) => Number(c[i])),
      tags: c[tags],
    });
  }
  return out;
}

function readAnswers(cfg, file) {
  return cfg.engine === "leadscore" ? readLeadscore(file) : readSqlCsv(file);
}

// Compares `got` with the reference; returns a list of differences (at most
// `limit`) and the largest relative score difference seen.
function diffAnswers(ref, got, limit = 10) {
  const diffs = [];
  let maxRel = 0;
  const add = (s) => { if (diffs.length < limit) diffs.push(s); };
  if (ref.size !== got.size) add(`member count ${got.size}, expected ${ref.size}`);
  for (const [id, r] of ref) {
    const g = got.get(id);
    if (!g) { add(`member ${id} missing`); continue; }
    SCORES.forEach((name, i) => {
      const a = r.scores[i], b = g.scores[i];
      const err = Math.abs(a - b);
      const scale = Math.max(Math.abs(a), Math.abs(b));
      if (scale > 0) maxRel = Math.max(maxRel, err / scale);
      if (!(err <= REL_TOL * scale + ABS_TOL)) add(`${id} score ${name}: ${b}, expected ${a}`);
    });
    COUNTERS.forEach((name, i) => {
      if (r.counters[i] !== g.counters[i]) {
        add(`${id} counter ${name}: ${g.counters[i]}, expected ${r.counters[i]}`);
      }
    });
    if (r.tags !== g.tags) add(`${id} tags: [${g.tags}], expected [${r.tags}]`);
  }
  for (const id of got.keys()) if (!ref.has(id)) add(`unexpected member ${id}`);
  return { diffs, maxRel };
}

// ---------------------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function versions() {
  const v = {};
  const tryRun = (f) => { try { return f(); } catch { return "unknown"; } };
  const git = (...a) => execFileSync("git", ["-C", root, ...a],
                                     { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  v.leadscore = env.LEADSCORE_VERSION ?? tryRun(() => git("rev-parse", "--short", "HEAD") +
    (git("status", "--porcelain", "--", "lib", "include", "tools") ? " (+ local changes)" : ""));
  v.duckdb_node_api = tryRun(() => JSON.parse(fs.readFileSync(
    path.join(here, "node_modules/@duckdb/node-api/package.json"), "utf8")).version);
  v.duckdb = tryRun(() => execFileSync(process.execPath, [
    "--input-type=module", "-e",
    "import {DuckDBInstance} from '@duckdb/node-api';" +
    "const c = await (await DuckDBInstance.create(':memory:')).connect();" +
    "console.log((await c.runAndReadAll('SELECT version()')).getRows()[0][0]);"],
    { cwd: here, encoding: "utf8" }).trim());
  v.sqlite = tryRun(() => execFileSync("sqlite3", ["--version"], { encoding: "utf8" }).split(" ")[0]);
  v.node = process.version;
  return v;
}

function machine() {
  let model = os.cpus()[0]?.model ?? "unknown";
  try {
    const m = /Model name:\s*(.+)/.exec(execFileSync("lscpu", { encoding: "utf8" }));
    if (m) model = m[1].trim();
  } catch {}
  return {
    cpu: model,
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
  };
}

function main() {
  if (!fs.existsSync(LEADSCORE)) die(`no leadscore at ${LEADSCORE} (make compare builds it)`);
  fs.mkdirSync(WORK, { recursive: true });
  fs.mkdirSync(RESULTS, { recursive: true });
  const started = new Date();
  const result = {
    date: started.toISOString(),
    machine: machine(),
    versions: versions(),
    job: JOB.name,
    job_about: JOB.about,
    seed: SEED,
    threads: THREADS,
    reps: REPS,
    reps_large: REPS_LARGE,
    tolerance: { relative: REL_TOL, absolute: ABS_TOL },
    sizes: [],
  };
  console.log(`compare: the ${JOB.name} job (${JOB.about})`);
  console.log(`compare: ${result.machine.cpu}, ${result.machine.cores} cores, ` +
              `${result.machine.memory_gib} GiB; DuckDB ${result.versions.duckdb}, ` +
              `SQLite ${result.versions.sqlite}, leadscore ${result.versions.leadscore}`);

  for (const size of SIZES) {
    // 1. The log (generated once per job, size and seed, then reused).
    const log = path.join(WORK, JOB.logName(size, SEED));
    const metaFile = log + ".json";
    if (!fs.existsSync(log) || !fs.existsSync(metaFile)) {
      console.log(`compare: generating ${size} events (seed ${SEED}, ${JOB.name} job)...`);
      const meta = execFileSync(process.execPath, [
        "--max-old-space-size=16384", path.join(here, "gen_log.mjs"),
        "--events", String(size), "--seed", String(SEED),
        "--members", String(JOB.members(size)), "--columns", JOB.genColumns,
        "--out", log],
        { encoding: "utf8" });
      fs.writeFileSync(metaFile, meta);
    }
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
    const asOf = meta.as_of;
    const bytes = fs.statSync(log).size;

    // 2. Every engine once; all must agree before any time is printed.
    const cfgs = configs();
    // (Outputs of the bench job keep their names; other jobs' name the job.)
    const runTag = (what) => `${JOB.name === "bench" ? "" : JOB.name + "-"}${size}-${what}`;
    const check = cfgs.map((cfg) => ({ cfg, run: runEngine(cfg, log, asOf, runTag("check")) }));
    const refEntry = check.find((c) => c.cfg.engine === "leadscore") ?? check[0];
    const ref = readAnswers(refEntry.cfg, refEntry.run.answers);
    const agreement = [];
    for (const { cfg, run } of check) {
      if (cfg === refEntry.cfg) continue;
      const { diffs, maxRel } = diffAnswers(ref, readAnswers(cfg, run.answers));
      if (diffs.length) {
        die(`${cfg.engine} (threads ${cfg.threads}) disagrees with ` +
            `${refEntry.cfg.engine} on the ${size}-event log of the ${JOB.name} job; ` +
            `no times printed:\n  ` +
            diffs.join("\n  "));
      }
      agreement.push({ engine: cfg.engine, threads: cfg.threads, max_rel_diff: maxRel });
    }
    // Reruns must give the same bytes, or (DuckDB: parallel float sums may
    // differ in the last bits from run to run) answers that agree again.
    const hashes = new Map(check.map(({ cfg, run }) => [cfg, md5(run.answers)]));
    console.log(`compare: ${JOB.name} job, ${size} events, ${ref.size} members: answers agree ` +
                `(${check.length} runs; largest relative score difference ` +
                `${Math.max(0, ...agreement.map((a) => a.max_rel_diff)).toExponential(2)})`);

    // 3. Timed runs, interleaved, each checked to give the same bytes again.
    const reps = size >= 10000000 ? Math.min(REPS, REPS_LARGE) : REPS;
    const times = new Map(cfgs.map((c) => [c, []]));
    const rss = new Map(cfgs.map((c) => [c, []]));
    const load = [];
    for (let rep = 0; rep < reps; rep++) {
      load.push(os.loadavg()[0]);
      for (let k = 0; k < cfgs.length; k++) {
        const cfg = cfgs[(k + rep) % cfgs.length];
        const run = runEngine(cfg, log, asOf, runTag("run"));
        if (md5(run.answers) !== hashes.get(cfg)) {
          const { diffs } = diffAnswers(ref, readAnswers(cfg, run.answers));
          if (diffs.length) {
            die(`${cfg.engine} (threads ${cfg.threads}) gave different answers on rerun:\n  ` +
                diffs.join("\n  "));
          }
        }
        times.get(cfg).push(run.seconds);
        if (run.rssKiB != null) rss.get(cfg).push(run.rssKiB);
      }
    }
    load.push(os.loadavg()[0]);
    const rows = cfgs.map((cfg) => {
      const ts = times.get(cfg);
      const med = median(ts);
      return {
        engine: cfg.engine,
        threads: cfg.threads,
        runs: ts.length,
        seconds: ts,
        median_s: med,
        events_per_s: size / med,
        peak_rss_mib: rss.get(cfg).length ? Math.max(...rss.get(cfg)) / 1024 : null,
      };
    });
    for (const r of rows) {
      const base = rows.find((x) => x.engine === "leadscore" && x.threads === r.threads);
      r.ratio_to_leadscore = base ? r.median_s / base.median_s : null;
      console.log(`  ${r.engine.padEnd(9)} threads ${r.threads}  median ${r.median_s.toFixed(3)} s` +
                  `  ${Math.round(r.events_per_s).toLocaleString("en-US")} events/s` +
                  (r.ratio_to_leadscore != null ? `  x${r.ratio_to_leadscore.toFixed(2)} of leadscore` : "") +
                  `  (runs: ${r.seconds.map((s) => s.toFixed(2)).join(", ")})`);
    }
    result.sizes.push({ events: size, members: ref.size, bytes, as_of: asOf,
                        reps, load_avg_1m: load, agreement, rows });
  }
  result.finished = new Date().toISOString();

  fs.writeFileSync(path.join(RESULTS, "compare.json"), JSON.stringify(result, null, 2) + "\n");
  fs.writeFileSync(path.join(RESULTS, "compare.md"), renderTable(result));
  fs.writeFileSync(path.join(RESULTS, "compare.svg"), renderChart(result));
  console.log(`\n${renderTable(result)}`);
  console.log(`compare: wrote ${path.relative(root, RESULTS)}/compare.{md,svg,json}`);
}

const fmtInt = (n) => Math.round(n).toLocaleString("en-US");

export function renderTable(result) {
  const m = result.machine, v = result.versions;
  const lines = [];
  // (Results from before there were jobs are of the bench job.)
  const job = result.job ?? "bench";
  lines.push(`Peer comparison, the ${job} job` +
             (result.job_about ? ` (${result.job_about})` : "") +
             `, of ${result.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ` +
             `${m.memory_gib} GiB (${m.os}): leadscore ${v.leadscore}; DuckDB ${v.duckdb} ` +
             `(@duckdb/node-api ${v.duckdb_node_api}, node ${v.node}); SQLite ${v.sqlite} ` +
             `(sqlite3 shell). Wall time of the whole job (start, read the CSV, score, write ` +
             `the answers), median of the runs shown; seed ${result.seed}.`);
  lines.push("");
  lines.push("| engine | events | threads | runs | seconds (median) | min-max s | events/s | ratio to leadscore | peak RSS MiB |");
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const s of result.sizes) {
    for (const r of s.rows) {
      lines.push(`| ${r.engine} | ${fmtInt(s.events)} | ${r.threads} | ${r.runs} | ` +
                 `${r.median_s.toFixed(2)} | ${Math.min(...r.seconds).toFixed(2)}-${Math.max(...r.seconds).toFixed(2)} | ` +
                 `${fmtInt(r.events_per_s)} | ` +
                 `${r.ratio_to_leadscore == null ? "-" : r.ratio_to_leadscore.toFixed(2)} | ` +
                 `${r.peak_rss_mib == null ? "-" : fmtInt(r.peak_rss_mib)} |`);
    }
  }
  lines.push("");
  lines.push("* ratio to leadscore = the engine's seconds / leadscore's seconds at the same " +
             "thread count (SQLite, which runs a query on one thread: against leadscore on 1 " +
             "thread); below 1 is faster than leadscore.");
  const few = result.sizes.filter((s) => s.reps < result.reps);
  if (few.length) {
    lines.push(`* Logs of ${few.map((s) => fmtInt(s.events)).join(", ")} events: ${few[0].reps} runs ` +
               `per engine instead of ${result.reps} (REPS_LARGE), to keep \`make compare\` within ` +
               `reason on 2 cores.`);
  }
  for (const s of result.sizes) {
    lines.push(`* ${fmtInt(s.events)} events: ${fmtInt(s.members)} members, ` +
               `${(s.bytes / 2 ** 20).toFixed(0)} MiB of CSV; answers agreed member by member ` +
               `(largest relative score difference ` +
               `${Math.max(0, ...s.agreement.map((a) => a.max_rel_diff)).toExponential(1)}); ` +
               `1-minute load average during the runs ${Math.min(...s.load_avg_1m).toFixed(1)}-` +
               `${Math.max(...s.load_avg_1m).toFixed(1)}.`);
  }
  return lines.join("\n") + "\n";
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
