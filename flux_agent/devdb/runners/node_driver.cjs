'use strict';
// Flux's driver for a project's own Node migration tool (knex, typeorm, sequelize-cli,
// node-pg-migrate): migrates Flux's dev database up with the project's installed tool and
// config, the connection overridden to the dev database. Every connection the `pg` driver
// opens, whoever opens it, first asks the database for Flux's marker; on any other
// database the process stops there, before a query of the project's reaches it.
//
// The job comes in FLUX_DEVDB_JOB (JSON: tool, root, migrationsDir, params, url, marker,
// result, options); the outcome goes to the `result` file as JSON:
// {ok: true, notes} or {ok: false, kind: missing|config|marker|tool, message, module?, where?}.
// With options.capture (lint/readers/_node.py) it runs the migrations up to one file, that file
// alone recording what it sends, or a batch of files (node_capture.cjs). Each tool's part is
// node_tools.cjs (TypeORM's node_typeorm.cjs); a migration failing without a database error is
// gone past by node_tolerant.cjs.

const fs = require('fs');
const path = require('path');
const util = require('util');
const Module = require('module');
const { pathToFileURL } = require('url');

const job = JSON.parse(process.env.FLUX_DEVDB_JOB || '{}');
delete process.env.FLUX_DEVDB_JOB;

const CHECK = "SELECT current_setting('flux.dev_marker', true)";

// -- capture: what one migration sends, each query with its line (node_capture.cjs) ----------
const cap = require('./node_capture.cjs')((job.options && job.options.capture) || null);
const CAP = cap.spec;
const MARKER_EXIT = 87;
const notes = [];
// A migration failing without a database error is left out with a note (node_tolerant.cjs).
const tolerance = require('./node_tolerant.cjs')({
  migrationsDir: job.migrationsDir, rel, errorText, notes,
  // A capture records the target's error; a batch goes on past it as the database before the next file is
  // built, and delivers the target as failed, with what reading it alone would say.
  keepsError: (err) => {
    if (cap.on && cap.batch && !(err instanceof Refusal)) cap.failed(`${errorText(err)} (in ${rel(cap.target)})`, err);
    return err instanceof Refusal || (cap.on && !cap.batch);
  },
});

let finished = false;

function finish(result, code) {
  if (!finished) {
    finished = true;
    try {
      if (CAP) {
        fs.writeFileSync(CAP.out, JSON.stringify({ queries: cap.queries, errorLine: cap.errorLine,
          bookkeeping: cap.bookkeeping }));
      }
    } catch (err) {
      process.stderr.write(`flux: cannot write the capture: ${err.message}\n`);
    }
    try {
      fs.writeFileSync(job.result, JSON.stringify(result));
    } catch (err) {
      process.stderr.write(`flux: cannot write the result: ${err.message}\n`);
    }
  }
  if (code !== undefined) process.exit(code);
}

class Refusal extends Error {
  constructor(kind, message, extra) {
    super(message);
    this.kind = kind;
    Object.assign(this, extra || {});
  }
}

function fail(err) {
  if (CAP && err && err.stack && cap.errorLine === null) cap.errorLine = cap.lineIn(String(err.stack));
  if (err instanceof Refusal) {
    finish({ ok: false, kind: err.kind, message: err.message, module: err.module }, 1);
  }
  finish({ ok: false, kind: 'tool', message: inMigration((err !== undefined && errorText(err)) || lastError()) }, 1);
}

// -- what the tool says went wrong --------------------------------------------------

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const said = []; // [primary, text]: what went to console.error, an Error's message first

function errorText(err) {
  if (err instanceof Error || (err && typeof err.message === 'string')) {
    // Node's "Cannot find module 'x'" ends in the files that required it: the last line said "- <a file>";
    // the first of them is the one that asked (jellyseerr's entity files asked for winston).
    const [message, stack] = String(err.message).split(/\n\s*Require stack:/);
    // A tool that puts an inner error's stack in its message (node-pg-migrate's "Can't get migration
    // files: <stack>"): its "at ..." frames are not the news, the error line above them is.
    // The last line naming an error ("SyntaxError: Unexpected token"), with the place on the line after
    // it where there is one (node-pg-migrate's "ParseError: Unexpected token\n <file>:1:49").
    const lines = message.split('\n').map((l) => l.trim()).filter((l) => l && !/^at\s/.test(l));
    let at = -1;
    lines.forEach((l, k) => { if (/^\w*Error\b/.test(l)) at = k; });
    let text = at >= 0 ? lines[at] : lines.length ? lines[lines.length - 1] : String(err.name || 'error');
    const place = at >= 0 ? lines[at + 1] : undefined;
    if (place && /^\S+:\d+(:\d+)?$/.test(place)) text += ` (${path.relative(job.root, place) || place})`;
    const asker = (stack || '').split('\n').map((l) => l.trim().replace(/^- /, '')).find(Boolean);
    return asker ? `${text} (required by ${path.relative(job.root, asker) || asker})` : text;
  }
  return String(err);
}

