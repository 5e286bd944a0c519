// The workerd driver of edgegw's cloudflare test engine: one long-lived node process that loads rendered
// Workers into workerd through miniflare. It reads one JSON request per line on stdin and answers one JSON
// line per request on stdout:
//   {"id": 1, "op": "open", "script": "...", "compatibilityDate": "2024-09-23", "bindings": {"NAME": "value"}}
//     → {"id": 1, "handle": 3, "url": "http://127.0.0.1:port/"}   (the Worker's own socket, no proxy in front)
//   {"id": 2, "op": "close", "handle": 3} → {"id": 2}
// An error is {"id": n, "error": "..."}. The process ends when stdin closes, disposing every instance.
import { Miniflare } from "miniflare";
import { createInterface } from "node:readline";

const instances = new Map();
let next = 1;

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function open(req) {
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: "worker.js", contents: req.script }],
    compatibilityDate: req.compatibilityDate,
    durableObjects: { EDGEGW_STATE: "EdgegwState" },
    bindings: req.bindings || {},
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    log: undefined,
  });
  try {
    await mf.ready;
    const url = await mf.unsafeGetDirectURL();
    const handle = next++;
    instances.set(handle, mf);
    return { handle, url: url.href };
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
}

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    reply({ id: 0, error: "driver: bad request line: " + e.message });
    return;
  }
  try {
    if (req.op === "open") {
      reply(Object.assign({ id: req.id }, await open(req)));
    } else if (req.op === "close") {
      const mf = instances.get(req.handle);
      instances.delete(req.handle);
      if (mf) await mf.dispose();
      reply({ id: req.id });
    } else {
      reply({ id: req.id, error: "driver: unknown op " + req.op });
    }
  } catch (e) {
    reply({ id: req.id, error: String((e && e.stack) || e) });
  }
}

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  handle(line);
});
rl.on("close", async () => {
  for (const mf of instances.values()) await mf.dispose().catch(() => {});
  process.exit(0);
});
