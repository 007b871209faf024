// Reads the results of `conformance client --suite all -o DIR` and the
// driver's status files, prints the totals and every failing check, and
// exits non-zero unless every scenario has 0 failed and 0 warning checks
// and its client run succeeded. There are no expected failures: every
// client scenario, the extensions (client credentials, cross-app access)
// included, must pass.
//
// The suite's own exit status already covers failures and warnings, but in
// --suite mode it ignores how the client exited: a driver that crashed
// before doing anything still "passes" a scenario whose checks are all
// conditional. This closes that gap, the way the suite's single-scenario
// mode does ("CLIENT EXITED WITH ERROR").
//
//   node summarize.mjs RESULTS_DIR STATUS_DIR SCENARIO...
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

const [resultsDir, statusDir, ...scenarios] = process.argv.slice(2);

// Scenarios whose server expects the client to give up (allowClientError in
// the suite's source): the driver's error is the right outcome there.
const clientMayFail = new Set(['auth/scope-retry-limit', 'auth/resource-mismatch']);

const problems = [];

// results/<scenario>-<ISO timestamp>/checks.json; scenario names hold "/".
function findChecks(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findChecks(p));
    else if (e === 'checks.json') out.push(p);
  }
  return out;
}
const byScenario = new Map();
for (const file of existsSync(resultsDir) ? findChecks(resultsDir) : []) {
  const dir = relative(resultsDir, join(file, '..'));
  const name = dir.replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
  byScenario.set(name, { dir: join(resultsDir, dir), checks: JSON.parse(readFileSync(file, 'utf8')) });
}

const totals = { passed: 0, failed: 0, warnings: 0 };
const rows = [];
const details = [];
for (const name of scenarios) {
  const r = byScenario.get(name);
  if (!r) {
    rows.push(`✗ ${name}: no results`);
    problems.push(`${name}: the suite saved no results`);
    continue;
  }
  const count = (s) => r.checks.filter((c) => c.status === s).length;
  const passed = count('SUCCESS'), failed = count('FAILURE'), warnings = count('WARNING');
  totals.passed += passed; totals.failed += failed; totals.warnings += warnings;

  const statusFile = join(statusDir, name.replaceAll('/', '_'));
  const status = existsSync(statusFile) ? readFileSync(statusFile, 'utf8').trim() : 'no status (driver killed or never run: the suite\'s timeout?)';
  const clientBad = status !== 'ok' && !clientMayFail.has(name);

  const bad = failed > 0 || warnings > 0 || clientBad || passed === 0;
  rows.push(`${bad ? '✗' : '✓'} ${name}: ${passed} passed, ${failed} failed, ${warnings} warnings; client: ${status}`);
  if (!bad) continue;

  const why = [];
  if (failed || warnings) why.push(`${failed} failed, ${warnings} warnings`);
  if (clientBad) why.push(`client: ${status}`);
  if (passed === 0 && !failed && !warnings) why.push('no passing check');
  problems.push(`${name}: ${why.join('; ')}`);
  details.push(`--- ${name}`);
  for (const c of r.checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING')) {
    details.push(`  ${c.status} [${c.id}] ${c.description}${c.errorMessage ? ` — ${c.errorMessage}` : ''}`);
    if (c.details) details.push(`    details: ${JSON.stringify(c.details).slice(0, 600)}`);
  }
  const stderrFile = join(r.dir, 'stderr.txt');
  if (existsSync(stderrFile)) {
    const lines = readFileSync(stderrFile, 'utf8').trimEnd().split('\n');
    details.push(`  client stderr (last ${Math.min(lines.length, 40)} lines):`);
    for (const l of lines.slice(-40)) details.push(`    ${l}`);
  }
}
for (const name of byScenario.keys()) {
  if (!scenarios.includes(name)) problems.push(`${name}: results for a scenario not in the suite's list`);
}

console.log('\n=== mcpauth connect vs the MCP conformance suite ===');
for (const r of rows) console.log(r);
if (details.length) console.log(`\n${details.join('\n')}`);
console.log(`\nTotal: ${totals.passed} passed, ${totals.failed} failed, ${totals.warnings} warnings ` +
  `(${scenarios.length} scenarios, no expected failures)`);
if (problems.length) {
  console.log('\nFAILED:');
  for (const p of problems) console.log(`  - ${p}`);
  process.exit(1);
}
console.log('\nPASSED: 0 failed and 0 warnings');
