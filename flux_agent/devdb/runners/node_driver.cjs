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
// With options.capture (lint/readers/_node.py) it runs the migrations up to one file, or that
// file alone recording what it sends (see "capture" below).

const fs = require('fs');
const path = require('path');
const util = require('util');
const Module = require('module');
const { pathToFileURL } = require('url');

const job = JSON.parse(process.env.FLUX_DEVDB_JOB || '{}');
delete process.env.FLUX_DEVDB_JOB;

const CHECK = "SELECT current_setting('flux.dev_marker', true)";

// -- capture: what one migration sends, each query with its line in the migration file ------
// job.options.capture = {target, phase, out}: phase "before" migrates up to just before the
// target file, "capture" runs the target alone and records every query the pg driver is given
// (text, the line of the target file that sent it, which connection); BEGIN/COMMIT are among
// them, so the transaction mode is what the tool did. The line comes from the stack when the
// query is sent (async frames included; ts-node's source maps give the .ts line), else from
// node-pg-migrate's steps as `pgm` recorded them, else from the chain of async resources
// leading back to one created in the target file (knex's builders are thenables: awaited,
// they run with no frame of the migration on the stack).
const CAP = (job.options && job.options.capture) || null;
const captured = [];
let capturedError = null;
let capturing = false;
const asyncHooks = require('async_hooks');
const parents = new Map();
const asyncLines = new Map();
const stepLines = [];
const clientIds = new WeakMap();
let nextClientId = 1;
const TARGETS = CAP ? targetsOf(CAP.target) : [];

function targetsOf(file) {
  const names = new Set([file]);
  try { names.add(fs.realpathSync(file)); } catch (err) { /* the path as given */ }
  for (const n of [...names]) names.add(pathToFileURL(n).href);
  return [...names].sort((a, b) => b.length - a.length);
}

