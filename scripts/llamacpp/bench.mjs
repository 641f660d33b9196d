// llama.cpp's speed on this machine, measured like llama-bench, for `./run.sh bench` to stand beside.
// llama.cpp is not installed here; node-llama-cpp (an npm package) ships it prebuilt, with CPU variants
// chosen at run time (on Zen 4: libggml-cpu-zen4.so, AVX-512 with VNNI and BF16). Set up once, then run:
//   (cd scripts/llamacpp && npm install)                   # about 1 GB into scripts/llamacpp/node_modules
//   node scripts/llamacpp/bench.mjs MODEL.gguf THREADS [REPS=3]
// What it is not: llama-bench itself. Node adds 65-85 us per generated token (about 10% of a tiny
// model's tg; stderr prints tg from llama.cpp's own timers too), and at 2+ threads this build starts
// and joins ggml's worker threads inside every llama_decode, which holds back tiny models' tg at 2 threads.
// Env: BENCH_PP (default 256), BENCH_TG (default 64), BENCH_FA (auto|on|off, default auto = llama-bench default),
//      BENCH_VERBOSE=1 (print llama.cpp's log), BENCH_BINARY=prebuilt|local (local = a finished
//      `npx --no node-llama-cpp source build --gpu false`, i.e. -march=native + OpenMP; default prebuilt).
// Result (tokens/s, mean ± sample stddev over REPS) goes to stdout; diagnostics go to stderr.
// Note: uses node-llama-cpp internals (context._ctx, the N-API AddonContext); written for node-llama-cpp@3.21.1.
//
// Mirrors llama-bench's test_prompt/test_gen: pp = one llama_decode of N random tokens (BOS first if the
// vocab adds BOS) from an empty KV cache, logits only for the last token; tg = N llama_decode calls of one
// random token each, logits for that token, no sampling. It talks straight to the native AddonContext
// (initBatch/addToBatch/decodeBatch = llama_batch + llama_decode + llama_synchronize on a libuv worker),
// bypassing node-llama-cpp's JS batch scheduler, thread splitter and samplers.
import path from "node:path";
import fs from "node:fs";
import { spawnSync } from "node:child_process";

// llama_decode runs on a libuv threadpool worker (N-API AsyncWorker). With the default 4 workers,
// consecutive decodes hop between threads (seen as 4 threads at ~25% each) and cost more wake-up latency,
// so re-exec with a single libuv worker unless the caller set UV_THREADPOOL_SIZE explicitly.
if (process.env.UV_THREADPOOL_SIZE == null) {
    const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)],
        { stdio: "inherit", env: { ...process.env, UV_THREADPOOL_SIZE: "1" } });
    process.exit(r.status ?? 1);
}
const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");

const [modelPath, threadsArg, repsArg] = process.argv.slice(2);
if (!modelPath || !threadsArg) {
    console.error("usage: node bench.mjs MODEL.gguf THREADS [REPS]");
    process.exit(2);
}
const threads = Number(threadsArg);
const reps = Number(repsArg ?? 3);
const nPP = Number(process.env.BENCH_PP ?? 256);
const nTG = Number(process.env.BENCH_TG ?? 64);
const faEnv = process.env.BENCH_FA ?? "auto";
const flashAttention = faEnv === "auto" ? "auto" : faEnv === "on";
const verbose = process.env.BENCH_VERBOSE === "1";

