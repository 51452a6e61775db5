'use strict';
// The README's Node example is examples/quickstart.js, verbatim; it runs here.

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { it } = require('node:test');
const { promisify } = require('node:util');

const ROOT = path.join(__dirname, '..');

it('the README shows examples/quickstart.js verbatim', () => {
  const example = fs.readFileSync(path.join(ROOT, 'examples', 'quickstart.js'), 'utf8');
  const readme = fs.readFileSync(path.join(ROOT, '..', 'README.md'), 'utf8');
  assert.ok(readme.includes('```js\n' + example + '```'), 'README.md Node section out of date with examples/quickstart.js');
});

it('examples/quickstart.js runs and exits on its own', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'examples', 'quickstart.js')], { timeout: 60_000 });
  assert.match(stdout, /^state: connected$/m);
  assert.match(stdout, /^\/jobs\/job-0000000000 x2$/m);
  assert.match(stdout, /^NO_NODE -101 \/nope$/m);
  assert.match(stdout, /^locked with token \d+$/m);
  assert.match(stdout, /^state: closed$/m);
});
