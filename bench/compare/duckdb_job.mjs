// A job of the harness in DuckDB (through @duckdb/node-api, pinned in
// package.json):
//   node duckdb_job.mjs --log LOG.csv --as-of T --threads N --out OUT.csv [--job bench|issue]
// One query (the job's SQL: job.sql.in for bench, the default;
// issue_job.sql.in for issue) reads the CSV with read_csv and writes one line
// per member to OUT.csv with COPY. The harness times this whole process:
// start, load, parse, query, write.
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { duckdbQuery, jobNamed, sqlString } from "./sql.mjs";

function arg(name, fallback) {
  const i = process.argv.indexOf("--" + name);
  if (i < 0 || i + 1 >= process.argv.length) {
    if (fallback !== undefined) return fallback;
    console.error(`duckdb_job: missing --${name}`);
    process.exit(1);
  }
  return process.argv[i + 1];
}

async function main() {
  const log = path.resolve(arg("log"));
  const out = path.resolve(arg("out"));
  const threads = Number(arg("threads"));
  const asOf = arg("as-of");
  const job = jobNamed(arg("job", "bench"));
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(threads),
  });
  const conn = await instance.connect();
  const query = duckdbQuery(job, log, asOf);
  await conn.run(`COPY (${query}) TO ${sqlString(out)} (FORMAT csv, HEADER true)`);
  if (process.argv.includes("--version")) {
    const r = await conn.runAndReadAll("SELECT version()");
    console.log(r.getRows()[0][0]);
  }
}

main().catch((e) => {
  console.error("duckdb_job:", e.message ?? e);
  process.exit(1);
});
