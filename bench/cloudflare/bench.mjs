// Runs the Cloudflare benchmark Worker (built by bench/cloudflare/main.go) in workerd through miniflare and
// prints medians and ratios. Usage: node bench/cloudflare/bench.mjs WORKER.js [ROUNDS]
//
// Method. workerd freezes Date.now() and performance.now() inside a request (they advance only on I/O), so
// the Worker reads no clock: each request runs N iterations and node takes its wall-clock time around
// dispatchFetch. One sample is (time with 2N iterations − time with N) / N, which cancels the fixed cost of a
// request (miniflare's proxy, the socket, the URL parse). N is calibrated once per case so the N-iteration
// request takes about 40 ms, after warm-up requests that let V8 optimize the loop. Every round times every
// case once, in the same order, so the cases share the machine's noise; the figure is the median of the
// rounds, and each ratio divides two medians of the same run.
import { createRequire } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, "../../render/cloudflare/workerd/package.json"));
const { Miniflare } = await import(pathToFileURL(require.resolve("miniflare")).href);

const script = readFileSync(process.argv[2], "utf8");
const ROUNDS = Number(process.argv[3] || "7");
const mf = new Miniflare({ modules: true, script, compatibilityDate: "2024-09-23" });
await mf.ready;

async function get(p) {
  const r = await mf.dispatchFetch("http://bench.local" + p);
  const text = await r.text();
  if (r.status !== 200) throw new Error(p + ": " + r.status + " " + text);
  return text;
}

// BENCH_CLOCK=cpu times each request by the CPU time workerd's threads spent on it (Linux: the first field of
// /proc/PID/task/TID/schedstat) instead of wall-clock time, so that on a machine shared with other work the
// time the process waits for a core is not counted.
const cpuClock = process.env.BENCH_CLOCK === "cpu" ? workerdCPU() : null;

function workerdCPU() {
  const pids = execFileSync("pgrep", ["-P", String(process.pid), "workerd"]).toString().trim().split("\n");
  if (pids.length !== 1) throw new Error("BENCH_CLOCK=cpu: want one workerd child process, found " + pids.length);
  const dir = "/proc/" + pids[0] + "/task";
  return () => {
    let ns = 0;
    for (const tid of readdirSync(dir)) {
      try {
        ns += Number(readFileSync(dir + "/" + tid + "/schedstat", "utf8").split(" ")[0]);
      } catch {
        // a thread that ended meanwhile
      }
    }
    return ns;
  };
}

async function timed(p) {
  const t0 = cpuClock ? cpuClock() : Number(process.hrtime.bigint());
  const text = await get(p);
  const t1 = cpuClock ? cpuClock() : Number(process.hrtime.bigint());
  return { ms: (t1 - t0) / 1e6, text };
}

async function calibrate(base) {
  let n = 64;
  for (let i = 0; i < 3; i++) await get(`${base}&n=${n}`);
  for (;;) {
    const { ms } = await timed(`${base}&n=${n}`);
    if (ms >= 40 || n >= 1 << 26) return n;
    n *= ms < 4 ? 8 : 2;
  }
}

async function sample(c) {
  const a = await timed(`${c.base}&n=${c.n}`);
  const b = await timed(`${c.base}&n=${2 * c.n}`);
  return ((b.ms - a.ms) * 1e6) / c.n; // ns per iteration
}

function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function run(cases) {
  for (const c of cases) {
    c.n = await calibrate(c.base);
    c.samples = [];
  }
  for (let r = 0; r < ROUNDS; r++) for (const c of cases) c.samples.push(await sample(c));
  for (const c of cases) c.median = median(c.samples);
}

const fmt = (ns) => (ns >= 1e6 ? (ns / 1e6).toFixed(2) + " ms" : ns >= 1e3 ? (ns / 1e3).toFixed(2) + " µs" : ns.toFixed(0) + " ns");
const GEN = ["gen-auto", "gen-regex", "gen-trie"];
const HONO = ["hono-regexp", "hono-smart", "hono-trie"];
const TABLES = ["api-10", "api-100", "api-1000", "disjoint-10", "disjoint-100", "disjoint-1000"];
const GOALS = { 10: 1.1, 100: 1.0, 1000: 0.5 };
let failed = 0;

