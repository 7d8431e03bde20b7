// The jobs of the harness, and the query of each (job.sql.in,
// issue_job.sql.in) with each engine's parts filled in.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export const sqlString = (s) => "'" + s.replace(/'/g, "''") + "'";

// A job: the model leadscore scores with, the SQL template that computes the
// same, the log's CSV columns (name, DuckDB type, SQLite column), how
// gen_log.mjs writes the log, and which answers the harness compares.
//   bench  the heavier job of docs/performance.md: 16 rules with a `*` rule,
//          4 scores (lifetime and derived too), 2 counters, 5 state tags, a
//          9-column CSV, 20 events per member.
//   issue  the shape issue #4's performance goal names: 15 rules, 2 decaying
//          scores, 2 `once` rules, 1 state tag, a 5-column CSV, 10 events per
//          member (2M events: 200k members, about 100 MB).
const COLUMNS_ISSUE = [
  ["event_id", "VARCHAR", "event_id TEXT"],
  ["time", "BIGINT", "time INTEGER"],
  ["member_id", "VARCHAR", "member_id TEXT"],
  ["type", "VARCHAR", "type TEXT"],
  ["value", "VARCHAR", "value TEXT"],
];
const COLUMNS_FULL = [
  ...COLUMNS_ISSUE,
  ["channel", "VARCHAR", "channel TEXT"],
  ["group_id", "VARCHAR", "group_id TEXT"],
  ["attr.topic", "VARCHAR", "attr_topic TEXT"],
  ["attr.title", "VARCHAR", "attr_title TEXT"],
];
export const JOBS = {
  bench: {
    name: "bench",
    about: "bench_model.textproto: 16 rules, 4 scores, 2 counters, 5 tags; 9 CSV columns",
    model: "bench_model.textproto",
    sql: "job.sql.in",
    columns: COLUMNS_FULL,
    genColumns: "full",
    members: (events) => Math.max(1, Math.floor(events / 20)),
    // The bench job's logs keep the names they had before there were jobs.
    logName: (events, seed) => `log-${events}-s${seed}.csv`,
    scores: ["engagement", "intent", "activity", "lead"],
    counters: ["posts_14d", "demos"],
  },
  issue: {
    name: "issue",
    about: "issue #4's shape, issue_model.textproto: 15 rules, 2 decaying scores, " +
           "2 once rules, 1 tag; 5 CSV columns",
    model: "issue_model.textproto",
    sql: "issue_job.sql.in",
    columns: COLUMNS_ISSUE,
    genColumns: "issue",
    members: (events) => Math.max(1, Math.floor(events / 10)),
    logName: (events, seed) => `log-issue-${events}-s${seed}.csv`,
    scores: ["engagement", "intent"],
    counters: [],
  },
};

// The job of that name; throws on an unknown one.
export function jobNamed(name) {
  const job = Object.hasOwn(JOBS, name) ? JOBS[name] : null;
  if (!job) throw new Error(`unknown job "${name}" (one of: ${Object.keys(JOBS).join(", ")})`);
  return job;
}

function fill(job, dedup, asOf) {
  // Whole-line comments go first: they name the placeholders.
  return fs.readFileSync(path.join(here, job.sql), "utf8")
    .split("\n").filter((l) => !l.trimStart().startsWith("--")).join("\n")
    .replaceAll("{{DEDUP}}", dedup)
    .replaceAll("{{AS_OF}}", String(BigInt(asOf)))
    .trim();
}

// DuckDB reads the CSV itself (read_csv, parallel), with the columns and
// types given: no sniffing.
export function duckdbQuery(job, log, asOf) {
  const events =
    `read_csv(${sqlString(log)}, header = true, delim = ',', quote = '"', ` +
    `escape = '"', auto_detect = false, columns = {` +
    job.columns.map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(", ") +
    `})`;
  return fill(job,
    `SELECT member_id, event_id, min(time) AS time, arg_min(type, time) AS type\n` +
    `  FROM ${events}\n  GROUP BY member_id, event_id`, asOf);
}

// SQLite: the table the script .imports; a bare column next to min() takes
// its value from the row with the minimum (documented SQLite behaviour).
export function sqliteQuery(job, asOf) {
  return fill(job,
    `SELECT member_id, event_id, min(time) AS time, type\n` +
    `  FROM events\n  GROUP BY member_id, event_id`, asOf);
}

// The whole sqlite3 shell script of sqlite_job.sql.in.
export function sqliteScript(job, log, asOf, out) {
  const q = (s) => '"' + s.replace(/["\\]/g, (c) => "\\" + c) + '"';
  return fs.readFileSync(path.join(here, "sqlite_job.sql.in"), "utf8")
    .split("\n").filter((l) => !l.trimStart().startsWith("--")).join("\n")
    .replaceAll("{{COLUMNS}}", job.columns.map(([, , col]) => col).join(", "))
    .replaceAll("{{LOG}}", q(log))
    .replaceAll("{{OUT}}", q(out))
    .replaceAll("{{QUERY}}", sqliteQuery(job, asOf));
}
