'use strict';
// Flux's Node driver (node_driver.cjs), TypeORM's part (node_tools.cjs has the others'): the
// project's DataSource found, pointed at the dev database, and its migrations run: every pending
// one, or with a capture (node_capture.cjs) those up to one file, that file alone, or a batch.

const path = require('path');

// The driver's, given once by the driver (typeormPart(driver) below).
let job, cap, CAP, notes, P, Refusal, resolveFrom, registerTs, load, loadConfig, rel;

module.exports = function typeormPart(driver) {
  ({ job, cap, notes, Refusal, resolveFrom, registerTs, load, loadConfig, rel } = driver);
  CAP = cap.spec;
  P = job.params || {};
  return typeorm;
};

// The migrations folder's files, as TypeORM loads them (each file's exported classes), but an index
// file (Flowise's postgres/index.ts lists the folder's classes in an array: loaded too, each came
// twice: "Duplicate migrations") and type declarations.
function folderMigrations() {
  const fs = require('fs');
  return fs.readdirSync(job.migrationsDir)
    .filter((n) => /\.(ts|js|cjs|mjs|mts|cts)$/.test(n) && !/\.d\.[mc]?ts$/.test(n) && !/^index\./.test(n))
    .map((n) => path.join(job.migrationsDir, n).split(path.sep).join('/'));
}

// TypeORM's errors in building its entities' metadata (DataSource.initialize), none of a connection's.
const ENTITY_ERRORS = new Set(['DataTypeNotSupportedError', 'ColumnTypeUndefinedError', 'MissingPrimaryColumnError',
  'EntityMetadataNotFoundError', 'MetadataAlreadyExistsError']);

function isDataSource(value, typeorm) {
  return !!value && typeof value === 'object'
    && (value['@instanceof'] === Symbol.for('DataSource') || (typeorm.DataSource && value instanceof typeorm.DataSource));
}

// A DataSource of Flux's own, where the project's cannot be had: its migrations need no entities,
// only TypeORM and a connection (misskey's ormconfig.js imports its build output, built/config.js).
function ownDataSource(typeorm, why) {
  notes.push(`${why}: ran the migrations with a TypeORM data source of Flux's own (no entities, TypeORM's `
    + 'default naming strategy, migrations table and transaction mode)');
  return new typeorm.DataSource({ type: 'postgres', migrations: [] });
}

async function findDataSource(file, typeorm) {
  if (!file) return ownDataSource(typeorm, 'no TypeORM DataSource file found');
  let loaded;
  try {
    loaded = await loadConfig(file, 'the TypeORM data source');
  } catch (err) {
    if (err instanceof Refusal) return ownDataSource(typeorm, err.message);
    throw err;
  }
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
  const named = !!(o.migrations && o.migrations.length);  // (setOptions below changes `o` itself)
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
  try {
    await ds.initialize();
  } catch (err) {
    if (!ENTITY_ERRORS.has(err && err.name)) throw err;
    // An entity's metadata fails as Flux loads TypeScript (no type information: Flowise's `state:
    // ExecutionState`, a type alias, reads as Object): the migrations need no entities.
    notes.push(`the data source's entities do not load as Flux compiles TypeScript (${String(err.message).split('\n')[0]}): `
      + 'ran its migrations without them');
    ds.setOptions({ entities: [] });
    await ds.initialize();
  }
  try {
    if ((!ds.migrations || !ds.migrations.length) && opts.files > 0) {
      // Its migrations globs match nothing (compiled output not built?): the migrations folder Flux reads.
      await ds.destroy();
      ds.setOptions({ migrations: folderMigrations() });
      await ds.initialize();
      // (Flux's own data source names none: the folder is all it runs)
      if (named) notes.push(`the data source's migrations ${globs} match no file: ran those in ${rel(job.migrationsDir)}`);
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
    if (ds.isInitialized) await ds.destroy();  // (a failed initialize: its error, not this one, is the news)
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
    ds.setOptions({ migrations: folderMigrations() });
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
