'use strict';
// Both programs and the module they share: syntax check. Both programs: configuration
// errors (exit code 2 with a clear message), the request log line, and a clean exit 0
// on SIGTERM.

const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { after, describe, test } = require('node:test');
const {
  CALCULATOR_JS,
  HOST,
  OPERATION_JS,
  SERVICE_COMMON_JS,
  closedPort,
  request,
  runToExit,
  startCalculator,
  startOperation,
  stopAll,
  urlEnv,
} = require('./helpers');

after(stopAll);

const LOCAL_URLS = urlEnv({
  sum: `http://${HOST}:1`,
  sub: `http://${HOST}:2`,
  mul: `http://${HOST}:3`,
  div: `http://${HOST}:4`,
});

describe('node --check', () => {
  for (const file of [OPERATION_JS, CALCULATOR_JS, SERVICE_COMMON_JS]) {
    test(file.split(/[\\/]/).pop(), () => {
      const run = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
    });
  }
});

describe('configuration errors exit with code 2 and say what is wrong', () => {
  const local = { VIRTLAB_LISTEN_HOST: HOST, VIRTLAB_LISTEN_PORT: '0' };
  const cases = [
    ['operation without VIRTLAB_OPERATION', OPERATION_JS, { ...local }, /VIRTLAB_OPERATION is not set/],
    ['operation with VIRTLAB_OPERATION=pow', OPERATION_JS, { ...local, VIRTLAB_OPERATION: 'pow' }, /VIRTLAB_OPERATION must be one of: sum, sub, mul, div; got "pow"/],
    ['operation with a bad port', OPERATION_JS, { ...local, VIRTLAB_OPERATION: 'sum', VIRTLAB_LISTEN_PORT: '70000' }, /VIRTLAB_LISTEN_PORT must be an integer/],
    ['operation with a bad body limit', OPERATION_JS, { ...local, VIRTLAB_OPERATION: 'sum', VIRTLAB_MAX_BODY_BYTES: '4k' }, /VIRTLAB_MAX_BODY_BYTES must be an integer/],
    ['calculator without VIRTLAB_DIV_URL', CALCULATOR_JS, { ...local, ...LOCAL_URLS, VIRTLAB_DIV_URL: '' }, /VIRTLAB_DIV_URL is not set/],
    ['calculator without any URL', CALCULATOR_JS, { ...local }, /VIRTLAB_SUM_URL is not set/],
    ['calculator with a URL that is not one', CALCULATOR_JS, { ...local, ...LOCAL_URLS, VIRTLAB_MUL_URL: '10.0.3.11:50003' }, /VIRTLAB_MUL_URL (is not a valid URL|must be an http:\/\/ URL)/],
    ['calculator with a bad timeout', CALCULATOR_JS, { ...local, ...LOCAL_URLS, VIRTLAB_OPERATION_TIMEOUT_MS: '-1' }, /VIRTLAB_OPERATION_TIMEOUT_MS must be an integer/],
  ];
  for (const [name, script, env, pattern] of cases) {
    test(name, async () => {
      const run = await runToExit(script, env);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, pattern);
      assert.doesNotMatch(run.stdout, /listening/);
    });
  }
});

describe('running services', () => {
  test('the configured port is used, and a busy port is an error (exit 1)', async () => {
    const port = await closedPort();
    const sum = await startOperation('sum', { VIRTLAB_LISTEN_PORT: String(port) });
    assert.equal(sum.port, port);
    const clash = await runToExit(OPERATION_JS, { VIRTLAB_OPERATION: 'sub', VIRTLAB_LISTEN_HOST: HOST, VIRTLAB_LISTEN_PORT: String(port) });
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /cannot listen on 127\.0\.0\.1:\d+/);
  });

  test('one log line per request with method, path, status and duration', async () => {
    const div = await startOperation('div');
    await request(div.url, '6 0', { path: '/a/b?secret=1' });
    await request(div.url, '6 '.repeat(3000), { method: 'PUT', path: '/c' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(div.stdout, /div POST \/a\/b 200 \d+(\.\d+)?ms\n/);
    assert.match(div.stdout, /div PUT \/c 413 \d+(\.\d+)?ms\n/);
    assert.doesNotMatch(div.stdout, /secret/);
  });

  for (const [name, start] of [
    ['operation', () => startOperation('mul')],
    ['calculator', () => startCalculator(LOCAL_URLS)],
  ]) {
    test(`${name}: SIGTERM -> exit code 0`, async () => {
      const service = await start();
      service.child.kill('SIGTERM');
      const timer = setTimeout(() => service.child.kill('SIGKILL'), 3000);
      const exit = await service.exited;
      clearTimeout(timer);
      assert.deepEqual(exit, { code: 0, signal: null });
    });
  }
});
