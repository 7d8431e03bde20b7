// A seeded, deterministic event log for the peer comparison (bench/compare).
//
//   node gen_log.mjs --events N --seed S --out FILE.csv [--members M] [--days D]
//                    [--columns full|issue]
//
// --columns full (the default) writes the nine columns of the bench job:
//   event_id,time,member_id,type,value,channel,group_id,attr.topic,attr.title
// --columns issue writes the first five only (the issue #4 job reads no
// more): event_id,time,member_id,type,value. Both draw the same random
// numbers in the same order and leave out cells only, so for the same
// arguments they describe the same events, row for row.
//
// Why not `leadscore gen`: its log carries the faults of real exports (bad
// times, RFC 3339 times with offsets, rows with an extra column, "nan"
// values, rows too late for a 7-day lateness). leadscore rejects those by
// SEMANTICS.md, and mimicking each rejection in SQL would measure our SQL
// tricks, not the engines. This log is clean but otherwise realistic:
//   * rows in arrival order, not time order (most a few minutes after their
//     time, some hours, some days);
//   * ~2% exported twice (same event_id, member, time and content, later);
//   * skewed activity: a few members have thousands of events, most a few;
//   * repeated one-off events (group.join, member.intro, product.register
//     several times for some members), so `once` rules matter;
//   * event types no rule reads (message.react, live.watch, order.paid);
//   * quoted CSV cells with commas, doubled quotes, UTF-8 and a few line
//     breaks (attr.title, in --columns full only), and empty cells.
// Times are integer milliseconds, every cell parses, every member_id is set:
// each of the three engines must accept every row.
//
// Determinism: xoshiro128** over 32-bit integer arithmetic (Math.imul), seeded
// by splitmix32; no Math.random, no floating point in the draws that matter.
import fs from "node:fs";

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else out[a.slice(2)] = argv[++i];
  }
  return out;
}

// splitmix32 -> xoshiro128**
function makeRng(seed) {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const sm = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = sm(), b = sm(), c = sm(), d = sm();
  const next = () => {
    const r = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t;
    d = ((d << 11) | (d >>> 21)) >>> 0;
    a >>>= 0; b >>>= 0; c >>>= 0;
    return r;
  };
  // Uniform in [0, 2^53): two draws.
  const big = () => (next() >>> 11) * 4294967296 + next();
  // Uniform integer in [0, n), 0 < n <= 2^53, without modulo bias.
  const below = (n) => {
    if (n <= 4294967296) {
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const x = next();
        if (x < limit) return x % n;
      }
    }
    const limit = 9007199254740992 - (9007199254740992 % n);
    for (;;) {
      const x = big();
      if (x < limit) return x % n;
    }
  };
  return { next, below, big };
}

// Event types and their weights (per mille); the bench model reads most.
const TYPES = [
  ["content.read", 230], ["message.post", 200], ["message.react", 110],
  ["content.download", 80], ["live.watch", 50], ["course.attend", 50],
  ["quiz.answer", 40], ["poster.share", 30], ["group.join", 30],
  ["member.intro", 20], ["invite.accepted", 20], ["event.signup", 20],
  ["pricing.ask", 20], ["event.attend", 15], ["demo.request", 10],
  ["product.register", 10], ["spam.report", 5], ["order.paid", 10],
];
const TYPE_TOTAL = TYPES.reduce((s, [, w]) => s + w, 0);
const CHANNELS = ["wechat_group", "wechat_group", "wechat_group", "wecom",
                  "forum", "official_account", "mini_program"];
const TOPICS = ["", "tax", "payroll", "invoicing", "inventory", "bookkeeping", "audit"];
const TITLES = [
  "", "", "",
  "VAT changes in 2024, explained",
  'Payroll checklist for "small" firms',
  "年终结账指南",
  "Invoice templates (Excel)",
  "电子发票常见问题, 一次讲清",
  "How we closed the books in 3 days",
];
const TITLE_WITH_BREAK = "Month-end close:\nthe checklist";
// The header of each --columns choice.
const HEADERS = {
  full: "event_id,time,member_id,type,value,channel,group_id,attr.topic,attr.title\n",
  issue: "event_id,time,member_id,type,value\n",
};

