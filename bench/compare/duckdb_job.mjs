// The bench job in DuckDB (through @duckdb/node-api, pinned in package.json):
//   node duckdb_job.mjs --log LOG.csv --as-of T --threads N --out OUT.csv
// One query (job.sql.in) reads the CSV with read_csv and writes one line per
// member to OUT.csv with COPY. The harness times this whole process: start,
// load, parse, query, write.
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { duckdbQuery, sqlString } from "./sql.mjs";

function arg(name) {
  const i = process.argv.indexOf("--" + name);
  if (i < 0 || i + 1 >= process.argv.length) {
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
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(threads),
  });
  const conn = await instance.connect();
  const query = duckdbQuery(log, asOf);
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
