// The query of job.sql.in with each engine's parts filled in.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export const sqlString = (s) => "'" + s.replace(/'/g, "''") + "'";

function fill(dedup, asOf) {
  // Whole-line comments go first: they name the placeholders.
  return fs.readFileSync(path.join(here, "job.sql.in"), "utf8")
    .split("\n").filter((l) => !l.trimStart().startsWith("--")).join("\n")
    .replaceAll("{{DEDUP}}", dedup)
    .replaceAll("{{AS_OF}}", String(BigInt(asOf)))
    .trim();
}

// DuckDB reads the CSV itself (read_csv, parallel), with the columns and
// types given: no sniffing.
export function duckdbQuery(log, asOf) {
  const events =
    `read_csv(${sqlString(log)}, header = true, delim = ',', quote = '"', ` +
    `escape = '"', auto_detect = false, columns = {` +
    `'event_id': 'VARCHAR', 'time': 'BIGINT', 'member_id': 'VARCHAR', ` +
    `'type': 'VARCHAR', 'value': 'VARCHAR', 'channel': 'VARCHAR', ` +
    `'group_id': 'VARCHAR', 'attr.topic': 'VARCHAR', 'attr.title': 'VARCHAR'})`;
  return fill(
    `SELECT member_id, event_id, min(time) AS time, arg_min(type, time) AS type\n` +
    `  FROM ${events}\n  GROUP BY member_id, event_id`, asOf);
}

// SQLite: the table the script .imports; a bare column next to min() takes
// its value from the row with the minimum (documented SQLite behaviour).
export function sqliteQuery(asOf) {
  return fill(
    `SELECT member_id, event_id, min(time) AS time, type\n` +
    `  FROM events\n  GROUP BY member_id, event_id`, asOf);
}

// The whole sqlite3 shell script of sqlite_job.sql.in.
export function sqliteScript(log, asOf, out) {
  const q = (s) => '"' + s.replace(/["\\]/g, (c) => "\\" + c) + '"';
  return fs.readFileSync(path.join(here, "sqlite_job.sql.in"), "utf8")
    .split("\n").filter((l) => !l.trimStart().startsWith("--")).join("\n")
    .replaceAll("{{LOG}}", q(log))
    .replaceAll("{{OUT}}", q(out))
    .replaceAll("{{QUERY}}", sqliteQuery(asOf));
}