function csvCell(s) {
  if (!/[",\r\n]/.test(s)) return s;
  return '"' + s.replace(/"/g, '""') + '"';
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const events = Number(args.events ?? 1000000);
  const seed = Number(args.seed ?? 1);
  const members = Number(args.members ?? Math.max(1, Math.floor(events / 20)));
  const days = Number(args.days ?? 180);
  const columns = args.columns ?? "full";
  const outPath = args.out;
  if (!outPath || !Number.isInteger(events) || events < 0 ||
      !Number.isInteger(members) || members < 1 || !HEADERS[columns]) {
    console.error("usage: node gen_log.mjs --events N --seed S --out FILE.csv " +
                  "[--members M] [--days D] [--columns full|issue]");
    process.exit(1);
  }
  const full = columns === "full";
  const rng = makeRng(seed);
  const start = 1704067200000;  // 2024-01-01T00:00:00Z
  const span = days * 86400000;

  // Member activity weights: a heavy tail (a few very active members).
  // Cumulative table over members; a member is drawn by binary search.
  const cum = new Float64Array(members);
  let total = 0;
  for (let m = 0; m < members; m++) {
    const u = (rng.below(1000000) + 1) / 1000000;  // (0, 1]
    total += Math.min(200, 1 / (u * u * u) ** 0.25);  // Pareto-like, capped
    cum[m] = total;
  }
  const pickMember = (x) => {
    let lo = 0, hi = members - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] < x) lo = mid + 1; else hi = mid;
    }
    return lo;
  };
  const width = Math.max(6, String(members).length);
  const memberId = (m) => "m" + String(m + 1).padStart(width, "0");
  const typeCum = [];
  { let s = 0; for (const [t, w] of TYPES) { s += w; typeCum.push([s, t]); } }
  const pickType = () => {
    const x = rng.below(TYPE_TOTAL);
    for (const [c, t] of typeCum) if (x < c) return t;
    return TYPES[TYPES.length - 1][0];
  };

  // Originals: ~2% of the rows are re-exported copies.
  const dups = Math.floor(events / 50);
  const originals = events - dups;
  // Each row: arrival (sort key), then the text of the line.
  const arrival = new Float64Array(events);
  const lines = new Array(events);
  for (let i = 0; i < originals; i++) {
    const m = pickMember(rng.big() / 9007199254740992 * total);
    const time = start + rng.below(span);
    const type = pickType();
    const kind = rng.below(1000);
    const delay = kind < 950 ? rng.below(300000)
                : kind < 990 ? (1 + rng.below(720)) * 60000
                             : (1 + rng.below(20)) * 86400000;
    arrival[i] = time + delay;
    const topic = TOPICS[rng.below(TOPICS.length)];
    let title = TITLES[rng.below(TITLES.length)];
    if (rng.below(2000) === 0) title = TITLE_WITH_BREAK;
    let value = "";
    if (type === "order.paid") value = String((98 + rng.below(400)) * 10);
    else if (type === "course.attend") value = String(5 + rng.below(86));
    const id = "e" + String(i + 1).padStart(10, "0");
    // The channel is drawn in both modes, at the same point, so that the
    // draws after it (and the events they make) do not depend on --columns.
    const channel = CHANNELS[rng.below(CHANNELS.length)];
    // Ids, times, types and values never hold a comma, quote or line break:
    // only the title needs csvCell.
    const head = id + "," + time + "," + memberId(m) + "," + type + "," + value;
    lines[i] = full
      ? head + "," + channel + "," + "g" + String(m % 97).padStart(2, "0") + "," +
        topic + "," + csvCell(title) + "\n"
      : head + "\n";
  }
  for (let i = originals; i < events; i++) {
    const src = originals > 0 ? rng.below(originals) : 0;
    arrival[i] = arrival[src] + (1 + rng.below(72)) * 3600000;
    lines[i] = lines[src];
  }
  const order = new Uint32Array(events);
  for (let i = 0; i < events; i++) order[i] = i;
  order.sort((a, b) => (arrival[a] - arrival[b]) || (a - b));

  const fd = fs.openSync(outPath + ".tmp", "w");
  let buf = HEADERS[columns];
  for (let k = 0; k < events; k++) {
    buf += lines[order[k]];
    if (buf.length > (1 << 20)) {
      fs.writeSync(fd, buf);
      buf = "";
    }
  }
  fs.writeSync(fd, buf);
  fs.closeSync(fd);
  fs.renameSync(outPath + ".tmp", outPath);
  // The as-of time every engine scores at: the end of the period.
  // (columns is named only when it is not the default: the full log's
  // output is what it was before --columns existed.)
  console.log(JSON.stringify({ events, members, seed, days, start, as_of: start + span,
                               ...(full ? {} : { columns }) }));
}

main();