console.log(`workerd (miniflare ${require("miniflare/package.json").version}), ${ROUNDS} rounds, medians of ${cpuClock ? "workerd's CPU time" : "wall-clock time"}; ratios against the best Hono router of the same run`);
console.log("\n== Router: time per match (1,000 request paths per table, 10 % misses; tables half exact, 30 % template, 20 % prefix;\n   api-N: exact paths beside templates, which Hono's RegExpRouter refuses; disjoint-N: exact paths under /pages)");
for (const table of TABLES) {
  const size = Number(table.split("-")[1]);
  const check = JSON.parse(await get(`/check?table=${table}`));
  console.log(`\n${table} (${size} routes): generated matcher ${check.strategy.auto}, ${check.sourceBytes} bytes; agreement with the reference gateway ${check.requests - check.disagree}/${check.requests} (3 strategies × 1,000 paths, ${check.misses} misses); Hono SmartRouter picks ${check.smartRouter}`);
  if (check.disagree !== 0) failed++;
  const cases = [...GEN, ...HONO].map((impl) => ({ impl, base: `/match?table=${table}&impl=${impl}` }));
  const usable = [];
  for (const c of cases) {
    const r = await mf.dispatchFetch(`http://bench.local${c.base}&n=1`);
    const text = await r.text();
    if (r.status === 501) console.log(`  ${c.impl.padEnd(12)} ${text}`);
    else usable.push(c);
  }
  await run(usable);
  const best = Math.min(...usable.filter((c) => HONO.includes(c.impl)).map((c) => c.median));
  for (const c of usable) {
    const ratio = c.median / best;
    let note = "";
    if (c.impl === "gen-auto") {
      const ok = ratio <= GOALS[size];
      if (!ok) failed++;
      note = `  goal ≤ ${GOALS[size]}× best Hono: ${ok ? "met" : "NOT met"}`;
    }
    console.log(`  ${c.impl.padEnd(12)} ${fmt(c.median).padStart(10)}/match  ${ratio.toFixed(2)}×${note}`);
  }
}

console.log("\n== Matcher init at 1,000 routes (a fresh matcher or router with every route, and its first match)");
{
  const cases = ["gen-auto", ...HONO].map((impl) => ({ impl, base: `/init?table=disjoint-1000&impl=${impl}` }));
  // The first init of each in a fresh isolate also compiles its code: timed once, from node, minus the
  // median time of the same request once warm.
  const cold = {};
  for (const c of cases) cold[c.impl] = (await timed(`${c.base}&n=1`)).ms;
  await run(cases);
  for (const c of cases) {
    const warm = [];
    for (let i = 0; i < 5; i++) warm.push((await timed(`${c.base}&n=0`)).ms);
    const first = cold[c.impl] - median(warm);
    const ok = c.median <= 20e6;
    if (c.impl === "gen-auto" && !ok) failed++;
    console.log(`  ${c.impl.padEnd(12)} ${fmt(c.median).padStart(10)}/init (first, compile included: ${first.toFixed(2)} ms)${c.impl === "gen-auto" ? `  goal ≤ 20 ms: ${ok ? "met" : "NOT met"}` : ""}`);
  }
}

console.log("\n== JWT: full verification (the Worker's verify.js: bearer, parse, key lookup, signature, claims) vs crypto.subtle.verify alone");
for (const alg of ["HS256", "RS256", "ES256", "EdDSA"]) {
  const cases = ["sig", "full"].map((mode) => ({ mode, base: `/jwt?alg=${alg}&mode=${mode}` }));
  await run(cases);
  const warm = JSON.parse(await get(`/jwt?alg=${alg}&mode=full&n=1000`));
  const [sig, full] = cases;
  const extra = (full.median - sig.median) / 1e3;
  const ratio = full.median / sig.median;
  const ok = alg === "HS256" ? extra <= 3 : ratio <= 1.3;
  if (!ok || warm.imports !== 0 || warm.ok !== 1000) failed++;
  const goal = alg === "HS256" ? `goal ≤ +3 µs: ${ok ? "met" : "NOT met"}` : `goal ≤ 1.3×: ${ok ? "met" : "NOT met"}`;
  console.log(`  ${alg.padEnd(6)} signature only ${fmt(sig.median).padStart(9)}  full ${fmt(full.median).padStart(9)}  +${extra.toFixed(2)} µs  ${ratio.toFixed(2)}×  ${goal}; key imports in 1,000 warm verifications: ${warm.imports}`);
}

await mf.dispose();
if (failed > 0) {
  console.log(`\n${failed} goal(s) not met or checks failed`);
  process.exitCode = 1;
}
