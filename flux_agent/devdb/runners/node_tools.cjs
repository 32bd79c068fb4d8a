'use strict';
// Flux's Node driver (node_driver.cjs), its tools' part: how each tool (knex, typeorm,
// sequelize-cli, node-pg-migrate) is loaded with the project's config, pointed at the dev
// database, and run: every pending migration, or with a capture (node_capture.cjs) those up to
// one file, or that file alone.

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

// The driver's, given once by the driver (tools(driver) below).
let job, cap, CAP, notes, P, Refusal, finish, fail, succeeded, resolveFrom, binOf, registerTs, unwrap, load, loadConfig, rel;

module.exports = function tools(driver) {
  ({ job, cap, notes, Refusal, finish, fail, succeeded, resolveFrom, binOf, registerTs, unwrap, load, loadConfig, rel } = driver);
  CAP = cap.spec;
  P = job.params || {};
  return { knex, typeorm, sequelize, 'node-pg-migrate': nodePgMigrate };
};

// The batch (node_capture.cjs) of a tool that runs a pending migration by its file name (knex,
// sequelize-cli): each of `names` (its pending ones, in its order) up to the last target, a target
// recorded alone; `none`: what to say when no target is among them.
async function batchByName(names, up, none) {
  const targets = new Map(CAP.targets.map((t) => [path.basename(t), t]));
  const last = Math.max(...names.map((n, i) => (targets.has(n) ? i : -1)));
  if (last < 0) throw new Refusal('config', none);
  for (const name of names.slice(0, last + 1)) {
    const file = targets.get(name);
    if (file) cap.pause(file);
    cap.on = !!file;
    await up(name);
    cap.on = false;
    if (file) cap.deliver(file);
  }
}

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
  const table = migrations.tableName || 'knex_migrations'; // Infisical's infisical_migrations
  cap.bookkeeping.push(table, `${table}_lock`);
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
  if (CAP.phase === 'batch') {
    await batchByName(names, (name) => db.migrate.up({ name }), 'knex lists none of the files among the migrations it would run');
    return;
  }
  const target = path.basename(CAP.target);
  const at = names.indexOf(target);
  if (at < 0) throw new Refusal('config', `knex does not list ${target} among the migrations it would run`);
  if (CAP.phase === 'before') {
    for (const name of names.slice(0, at)) await db.migrate.up({ name });
    return;
  }
  cap.on = true;
  await db.migrate.up({ name: target });
  cap.on = false;
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
  cap.bookkeeping.push(o.migrationsTableName || 'migrations');
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

// Is a migration instance one of the classes `file` exports? `same`: that very class; `named`: a class of
// its name and migration name (a second copy of the module; two files' classes may share a class name,
// each with a `name` field of its own).
async function typeormClassesOf(file) {
  const exported = await load(file);
  const classes = new Set();
  for (const value of [exported, ...Object.values(exported && typeof exported === 'object' ? exported : {})]) {
    if (typeof value === 'function') classes.add(value);
  }
  const migrationName = (c) => {
    try {
      return new c().name;
    } catch (err) {
      return undefined;
    }
  };
  const names = new Map([...classes].map((c) => [c, migrationName(c)]));
  return {
    same: (instance) => !!instance && classes.has(instance.constructor),
    named: (instance) => !!instance && !!instance.constructor && [...classes].some((c) => c.name
      && instance.constructor.name === c.name && (names.get(c) === undefined || names.get(c) === instance.name)),
  };
}

// Where TypeORM's migrations list runs the file's class: that very class, else one of its names.
function typeormIndex(all, test, usable = () => true) {
  const at = all.findIndex((m) => usable(m) && test.same(m.instance));
  return at >= 0 ? at : all.findIndex((m) => usable(m) && test.named(m.instance));
}