function lastError() {
  const primary = said.filter(([p]) => p);
  const pick = primary.length ? primary : said;
  return pick.length ? pick[pick.length - 1][1] : '';
}

const consoleError = console.error.bind(console);
console.error = (...args) => {
  const error = args.find((a) => a instanceof Error);
  if (error) {
    said.push([true, errorText(error)]);
  } else {
    const text = util.format(...args).replace(ANSI, '');
    for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
      // (sequelize-cli's view says "ERROR: <message>": the message is what its error said)
      // (node-pg-migrate's logs the inner error's stack: "SyntaxError: ..." is the news in it)
      if (!line.startsWith('at ')) said.push([/^(error\b|[A-Z]\w*Error\b)/i.test(line), line.replace(/^ERROR:\s+/, '')]);
    }
  }
  if (said.length > 50) said.splice(0, said.length - 50);
  consoleError(...args);
};

process.on('exit', (code) => {
  if (code === 0) finish(succeeded());
  else finish({ ok: false, kind: 'tool', message: inMigration(lastError() || `the tool exited with code ${code}`) });
});

// -- the marker check on every pg connection -----------------------------------------

function where(client) {
  const host = client.host || (client.connectionParameters && client.connectionParameters.host) || '?';
  const port = client.port || (client.connectionParameters && client.connectionParameters.port) || '';
  const db = client.database || (client.connectionParameters && client.connectionParameters.database) || '?';
  return `database "${db}" at ${host}${port ? `:${port}` : ''}`;
}

function stopAt(client, detail) {
  // Synchronous: the process ends here, before pg sends the next query of the connection.
  finish({ ok: false, kind: 'marker', where: where(client), message: detail || '' }, MARKER_EXIT);
}

function guardClient(Client) {
  if (typeof Client !== 'function' || !Client.prototype || Client.prototype.__fluxGuarded) return;
  const connect = Client.prototype.connect;
  const query = Client.prototype.query;
  Client.prototype.__fluxGuarded = true;
  Client.prototype.query = function fluxRecordedQuery(config) {
    tolerance.sent += 1;
    if (cap.on) cap.record(this, config);
    return query.apply(this, arguments);
  };
  Client.prototype.connect = function fluxCheckedConnect(callback) {
    const client = this;
    const checked = new Promise((resolve, reject) => {
      connect.call(client, (err) => {
        if (err) return reject(err);
        // pg calls this before it sends any query queued meanwhile: the check goes to the front.
        const queue = Array.isArray(client._queryQueue) ? client._queryQueue
          : Object.prototype.hasOwnProperty.call(client, 'queryQueue') ? client.queryQueue : null;
        if (!Array.isArray(queue)) {
          stopAt(client, 'this version of the pg module cannot be checked');
        }
        const before = queue.length;
        query.call(client, { text: CHECK, rowMode: 'array' }, (qerr, res) => {
          const got = !qerr && res && res.rows && res.rows[0] ? res.rows[0][0] : null;
          if (got !== job.marker) stopAt(client, qerr ? errorText(qerr) : '');
          resolve(client);
        });
        if (queue.length === before + 1 && before > 0) queue.unshift(queue.pop());
      });
    });
    if (typeof callback === 'function') {
      checked.then(() => callback(null, client), (err) => callback(err));
      return undefined;
    }
    return checked;
  };
}

function refuseNative(NativeClient) {
  if (typeof NativeClient !== 'function' || !NativeClient.prototype) return;
  NativeClient.prototype.connect = function () {
    throw new Refusal('config', "the project uses pg-native, whose connections Flux cannot check; "
      + 'use the pg driver for the dev database run');
  };
}

