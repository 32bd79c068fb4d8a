// Flux's dev database runs a project's Node migrations (node_driver.cjs); this part lets the
// tool go on past a migration whose up() throws without a database error (a data script it
// runs from the app's build, app code this checkout has not built), as the SQL tools' failing
// statements are skipped: such a migration is left out with a note. A database error still
// stops the run, naming the file: the schema after it would not be the project's.
//
// Each migration module of the folder is wrapped as it loads (Module._load), whatever loads it:
// exports.up, a default export's up, a class's prototype.up (TypeORM).

const path = require('path');
const Module = require('module');

module.exports = function tolerate({ migrationsDir, rel, errorText, notes, keepsError }) {
  const folder = migrationsDir ? path.resolve(migrationsDir) + path.sep : null;
  const tolerated = new WeakSet();
  const untouched = []; // [file, error] of migrations that failed before sending any query
  const state = {
    sent: 0, // queries the pg driver was given (node_driver.cjs counts them)
    failedIn: null, // the migration a database error stopped the run in
    notes: () => untouchedNote(untouched),
  };

  function tolerant(file, up) {
    const wrapped = async function fluxTolerantUp(...args) {
      const before = state.sent;
      try {
        return await up.apply(this, args);
      } catch (err) {
        if (isDatabaseError(err) || keepsError(err)) {
          state.failedIn = state.failedIn || file;
          throw err;
        }
        // node-pg-migrate sends what up() built after it returns: those statements count too.
        const pgm = args[0] && typeof args[0].getSqlSteps === 'function' ? args[0] : null;
        const sent = state.sent - before + (pgm ? pgm.getSqlSteps().length : 0);
        if (sent) {
          notes.push(`${rel(file)} failed part-way without a database error and the tool went on `
            + `(${headline(err, errorText)}); the ${sent} statement${sent === 1 ? '' : 's'} it ran before that stand`);
        } else {
          untouched.push([rel(file), headline(err, errorText)]);
        }
        return undefined;
      }
    };
    // The tools read a migration's arity (umzug and node-pg-migrate pass a callback to one more).
    Object.defineProperty(wrapped, 'length', { value: up.length });
    tolerated.add(wrapped);
    return wrapped;
  }

  function wrap(file, exported) {
    const holders = [exported, exported.default];
    for (const value of Object.values(exported)) if (typeof value === 'function') holders.push(value.prototype);
    if (typeof exported === 'function') holders.push(exported.prototype);
    for (const h of holders) {
      if (h && typeof h.up === 'function' && !tolerated.has(h.up)) h.up = tolerant(file, h.up);
    }
  }

  const load = Module._load;
  Module._load = function fluxLoadModule(request, parent, isMain) {
    const exported = load.apply(this, arguments);
    if (folder && exported && /^(\/|\.|[A-Za-z]:)/.test(request)
        && (typeof exported === 'object' || typeof exported === 'function')) {
      let file = null;
      try {
        file = Module._resolveFilename(request, parent, isMain);
      } catch (err) {
        // not a file we can name
      }
      if (file && file.startsWith(folder)) wrap(file, exported);
    }
    return exported;
  };
  return state;
};

function isDatabaseError(err, depth) {
  if (!err || typeof err !== 'object' || (depth || 0) > 4) return false;
  if (typeof err.severity === 'string' && typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code)) return true;
  return ['parent', 'original', 'driverError', 'cause']
    .some((k) => err[k] && err[k] !== err && isDatabaseError(err[k], (depth || 0) + 1));
}

// The first line: a failed command's message goes on with its output (execSync's does).
function headline(err, errorText) {
  const text = err instanceof Error || (err && typeof err.message === 'string') ? String(err.message) : String(err);
  return text.split('\n').map((l) => l.trim()).find(Boolean) || errorText(err);
}

// One note for the migrations that failed before they sent a query: the schema is the same without them.
function untouchedNote(untouched) {
  if (!untouched.length) return [];
  const names = untouched.map(([f]) => f);
  const shown = names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
  return [`left out ${names.length} migration${names.length === 1 ? '' : 's'} that failed before sending any query, `
    + `so the schema is the same without ${names.length === 1 ? 'it' : 'them'}: ${shown} (${untouched[0][1]})`];
}
