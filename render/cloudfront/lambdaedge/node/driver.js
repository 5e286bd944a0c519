// The test driver: loads the rendered handler once (one Lambda@Edge container) and runs it on the events
// read from stdin, one JSON line each ({id, event}), writing {id, result} or {id, error} per line.
"use strict";
const handler = require(process.argv[2]).handler;
const rl = require("readline").createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const m = JSON.parse(line);
  Promise.resolve()
    .then(() => handler(m.event))
    .then(
      (result) => process.stdout.write(JSON.stringify({ id: m.id, result }) + "\n"),
      (e) => process.stdout.write(JSON.stringify({ id: m.id, error: String((e && e.stack) || e) }) + "\n"),
    );
});