function lineIn(stack) {
  for (const frame of String(stack || '').split('\n')) {
    if (!TARGETS.some((t) => frame.includes(`${t}:`))) continue;
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

if (CAP && CAP.phase === 'capture') {
  asyncHooks.createHook({
    init(id, type, trigger) {
      if (!capturing) return;
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
  const i = stepLines.findIndex(([sql]) => sql === text);
  return i < 0 ? null : stepLines.splice(i, 1)[0][1];
}

function record(client, config) {
  const text = typeof config === 'string' ? config : config && typeof config.text === 'string' ? config.text : null;
  if (text === null) return;
  if (!clientIds.has(client)) clientIds.set(client, nextClientId++);
  const line = stackLine(200) || stepLine(text) || asyncLine();
  captured.push({ text, line, client: clientIds.get(client) });
}
const MARKER_EXIT = 87;
const notes = [];
// A migration failing without a database error is left out with a note (node_tolerant.cjs).
const tolerance = require('./node_tolerant.cjs')({
  migrationsDir: job.migrationsDir, rel, errorText, notes,
  keepsError: (err) => err instanceof Refusal || capturing, // a capture records the target's error
});

let finished = false;

function finish(result, code) {
  if (!finished) {
    finished = true;
    try {
      if (CAP) fs.writeFileSync(CAP.out, JSON.stringify({ queries: captured, errorLine: capturedError }));
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
  if (CAP && err && err.stack && capturedError === null) capturedError = lineIn(String(err.stack));
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
    const lines = String(err.message).split('\n').map((l) => l.trim()).filter(Boolean);
    return lines.length ? lines[lines.length - 1] : String(err.name || 'error');
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
      if (!line.startsWith('at ')) said.push([/^error\b/i.test(line), line]);
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
    if (capturing) record(this, config);
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
  tsNode.register({ transpileOnly: true, compilerOptions: { module: 'commonjs', moduleResolution: 'node' } });
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

const P = job.params || {};

// -- knex -----------------------------------------------------------------------------

const PG_CLIENTS = ['pg', 'postgres', 'postgresql', 'pgnative'];

async function knex() {
  const knexPath = resolveFrom('knex');
  resolveFrom('pg');
  const opts = job.options || {};
  if (opts.ts) registerTs('migrations');
  const knexLib = unwrap(require(knexPath));
  let all = await loadConfig(opts.config, 'the knexfile');
  if (!all || typeof all !== 'object') throw new Refusal('config', `the knexfile ${rel(opts.config)} exports no settings`);
  const env = process.env.NODE_ENV || 'development';
  let config = all[env] || all;
  if (!config.client && !config.dialect) {
    const named = Object.keys(all).filter((k) => all[k] && typeof all[k] === 'object' && (all[k].client || all[k].dialect));
    if (!named.length) throw new Refusal('config', `the knexfile ${rel(opts.config)} names no client`);
    config = all[named[0]];
    notes.push(`the knexfile has no ${env} settings: its ${named[0]} settings were used, on the dev database`);
  }
  const client = config.client || config.dialect;
  if (typeof client === 'string' && !PG_CLIENTS.includes(client)) {
    throw new Refusal('config', `the knexfile's client is '${client}', not PostgreSQL (where it comes from an `
      + 'environment variable such as DB_CLIENT, set that to pg where Flux runs)');
  }
  const migrations = { ...(config.migrations || {}) };
  if (!migrations.migrationSource && !Array.isArray(migrations.directory)) migrations.directory = job.migrationsDir;
  const settings = {
    ...config,
    client: typeof client === 'string' ? 'pg' : client,
    connection: { host: P.host, port: P.port, user: P.user, password: P.password, database: P.database },
    pool: { ...(config.pool || {}), min: 0 },
    migrations,
  };
  delete settings.dialect;
  const db = knexLib(settings);
  try {
    if (CAP) await knexCapture(db);
    else await db.migrate.latest();
  } finally {
    await db.destroy();
  }
}

async function knexCapture(db) {
  const [, pending] = await db.migrate.list();
  const source = db.migrate.config.migrationSource;
  const names = pending.map((m) => source.getMigrationName(m));
  const target = path.basename(CAP.target);
  const at = names.indexOf(target);
  if (at < 0) throw new Refusal('config', `knex does not list ${target} among the migrations it would run`);
  if (CAP.phase === 'before') {
    for (const name of names.slice(0, at)) await db.migrate.up({ name });
    return;
  }
  capturing = true;
  await db.migrate.up({ name: target });
  capturing = false;
}

// -- typeorm --------------------------------------------------------------------------

function isDataSource(value, typeorm) {
  return !!value && typeof value === 'object'
    && (value['@instanceof'] === Symbol.for('DataSource') || (typeorm.DataSource && value instanceof typeorm.DataSource));
}

async function findDataSource(file, typeorm) {
  const loaded = await loadConfig(file, 'the TypeORM data source');
  if (isDataSource(loaded, typeorm)) return loaded;
  const found = [];
  if (loaded && typeof loaded === 'object') {
    for (const key of Object.keys(loaded)) {
      const value = await loaded[key];
      if (isDataSource(value, typeorm) && !found.includes(value)) found.push(value);
    }
  }
  if (found.length === 1) return found[0];
  if (found.length > 1) throw new Refusal('config', `${rel(file)} exports ${found.length} DataSources; Flux needs one`);
  // ormconfig's plain options (TypeORM before 0.3): one object, or the default of a list.
  let options = loaded;
  if (Array.isArray(options)) options = options.find((o) => !o.name || o.name === 'default') || options[0];
  if (options && typeof options === 'object' && options.type) return new typeorm.DataSource(options);
  throw new Refusal('config', `${rel(file)} exports no TypeORM DataSource`);
}

async function typeorm() {
  const opts = job.options || {};
  const typeormPath = resolveFrom('typeorm');
  resolveFrom('pg');
  if (opts.ts) registerTs('migrations');
  const typeormLib = require(typeormPath);
  const ds = await findDataSource(opts.config, typeormLib);
  const o = ds.options;
  const synchronize = o.synchronize;
  const globs = JSON.stringify(o.migrations || []);
  if (o.type !== 'postgres') throw new Refusal('config', `the TypeORM data source's type is '${o.type}', not postgres`);
  const extra = o.extra ? { ...o.extra } : undefined;
  if (extra) for (const k of ['connectionString', 'host', 'port', 'user', 'password', 'database', 'ssl']) delete extra[k];
  ds.setOptions({
    url: undefined, host: P.host, port: P.port, username: P.user, password: P.password, database: P.database,
    replication: undefined, ssl: false, extra, subscribers: [], synchronize: false, migrationsRun: false,
    dropSchema: false, logging: ['error'],
  });
  if (ds.driver) ds.driver.isReplicated = false;
  const mode = o.migrationsTransactionMode === 'none' ? 'none' : 'each';
  await ds.initialize();
  try {
    if ((!ds.migrations || !ds.migrations.length) && opts.files > 0) {
      // Its migrations globs match nothing (compiled output not built?): the migrations folder Flux reads.
      await ds.destroy();
      ds.setOptions({ migrations: [`${job.migrationsDir.split(path.sep).join('/')}/*.{ts,js,cjs,mjs}`] });
      await ds.initialize();
      notes.push(`the data source's migrations ${globs} match no file: ran those in ${rel(job.migrationsDir)}`);
    } else if (ds.migrations && ds.migrations.length && !opts.files) {
      notes.push(`the data source's migrations ${globs} are not in ${rel(job.migrationsDir)}, the folder Flux reads `
        + 'and writes: set migrations_dir in .flux.yaml (until then Flux does not see them change)');
    }
    if (CAP) {
      await typeormCapture(ds, typeormLib, mode);
      return;
    }
    const ran = await ds.runMigrations({ transaction: mode });
    if (!ran.length && synchronize) {
      notes.push('no TypeORM migration ran and the data source synchronizes its entities: Flux reads the '
        + 'schema the migrations make, not the entities');
    }
  } finally {
    await ds.destroy();
  }
}

async function typeormCapture(ds, typeormLib, mode) {
  const exported = await load(CAP.target);
  const classes = new Set();
  for (const value of [exported, ...Object.values(exported && typeof exported === 'object' ? exported : {})]) {
    if (typeof value === 'function') classes.add(value);
  }
  const isTarget = (instance) => !!instance && [...classes].some((c) => instance.constructor === c
    || (c.name && instance.constructor && instance.constructor.name === c.name));
  if (!(ds.migrations || []).some(isTarget)) {
    // The data source's globs miss the file: the file's own folder, as the build does.
    await ds.destroy();
    ds.setOptions({ migrations: [`${job.migrationsDir.split(path.sep).join('/')}/*.{ts,js,cjs,mjs}`] });
    await ds.initialize();
  }
  const all = new typeormLib.MigrationExecutor(ds).getMigrations();
  const at = all.findIndex((m) => isTarget(m.instance));
  if (at < 0) throw new Refusal('config', `${path.basename(CAP.target)} exports no TypeORM migration class the data source runs`);
  const keep = all.slice(0, CAP.phase === 'before' ? at : at + 1).map((m) => m.instance);
  Object.defineProperty(ds, 'migrations', { value: keep, writable: true, configurable: true });
  if (CAP.phase === 'before' && !keep.length) return;
  capturing = CAP.phase === 'capture';
  await ds.runMigrations({ transaction: mode });
  capturing = false;
}

// -- sequelize (sequelize-cli db:migrate, in this process) ----------------------------

function overrideSequelize(config) {
  const dialect = config.dialect || config.protocol;
  if (dialect && !['postgres', 'postgresql'].includes(dialect)) {
    fail(new Refusal('config', `the sequelize config's dialect is '${dialect}', not postgres`));
  }
  for (const k of ['url', 'use_env_variable', 'replication', 'protocol']) delete config[k];
  Object.assign(config, {
    dialect: 'postgres', host: P.host, port: P.port, username: P.user, password: P.password, database: P.database,
    native: false, logging: false,
  });
  if (config.dialectOptions) {
    config.dialectOptions = { ...config.dialectOptions };
    for (const k of ['ssl', 'connectionString', 'host', 'port', 'user', 'password', 'database']) delete config.dialectOptions[k];
  }
}

async function sequelize() {
  const opts = job.options || {};
  const cli = binOf('sequelize-cli', 'sequelize');
  resolveFrom('sequelize');
  resolveFrom('pg');
  if (opts.ts) registerTs('migrations');
  process.argv = [process.execPath, cli, 'db:migrate', '--migrations-path', job.migrationsDir];
  if (CAP) {
    // sequelize-cli's migrations, in its order (file names): up to the one before the target, or the target.
    const names = fs.readdirSync(job.migrationsDir)
      .filter((n) => /^(?!.*\.d\.ts$).*\.(cjs|js|cts|ts)$/.test(n)).sort();
    const at = names.indexOf(path.basename(CAP.target));
    if (at < 0) throw new Refusal('config', `sequelize-cli does not run ${path.basename(CAP.target)} (not a .js, .cjs or .ts file)`);
    const to = CAP.phase === 'before' ? names[at - 1] : names[at];
    if (!to) finish(succeeded(), 0);
    process.argv.push('--to', to);
    capturing = CAP.phase === 'capture';
  }
  // The helpers read .sequelizerc and the arguments when loaded; loaded as the CLI loads them (the
  // index first: the helpers require each other), they are the modules the CLI then uses.
  const helper = require(path.join(path.dirname(cli), 'helpers', 'index.js')).config;
  if (!helper.configFileExists()) {
    throw new Refusal('config', `no sequelize config: ${helper.relativeConfigFile()} does not exist `
      + '(npx sequelize-cli init:config makes one)');
  }
  const read = helper.readConfig;
  helper.readConfig = function fluxReadConfig() {
    const config = read.apply(this, arguments);
    overrideSequelize(config);
    return config;
  };
  require(cli); // ends the process: exit code 0 when every migration ran
}

// -- node-pg-migrate (its CLI, in this process) ---------------------------------------

async function nodePgMigrate() {
  const opts = job.options || {};
  const bin = binOf('node-pg-migrate');
  resolveFrom('pg');
  process.env.DATABASE_URL = job.url;
  let upTo = [];
  if (CAP) upTo = await nodePgMigrateCapture();
  process.argv = [process.execPath, bin, 'up', ...upTo, ...(opts.args || []), '--database-url-var', 'DATABASE_URL',
    '--migrations-dir', job.migrationsDir, '--no-verbose'];
  await import(pathToFileURL(bin).href); // ends the process: exit code 0 when every migration ran
}

function numericPrefix(name) {
  const m = /^(\d+)/.exec(name);
  return m ? BigInt(m[1]) : null;
}

async function nodePgMigrateCapture() {
  const target = path.basename(CAP.target);
  const named = (n) => n.slice(0, n.length - path.extname(n).length);
  if (CAP.phase === 'before') {
    // Its order: the numeric prefix, then the names (node-pg-migrate's compareMigrationFileNames).
    const names = fs.readdirSync(job.migrationsDir).filter((n) => !n.startsWith('.')
      && fs.statSync(path.join(job.migrationsDir, n)).isFile()).sort((a, b) => {
      const [x, y] = [numericPrefix(a), numericPrefix(b)];
      if (x !== null && y !== null && x !== y) return x < y ? -1 : 1;
      return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
    });
    const at = names.indexOf(target);
    if (at < 0) throw new Refusal('config', `node-pg-migrate does not run ${target}`);
    if (at === 0) finish(succeeded(), 0);
    return [String(at)];
  }
  // Its operations are kept as SQL text while `up` runs and sent after it returns: each text
  // is given the line of the pgm call that made it.
  const lib = await import(pathToFileURL(resolveFrom('node-pg-migrate')).href);
  class TracedSteps extends Array {
    concat(...items) {
      const line = stackLine(200);
      if (line) for (const sql of [].concat(...items)) if (typeof sql === 'string') stepLines.push([sql, line]);
      return super.concat(...items);
    }
  }
  const apply = lib.Migration.prototype._apply;
  lib.Migration.prototype._apply = function fluxTracedApply(action, pgm) {
    if (pgm && Array.isArray(pgm._steps)) pgm._steps = TracedSteps.from(pgm._steps);
    return apply.call(this, action, pgm);
  };
  capturing = true;
  return [named(target)];
}

// -- main -----------------------------------------------------------------------------

const TOOLS = { knex, typeorm, sequelize, 'node-pg-migrate': nodePgMigrate };

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

(async () => {
  const run = TOOLS[job.tool];
  if (!run) throw new Refusal('config', `no Node driver for ${job.tool}`);
  const exits = job.tool === 'sequelize' || job.tool === 'node-pg-migrate';
  await run();
  if (!exits) finish(succeeded(), 0);
})().catch(fail);
