'use strict';
// Flux's Node driver (node_driver.cjs), its capture half: what one migration sends, each query
// with its line in the migration file.
// job.options.capture = {target, phase, out}: phase "before" migrates up to just before the
// target file, "capture" runs the target alone and records every query the pg driver is given
// (text, the line of the target file that sent it, which connection); BEGIN/COMMIT are among
// them, so the transaction mode is what the tool did. The line comes from the stack when the
// query is sent (async frames included; ts-node's source maps give the .ts line), else from
// node-pg-migrate's steps as `pgm` recorded them, else from the chain of async resources
// leading back to one created in the target file (knex's builders are thenables: awaited,
// they run with no frame of the migration on the stack).
//
// The driver makes one capture from job.options.capture (null: nothing is captured) and turns
// `on` while the target runs; the tools' part (node_tools.cjs) adds node-pg-migrate's steps.
//
// Phase "batch" (lint/readers/_node_batch.py) runs many targets of a folder in one process, in
// the tool's order: before each, `pause` tells Flux (a JSON line on the pipe `fds[0]`) and waits
// for its answer on `fds[1]` (Flux reads the schema the file meets meanwhile); after each,
// `deliver` sends what it sent. One node start for the folder, not two for each file. A target
// failing without a database error is gone past as when the database before the next is built,
// and delivered as failed, with what reading it alone would say.

const fs = require('fs');
const asyncHooks = require('async_hooks');
const { pathToFileURL } = require('url');

module.exports = function capture(spec) {
  // bookkeeping: the tool's own tables as the project's config names them (knex's tableName), set by its part
  const cap = { spec, on: false, queries: [], errorLine: null, stepLines: [], bookkeeping: [],
    batch: !!spec && spec.phase === 'batch', target: spec && spec.target };
  let failure = null; // a batch's target failed without a database error: what reading it alone says
  const parents = new Map();
  const asyncLines = new Map();
  const clientIds = new WeakMap();
  let nextClientId = 1;
  let targets = spec && spec.target ? targetsOf(spec.target) : [];
  const [toFlux, fromFlux] = (spec && spec.fds) || [];

  function lineIn(stack) {
    for (const frame of String(stack || '').split('\n')) {
      if (!targets.some((t) => frame.includes(`${t}:`))) continue;
      const m = /:(\d+):\d+\)?\s*$/.exec(frame);
      if (m) return Number(m[1]);
    }
    return null;
  }

  function stackLine(depth) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = depth;
    try {
      return lineIn(new Error().stack);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  if (spec && (spec.phase === 'capture' || spec.phase === 'batch')) {
    asyncHooks.createHook({
      init(id, type, trigger) {
        if (!cap.on) return;
        parents.set(id, trigger);
        const line = stackLine(40);
        if (line) asyncLines.set(id, line);
      },
    }).enable();
  }

  function asyncLine() {
    for (let id of [asyncHooks.executionAsyncId(), asyncHooks.triggerAsyncId()]) {
      for (let i = 0; id && i < 100000; i += 1) {
        if (asyncLines.has(id)) return asyncLines.get(id);
        id = parents.get(id);
      }
    }
    return null;
  }

  function stepLine(text) {
    const i = cap.stepLines.findIndex(([sql]) => sql === text);
    return i < 0 ? null : cap.stepLines.splice(i, 1)[0][1];
  }

  cap.record = function record(client, config) {
    const text = typeof config === 'string' ? config : config && typeof config.text === 'string' ? config.text : null;
    if (text === null) return;
    if (!clientIds.has(client)) clientIds.set(client, nextClientId++);
    const line = stackLine(200) || stepLine(text) || asyncLine();
    cap.queries.push({ text, line, client: clientIds.get(client) });
  };
  function tell(message) {
    const line = Buffer.from(`${JSON.stringify(message)}\n`);
    for (let at = 0; at < line.length;) at += fs.writeSync(toFlux, line, at);
  }

  // Before a batch's target runs: what is recorded is its own from here on; Flux is told and answers.
  cap.pause = function pause(file) {
    targets = targetsOf(file);
    cap.queries = [];
    cap.errorLine = null;
    cap.stepLines = [];
    parents.clear();
    asyncLines.clear();
    cap.target = file;
    failure = null;
    tell({ before: file });
    const answer = Buffer.alloc(16);
    const got = fs.readSync(fromFlux, answer, 0, answer.length, null);
    if (answer.toString('utf8', 0, got).trim() !== 'go') throw new Error('Flux stopped the batch');
  };

  // What it sent before it failed is its own; what the tool sends once it has gone past the failure
  // (node-pg-migrate sends the steps up() made after it returns) the tool alone would never send.
  let sentBefore = 0;
  cap.failed = function failed(message, err) {
    failure = message;
    sentBefore = cap.queries.length;
    if (cap.errorLine === null && err && err.stack) cap.errorLine = lineIn(String(err.stack));
  };

  cap.deliver = function deliver(file) {
    const queries = failure === null ? cap.queries : cap.queries.slice(0, sentBefore);
    const sent = { queries, errorLine: cap.errorLine, bookkeeping: cap.bookkeeping };
    tell(failure === null ? { captured: file, ...sent } : { failed: file, message: failure, ...sent });
  };

  cap.lineIn = lineIn;
  cap.stackLine = stackLine;
  return cap;
};

function targetsOf(file) {
  const names = new Set([file]);
  try { names.add(fs.realpathSync(file)); } catch (err) { /* the path as given */ }
  for (const n of [...names]) names.add(pathToFileURL(n).href);
  return [...names].sort((a, b) => b.length - a.length);
}