async function typeormCapture(ds, typeormLib, mode) {
  if (CAP.phase === 'batch') {
    await typeormBatch(ds, typeormLib, mode);
    return;
  }
  const target = await typeormClassesOf(CAP.target);
  if (typeormIndex((ds.migrations || []).map((instance) => ({ instance })), target) < 0) {
    // The data source's globs miss the file: the file's own folder, as the build does.
    await ds.destroy();
    ds.setOptions({ migrations: [`${job.migrationsDir.split(path.sep).join('/')}/*.{ts,js,cjs,mjs}`] });
    await ds.initialize();
  }
  const all = new typeormLib.MigrationExecutor(ds).getMigrations();
  const at = typeormIndex(all, target);
  if (at < 0) throw new Refusal('config', `${path.basename(CAP.target)} exports no TypeORM migration class the data source runs`);
  const keep = all.slice(0, CAP.phase === 'before' ? at : at + 1).map((m) => m.instance);
  if (CAP.phase === 'before') {
    // The database may be a copy of one built before an earlier file (lint/readers/_node.py): it
    // must hold no migration TypeORM runs at or after the target (its order is the classes' timestamps).
    const kept = new Set(all.slice(0, at).map((m) => m.name));
    // A query runner of our own, released here: without one, TypeORM 0.3.12's withQueryRunner releases
    // its own before it has connected, and ds.destroy() then spins forever (jellyseerr's validate hung 300 s).
    const runner = ds.createQueryRunner();
    let executed;
    try {
      executed = await new typeormLib.MigrationExecutor(ds, runner).getExecutedMigrations();
    } finally {
      await runner.release();
    }
    const later = executed.find((m) => !kept.has(m.name));
    if (later) {
      throw new Refusal('config', `the database holds ${later.name}, which TypeORM runs at or after ${path.basename(CAP.target)}`);
    }
  }
  Object.defineProperty(ds, 'migrations', { value: keep, writable: true, configurable: true });
  if (CAP.phase === 'before' && !keep.length) return;
  cap.on = CAP.phase === 'capture';
  await ds.runMigrations({ transaction: mode });
  cap.on = false;
}

// The batch (node_capture.cjs): TypeORM's migrations up to the last target, in its order; each
// target run alone, recorded, after the ones before it have run unrecorded.
async function typeormBatch(ds, typeormLib, mode) {
  const tests = await Promise.all(CAP.targets.map(async (file) => [file, await typeormClassesOf(file)]));
  const all = new typeormLib.MigrationExecutor(ds).getMigrations();
  const runner = ds.createQueryRunner(); // (TypeORM 0.3.12 needs one of our own: typeormCapture says why)
  let executed;
  try {
    executed = new Set((await new typeormLib.MigrationExecutor(ds, runner).getExecutedMigrations()).map((m) => m.name));
  } finally {
    await runner.release();
  }
  // A target that has run already (TypeORM's order is not the names') is not delivered: read alone.
  const at = (test) => typeormIndex(all, test, (m) => !executed.has(m.name));
  const found = tests.map(([file, test]) => [file, at(test)]).filter(([, i]) => i >= 0).sort((a, b) => a[1] - b[1]);
  if (!found.length) throw new Refusal('config', 'the data source runs none of the files\' migration classes');
  const upTo = async (end) => {
    Object.defineProperty(ds, 'migrations', { value: all.slice(0, end).map((m) => m.instance), writable: true,
      configurable: true });
    await ds.runMigrations({ transaction: mode });
  };
  for (const [file, i] of found) {
    await upTo(i); // the migrations between the last target and this one
    cap.pause(file);
    cap.on = true;
    await upTo(i + 1);
    cap.on = false;
    cap.deliver(file);
  }
}

// -- sequelize (sequelize-cli db:migrate, in this process) ----------------------------

