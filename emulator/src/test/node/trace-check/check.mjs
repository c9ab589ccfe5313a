// Reads a Chrome trace-event JSON file the way Chrome DevTools' performance
// panel does (its trace engine, from the npm registry) and prints, as one
// JSON line, what PerfettoTest checks: the flows the engine bound to slices
// at both ends, and the depth of the slice trees it built per thread.
import fs from 'node:fs';
import * as Trace from '@paulirish/trace_engine/models/trace/trace.js';

globalThis.DOMRect ??= class { constructor(x = 0, y = 0, w = 0, h = 0) { this.x = x; this.y = y; this.width = w; this.height = h; } };

const events = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).traceEvents;
const model = Trace.TraceModel.Model.createWithAllHandlers();
await model.parse(events);
const data = model.parsedTrace().data;
let maxDepth = 0;
let entries = 0;
for (const [, proc] of data.Renderer.processes) {
  for (const [, thread] of proc.threads) {
    if (!thread.tree) continue;
    const walk = (node, depth) => {
      maxDepth = Math.max(maxDepth, depth);
      entries++;
      for (const child of node.children) walk(child, depth + 1);
    };
    for (const root of thread.tree.roots) walk(root, 1);
  }
}
const flows = data.Flows.flows;
console.log(JSON.stringify({
  flows: flows.length,
  boundAtBothEnds: flows.filter(f => f.length === 2).length,
  maxDepth,
  entries,
}));
