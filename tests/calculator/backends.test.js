'use strict';
// The calculator against test-only fake operation services: what it sends them,
// unreachable and silent services, timeouts, and concurrency.

const assert = require('node:assert/strict');
const net = require('node:net');
const { after, describe, test } = require('node:test');
const {
  APPLY,
  HOST,
  closedPort,
  request,
  startCalculator,
  startFakeOperation,
  stopAll,
  urlEnv,
} = require('./helpers');

const fakes = [];

async function fakeOperations(options = {}, overrides = {}) {
  const entries = await Promise.all(
    Object.keys(APPLY).map(async (name) => [name, await startFakeOperation(overrides[name] || APPLY[name], options)]),
  );
  const ops = Object.fromEntries(entries);
  fakes.push(...Object.values(ops));
  return { ops, urls: urlEnv(Object.fromEntries(entries.map(([name, fake]) => [name, fake.url]))) };
}

after(async () => {
  await stopAll();
  await Promise.all(fakes.map((fake) => fake.close()));
});

describe('what the calculator sends to the operation services', () => {
  test('one call per operator, to the matching service, body "a b"', async () => {
    const { ops, urls } = await fakeOperations();
    const calc = await startCalculator(urls);

    assert.equal((await request(calc.url, '(5+6)*2')).body, 'result = 22\r\n\r\n');
    assert.deepEqual(ops.sum.bodies, ['5 6']);
    assert.deepEqual(ops.mul.bodies, ['11 2']);
    assert.deepEqual(ops.sub.bodies, []);
    assert.deepEqual(ops.div.bodies, []);

    // unary minus goes through the sub service as "0 x"
    assert.equal((await request(calc.url, '-3+5')).body, 'result = 2\r\n\r\n');
    assert.deepEqual(ops.sub.bodies, ['0 3']);
    assert.deepEqual(ops.sum.bodies, ['5 6', '-3 5']);

    // operands are sent in JavaScript number formatting
    assert.equal((await request(calc.url, '1e22/4e0')).body, 'result = 2.5e+21\r\n\r\n');
    assert.deepEqual(ops.div.bodies, ['1e+22 4']);
  });

  test('an answer that is not a number -> 502 naming the service', async () => {
    const { urls } = await fakeOperations({}, { sum: () => 'hello' });
    const calc = await startCalculator(urls);
    const res = await request(calc.url, '1+1');
    assert.equal(res.status, 502);
    assert.equal(res.body, `error: sum service at ${urls.VIRTLAB_SUM_URL} sent an answer that is not a number: "hello"\r\n`);
  });
});

describe('unreachable and silent operation services', () => {
  test('a service that is down -> 502 "error: sum service at <url> unreachable: ..."', async () => {
    const { urls } = await fakeOperations();
    const downUrl = `http://${HOST}:${await closedPort()}`;
    const calc = await startCalculator({ ...urls, VIRTLAB_SUM_URL: downUrl });

    const res = await request(calc.url, '2*(1+1)');
    assert.equal(res.status, 502);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.match(res.body, /^error: sum service at http:\/\/127\.0\.0\.1:\d+ unreachable: .*ECONNREFUSED.*\r\n$/);
    assert.ok(res.body.startsWith(`error: sum service at ${downUrl} unreachable: `), res.body);

    // the other services still work, and so does the calculator
    assert.equal((await request(calc.url, '2*3')).body, 'result = 6\r\n\r\n');
  });

  test('a service that never answers -> 504 within VIRTLAB_OPERATION_TIMEOUT_MS', async () => {
    const { urls } = await fakeOperations();
    const silent = await startFakeOperation(APPLY.mul, { delayMs: Infinity });
    fakes.push(silent);
    const calc = await startCalculator({ ...urls, VIRTLAB_MUL_URL: silent.url, VIRTLAB_OPERATION_TIMEOUT_MS: '300' });

    const res = await request(calc.url, '2*3', { timeoutMs: 3000 });
    assert.equal(res.status, 504);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.body, `error: mul service at ${silent.url} unreachable: no answer within 300 ms\r\n`);
    assert.ok(res.ms >= 250 && res.ms < 1500, `answered after ${res.ms} ms`);
    assert.equal((await request(calc.url, '2+3')).body, 'result = 5\r\n\r\n');
  });

  test('a long evaluation is cut at VIRTLAB_REQUEST_TIMEOUT_MS -> 504', async () => {
    const { urls } = await fakeOperations({ delayMs: 100 });
    const calc = await startCalculator({ ...urls, VIRTLAB_REQUEST_TIMEOUT_MS: '350' });
    // eight additions in a chain need 8 x 100 ms one after the other
    const res = await request(calc.url, '1+1+1+1+1+1+1+1+1', { timeoutMs: 3000 });
    assert.equal(res.status, 504);
    assert.equal(res.body, 'error: evaluation took longer than 350 ms\r\n');
    assert.ok(res.ms < 1000, `answered after ${res.ms} ms`);
  });

  test('a client that never finishes its request is disconnected', async () => {
    const { urls } = await fakeOperations();
    const calc = await startCalculator({ ...urls, VIRTLAB_REQUEST_TIMEOUT_MS: '500' });
    const started = Date.now();
    const answer = await new Promise((resolve, reject) => {
      const socket = net.connect(calc.port, HOST, () => {
        socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 10\r\n\r\n1+`);
      });
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        received += chunk;
      });
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the calculator kept the stalled connection open for 4 s'));
      }, 4000).unref();
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 400, `closed after ${elapsed} ms, before the timeout`);
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer);
    assert.equal((await request(calc.url, '1+1')).body, 'result = 2\r\n\r\n');
  });
});

describe('concurrency', () => {
  const DELAY = 150;

  test('independent operands are evaluated at the same time', async () => {
    const { ops, urls } = await fakeOperations({ delayMs: DELAY });
    const calc = await startCalculator(urls);
    const res = await request(calc.url, '(1+2)*(3+4)');
    assert.equal(res.body, 'result = 21\r\n\r\n');
    // both additions were in flight at once: two rounds of calls, not three
    assert.equal(ops.sum.maxInFlight, 2);
  });

  test('20 concurrent requests are all right, and served in parallel', async () => {
    const { ops, urls } = await fakeOperations({ delayMs: DELAY });
    const calc = await startCalculator(urls);
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, n) => request(calc.url, `(${n}+6)*2`, { timeoutMs: 10000 })),
    );
    const elapsed = Date.now() - started;
    replies.forEach((res, n) => {
      assert.equal(res.status, 200);
      assert.equal(res.body, `result = ${(n + 6) * 2}\r\n\r\n`);
    });
    // One request at a time would need 20 x 2 x DELAY = 6000 ms.
    assert.ok(elapsed < 2000, `20 requests took ${elapsed} ms`);
    assert.ok(ops.sum.maxInFlight >= 10, `at most ${ops.sum.maxInFlight} sum calls were in flight at once`);
  });
});