// Every copy of pg's client the process loads, by whatever path (require, import, a nested copy).
const loadJs = Module._extensions['.js'];
Module._extensions['.js'] = function fluxLoad(module, filename) {
  loadJs.call(this, module, filename);
  if (/[\\/]pg[\\/]lib[\\/]client\.js$/.test(filename)) guardClient(module.exports);
  else if (/[\\/]pg[\\/]lib[\\/]native[\\/]client\.js$/.test(filename)) refuseNative(module.exports);
};

function succeeded() {
  return { ok: true, notes: [...notes, ...tolerance.notes()] };
}

function inMigration(message) {
  return tolerance.failedIn ? `${message} (in ${rel(tolerance.failedIn)})` : message;
}

// -- the project's modules -----------------------------------------------------------

function resolveFrom(request, pkg) {
  try {
    return require.resolve(request, { paths: [job.root] });
  } catch (err) {
    if (err && (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')) {
      throw new Refusal('missing', `${pkg || request} is not installed`, { module: pkg || request });
    }
    throw err;
  }
}

function packageFile(pkg, rel) {
  return path.join(path.dirname(resolveFrom(`${pkg}/package.json`, pkg)), rel);
}

function binOf(pkg, name) {
  const manifest = JSON.parse(fs.readFileSync(resolveFrom(`${pkg}/package.json`, pkg), 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : (manifest.bin || {})[name || pkg];
  if (!bin) throw new Refusal('missing', `${pkg} has no command-line program`, { module: pkg });
  return packageFile(pkg, bin);
}

let tsRegistered = false;
function registerTs(why) {
  if (tsRegistered) return;
  tsRegistered = true;
  // A config that registers ts-node itself (Infisical's knexfile.ts: `import "ts-node/register"`) adds a
  // second, type-checking compiler over this one's output, which failed on types the first had removed:
  // what ts-node reads from the environment (when it is first loaded: set before) makes any later
  // registration compile as this one does.
  const compilerOptions = { module: 'commonjs', moduleResolution: 'node' };
  process.env.TS_NODE_TRANSPILE_ONLY = 'true';
  process.env.TS_NODE_COMPILER_OPTIONS = JSON.stringify(compilerOptions);
  let tsNode;
  try {
    tsNode = require(resolveFrom('ts-node'));
  } catch (err) {
    if (err instanceof Refusal) {
      throw new Refusal('missing', `ts-node is not installed (it loads the TypeScript ${why})`, { module: 'ts-node' });
    }
    throw err;
  }
  // As typeorm-ts-node-commonjs and knex's CLI do: compiled to CommonJS, not type-checked.
  tsNode.register({ transpileOnly: true, compilerOptions });
  try {
    require(require.resolve('tsconfig-paths/register', { paths: [job.root] }));
  } catch (err) {
    // no path aliases to register
  }
}

const TS = /\.(c|m)?tsx?$/;

function unwrap(m) {
  return m && m.__esModule && 'default' in m ? m.default : m;
}

async function load(file) {
  const ext = path.extname(file);
  if (ext === '.json') return JSON.parse(fs.readFileSync(file, 'utf8'));
  if (TS.test(file)) {
    registerTs(path.basename(file));
    return unwrap(require(file));
  }
  const m = await import(pathToFileURL(file).href);
  return m.default !== undefined ? m.default : m;
}

async function loadConfig(file, what) {
  try {
    let config = await load(file);
    if (typeof config === 'function') config = await config();
    return await config;
  } catch (err) {
    if (err instanceof Refusal) throw err;
    throw new Refusal('config', `cannot load ${what} ${path.relative(job.root, file) || file}: ${errorText(err)}`);
  }
}

function rel(file) {
  return path.relative(job.root, file) || '.';
}


// -- main -----------------------------------------------------------------------------

const TOOLS = require('./node_tools.cjs')({
  job, cap, notes, Refusal, finish, fail, succeeded, resolveFrom, binOf, registerTs, unwrap, load, loadConfig, rel,
});

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

(async () => {
  const run = TOOLS[job.tool];
  if (!run) throw new Refusal('config', `no Node driver for ${job.tool}`);
  const exits = job.tool === 'sequelize' || job.tool === 'node-pg-migrate';
  await run();
  if (!exits) finish(succeeded(), 0);
})().catch(fail);