const binary = process.env.BENCH_BINARY ?? "prebuilt"; // prebuilt | local
const logLines = [];
const llama = await getLlama({
    gpu: false,
    build: "never",            // never compile here
    // a local build (npx node-llama-cpp source build --gpu false) takes precedence over the prebuilt
    // binaries when its folder name matches; a dummy cmake option makes it not match -> prebuilt is used.
    ...(binary === "prebuilt" ? { cmakeOptions: { NLC_BENCH_FORCE_PREBUILT: "1" } } : {}),
    maxThreads: 0,             // no global thread budget: context threads are used as given
    logLevel: LlamaLogLevel.info, // info needed to capture llama_perf output; printing is filtered below
    logger: (level, msg) => {
        logLines.push(msg);
        if (verbose || level === "error" || level === "fatal") process.stderr.write(`[llama.cpp ${level}] ${msg}\n`);
    }
});
if ((binary === "local") !== (llama.buildType === "localBuild"))
    throw new Error(`asked for BENCH_BINARY=${binary} but got ${llama.buildType}`);
const model = await llama.loadModel({ modelPath, gpuLayers: 0, useMmap: true });
const context = await model.createContext({
    contextSize: 512,
    batchSize: 512,
    sequences: 1,
    threads,
    flashAttention,
    performanceTracking: true,    // enables llama_perf counters (used to estimate Node overhead)
    ignoreMemorySafetyChecks: true
});
const ctx = context._ctx; // native AddonContext
if (ctx.getThreads() !== threads)
    throw new Error(`context uses ${ctx.getThreads()} threads, asked for ${threads}`);

const vocabSize = model.fileInsights._ggufFileInfo?.metadata?.tokenizer?.ggml?.tokens?.length
    ?? model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
// llama-bench uses std::rand() % n_vocab; any deterministic PRNG will do.
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % vocabSize; };

const clearKv = () => { ctx.removeTokenCellsFromSequence(0, 0, -1); };
const lastOnly = (n) => Uint32Array.of(n - 1);

async function testPrompt(n) {
    const toks = new Uint32Array(n);
    toks[0] = bos ?? rnd();
    for (let i = 1; i < n; i++) toks[i] = rnd();
    ctx.initBatch(n);
    ctx.addToBatch(0, 0, toks, lastOnly(n));
    await ctx.decodeBatch();
}
const one = new Uint32Array(1);
const logit0 = Uint32Array.of(0);
async function testGen(n) {
    let tok = bos ?? rnd();
    for (let i = 0; i < n; i++) {
        one[0] = tok;
        ctx.initBatch(1);
        ctx.addToBatch(0, i, one, logit0);
        await ctx.decodeBatch();
        tok = rnd();
    }
}

// --- per-thread CPU accounting from /proc (to check the thread count is honoured) ---
const clkTck = 100;
function threadTimes() {
    const m = new Map();
    for (const tid of fs.readdirSync("/proc/self/task")) {
        try {
            const s = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
            const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
            const comm = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
            m.set(tid, { comm, t: (Number(rest[11]) + Number(rest[12])) / clkTck });
        } catch { }
    }
    return m;
}

function procCpuS() { // whole process incl. already-exited threads (ggml's per-decode threadpool threads)
    const s = fs.readFileSync("/proc/self/stat", "utf8");
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / clkTck;
}
const now = () => process.hrtime.bigint();
const ms = (a, b) => Number(b - a) / 1e6;
const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
const sd = (a) => { const m = mean(a); return a.length > 1 ? Math.sqrt(a.reduce((x, y) => x + (y - m) ** 2, 0) / (a.length - 1)) : 0; };

// warm-up (like llama-bench: one full prompt run and one single-token gen)
// BENCH_PP=0 or BENCH_TG=0 leaves that test out, as llama-bench's -p 0 / -n 0 do.
if (nPP > 0) { clearKv(); await testPrompt(nPP); }
clearKv(); await testGen(1);

