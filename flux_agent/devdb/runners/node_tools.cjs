'use strict';
// Flux's Node driver (node_driver.cjs), its tools' part: how each tool (knex, sequelize-cli,
// node-pg-migrate; TypeORM in node_typeorm.cjs) is loaded with the project's config, pointed at
// the dev database, and run: every pending migration, or with a capture (node_capture.cjs) those
// up to one file, that file alone, or a batch of files.

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

// The driver's, given once by the driver (tools(driver) below).
let job, cap, CAP, notes, P, Refusal, finish, fail, succeeded, resolveFrom, binOf, registerTs, unwrap, loadConfig, rel;

module.exports = function tools(driver) {
  ({ job, cap, notes, Refusal, finish, fail, succeeded, resolveFrom, binOf, registerTs, unwrap, loadConfig, rel } = driver);
  CAP = cap.spec;
  P = job.params || {};
  return { knex, typeorm: require('./node_typeorm.cjs')(driver), sequelize, 'node-pg-migrate': nodePgMigrate };
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
  let all = await knexSettings(opts.config);
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

// The project's knexfile, or where there is none or it does not load (ODK Central's reads its
// `config` package's folder, which knex's CLI is told by an environment variable), settings of
// Flux's own: knex's defaults and the migrations folder; the migrations need nothing else.
async function knexSettings(file) {
  if (file) {
    try {
      return await loadConfig(file, 'the knexfile');
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      notes.push(`${err.message}: ${OWN_KNEX}`);
      return { client: 'pg' };
    }
  }
  notes.push(`no knexfile found: ${OWN_KNEX}`);
  return { client: 'pg' };
}

const OWN_KNEX = "ran the migrations with knex settings of Flux's own (knex's defaults: the knex_migrations "
  + 'table, each migration in a transaction)';

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
  const [count, ...ours] = upTo; // (ours after the project's: they win)
  process.argv = [process.execPath, bin, 'up', ...(count ? [count] : []), ...(opts.args || []), ...ours,
    '--database-url-var', 'DATABASE_URL', '--migrations-dir', job.migrationsDir, '--no-verbose'];
  await import(pathToFileURL(bin).href); // ends the process: exit code 0 when every migration ran
}

function numericPrefix(name) {
  const m = /^(\d+)/.exec(name);
  return m ? BigInt(m[1]) : null;
}

// Its order: the numeric prefix, then the names (node-pg-migrate's compareMigrationFileNames).
function nodePgMigrateNames() {
  return fs.readdirSync(job.migrationsDir).filter((n) => !n.startsWith('.')
    && fs.statSync(path.join(job.migrationsDir, n)).isFile()).sort((a, b) => {
    const [x, y] = [numericPrefix(a), numericPrefix(b)];
    if (x !== null && y !== null && x !== y) return x < y ? -1 : 1;
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
  });
}

// Its operations are kept as SQL text while `up` runs and sent after it returns: each text is
// given the line of the pgm call that made it. Its library, as its CLI imports it.
async function nodePgMigrateTraced() {
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
  return lib;
}

// The arguments of `up` for the capture: the migrations before the target (counted from an empty
// database), the target alone (its name), or a batch.
async function nodePgMigrateCapture() {
  if (CAP.phase === 'batch') return nodePgMigrateBatch();
  const target = path.basename(CAP.target);
  if (CAP.phase === 'before') {
    const at = nodePgMigrateNames().indexOf(target);
    if (at < 0) throw new Refusal('config', `node-pg-migrate does not run ${target}`);
    if (at === 0) finish(succeeded(), 0);
    return [String(at)];
  }
  await nodePgMigrateTraced();
  cap.on = true;
  return [target.slice(0, target.length - path.extname(target).length)];
}

// The batch (node_capture.cjs): from the database before its first file (CAP.target), `up` as many as
// run up to the last, each migration in a transaction of its own (the default puts all in one, which
// the schema read between two files would not see into); a target recorded alone.
async function nodePgMigrateBatch() {
  const names = nodePgMigrateNames();
  const targets = new Map(CAP.targets.map((t) => [path.basename(t), t]));
  const first = names.indexOf(path.basename(CAP.target));
  const last = names.reduce((at, n, i) => (targets.has(n) ? i : at), -1);
  if (first < 0 || last < first) throw new Refusal('config', 'node-pg-migrate runs none of the files');
  const lib = await nodePgMigrateTraced();
  const apply = lib.Migration.prototype.apply;
  lib.Migration.prototype.apply = async function fluxBatchApply(direction) {
    const file = targets.get(path.basename(this.path));
    if (file) cap.pause(file);
    cap.on = !!file;
    let done;
    try {
      done = await apply.call(this, direction);
    } finally {
      cap.on = false;
    }
    if (file) cap.deliver(file);
    return done;
  };
  return [String(last - first + 1), '--no-single-transaction'];
}