// The config sequelize-cli reads, as a copy pointed at the dev database (codimd deep-freezes its own). Its
// runs are recorded in the database's table whatever the config says: `migrationStorage: "json"` wrote
// sequelize-meta.json into the project, and the next run took every migration for run already.
function overrideSequelize(given) {
  const config = { ...given };
  const dialect = config.dialect || config.protocol;
  if (dialect && !['postgres', 'postgresql'].includes(dialect)) {
    fail(new Refusal('config', `the sequelize config's dialect is '${dialect}', not postgres`));
  }
  const table = config.migrationStorageTableName || 'SequelizeMeta';
  if (!cap.bookkeeping.includes(table)) cap.bookkeeping.push(table);
  for (const k of ['url', 'use_env_variable', 'replication', 'protocol', 'migrationStoragePath']) delete config[k];
  Object.assign(config, {
    dialect: 'postgres', host: P.host, port: P.port, username: P.user, password: P.password, database: P.database,
    native: false, logging: false, migrationStorage: 'sequelize',
  });
  if (config.dialectOptions) {
    config.dialectOptions = { ...config.dialectOptions };
    for (const k of ['ssl', 'connectionString', 'host', 'port', 'user', 'password', 'database']) delete config.dialectOptions[k];
  }
  return config;
}

async function sequelize() {
  const opts = job.options || {};
  const cli = binOf('sequelize-cli', 'sequelize');
  resolveFrom('sequelize');
  resolveFrom('pg');
  if (opts.ts) registerTs('migrations');
  process.argv = [process.execPath, cli, 'db:migrate', '--migrations-path', job.migrationsDir];
  if (CAP && CAP.phase !== 'batch') {
    // sequelize-cli's migrations, in its order (file names): up to the one before the target, or the target.
    const names = fs.readdirSync(job.migrationsDir)
      .filter((n) => /^(?!.*\.d\.ts$).*\.(cjs|js|cts|ts)$/.test(n)).sort();
    const at = names.indexOf(path.basename(CAP.target));
    if (at < 0) throw new Refusal('config', `sequelize-cli does not run ${path.basename(CAP.target)} (not a .js, .cjs or .ts file)`);
    const to = CAP.phase === 'before' ? names[at - 1] : names[at];
    if (!to) finish(succeeded(), 0);
    process.argv.push('--to', to);
    cap.on = CAP.phase === 'capture';
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
    return overrideSequelize(read.apply(this, arguments));
  };
  if (CAP && CAP.phase === 'batch') {
    await sequelizeBatch(cli);
    finish(succeeded(), 0);
  }
  require(cli); // ends the process: exit code 0 when every migration ran
}

// The batch (node_capture.cjs): sequelize-cli's migrator (umzug) as its db:migrate makes it, each pending
// migration up to the last target run by name, in its order; a target recorded alone.
async function sequelizeBatch(cli) {
  const helpers = require(path.join(path.dirname(cli), 'helpers', 'index.js'));
  const core = require(path.join(path.dirname(cli), 'core', 'migrator.js'));
  await helpers.config.init();
  const migrator = await core.getMigrator('migration', {});
  await core.ensureCurrentMetaSchema(migrator);
  try {
    const names = (await migrator.pending()).map((m) => m.file);
    await batchByName(names, (name) => migrator.up(name), 'sequelize-cli runs none of the files');
  } finally {
    await migrator.options.storageOptions.sequelize.close();
  }
}

// -- node-pg-migrate (its CLI, in this process) ---------------------------------------

async function nodePgMigrate() {
  const opts = job.options || {};
  const bin = binOf('node-pg-migrate');
  resolveFrom('pg');
  process.env.DATABASE_URL = job.url;
  const args = opts.args || [];
  const named = args.findIndex((a) => a === '--migrations-table' || a === '-t');
  cap.bookkeeping.push(named >= 0 && args[named + 1] ? args[named + 1] : 'pgmigrations');
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
      const line = cap.stackLine(200);
      if (line) for (const sql of [].concat(...items)) if (typeof sql === 'string') cap.stepLines.push([sql, line]);
      return super.concat(...items);
    }
  }
  const apply = lib.Migration.prototype._apply;
  lib.Migration.prototype._apply = function fluxTracedApply(action, pgm) {
    if (pgm && Array.isArray(pgm._steps)) pgm._steps = TracedSteps.from(pgm._steps);
    return apply.call(this, action, pgm);
  };
  cap.on = true;
  return [named(target)];
}