const perfBefore = await perfEval();
const ppTs = [], tgTs = [];
let tgWallMs = 0;
const tt0 = threadTimes(), pc0 = procCpuS(), w0 = now();
for (let r = 0; r < reps && nPP > 0; r++) {
    clearKv();
    let t0 = now(); await testPrompt(nPP); let t1 = now();
    ppTs.push(nPP / (ms(t0, t1) / 1000));
}
for (let r = 0; r < reps && nTG > 0; r++) {
    clearKv();
    let t0 = now(); await testGen(nTG); let t1 = now();
    tgWallMs += ms(t0, t1);
    tgTs.push(nTG / (ms(t0, t1) / 1000));
}
const w1 = now(), tt1 = threadTimes(), pc1 = procCpuS();
const cpuLib = [...new Set(fs.readFileSync("/proc/self/maps", "utf8").split("\n")
    .map((l) => /libggml-cpu-[\w.]+\.so/.exec(l)?.[0]).filter(Boolean))].join(",");
const wallS = ms(w0, w1) / 1000;

// threads that were busy during the measured part
const busy = [];
for (const [tid, { comm, t }] of tt1) {
    const d = t - (tt0.get(tid)?.t ?? 0);
    if (d / wallS > 0.05) busy.push(`${comm}#${tid}${Number(tid) === process.pid ? "(main JS)" : ""}:${Math.round(100 * d / wallS)}%`);
}

// llama_perf counters: eval time of single-token decodes as measured inside llama.cpp
// (llama_decode start -> llama_synchronize end), cumulative; take the delta over the measured part.
async function perfEval() {
    logLines.length = 0;
    ctx.printTimings();
    await new Promise((r) => setTimeout(r, 20));
    const m = /\s eval time =\s*([\d.]+) ms \/\s*(\d+) runs/.exec(logLines.join(""));
    return m ? { ms: Number(m[1]), runs: Number(m[2]) } : null;
}
const perfAfter = await perfEval();
if (process.env.BENCH_DEBUG) console.error(JSON.stringify({ perfBefore, perfAfter, log: logLines.join("").slice(0, 600) }));
let overhead = "n/a (could not parse llama_perf output)";
if (perfBefore && perfAfter && perfAfter.runs > perfBefore.runs) {
    // (llama_perf's run count can lag the number of single-token decodes by one; use its own ms/runs)
    const perTokInside = (perfAfter.ms - perfBefore.ms) / (perfAfter.runs - perfBefore.runs);
    const perTokWall = tgWallMs / (reps * nTG);
    overhead = `${(1000 * (perTokWall - perTokInside)).toFixed(1)} us/token (${(100 * (perTokWall - perTokInside) / perTokWall).toFixed(1)}% of tg wall time; ` +
        `tg from llama.cpp-internal time alone: ${(1000 / perTokInside).toFixed(0)} t/s)`;
}

const fmt = (a) => a.length ? `${mean(a).toFixed(2)} ± ${sd(a).toFixed(2)}` : "—";
const name = path.basename(modelPath).replace(/\.gguf$/, "");
console.log(`| model | threads | pp${nPP} | tg${nTG} |`);
console.log(`|---|---|---|---|`);
console.log(`| ${name} | ${threads} | ${fmt(ppTs)} | ${fmt(tgTs)} |`);
console.error(`# node-llama-cpp prebuilt, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}, reps=${reps}, n_vocab=${vocabSize}, bos=${bos}, ctx=512, batch=ubatch=512, fa=${faEnv}, context threads=${ctx.getThreads()}`);
console.error(`# binary: ${llama.buildType}; llama.cpp system info: ${llama.systemInfo}`);
console.error(`# CPU backend variant mapped: ${cpuLib}`);
console.error(`# process CPU during measurement: ${(100 * (pc1 - pc0) / wallS).toFixed(0)}% of one core (all threads, incl. exited ones)`);
console.error(`# long-lived threads busy >5% during measurement (CPU% of wall): ${busy.join(" ")}` +
    (threads > 1 ? " [ggml's extra worker threads are created and joined inside every llama_decode (no attached threadpool, no OpenMP), so they are not listed]" : ""));
console.error(`# Node/N-API overhead in tg (wall - llama.cpp internal eval time): ${overhead}`);

await context.dispose();
await model.dispose();
await llama.dispose();
