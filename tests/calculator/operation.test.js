'use strict';
// The operation services (operation.js run as sum, sub, mul and div): wire protocol,
// number formatting, body limit.

const assert = require('node:assert/strict');
const net = require('node:net');
const { after, before, describe, test } = require('node:test');
const { HOST, request, startOperation, startOperations, stopAll } = require('./helpers');

let ops;

before(async () => {
  ({ services: ops } = await startOperations());
});

after(stopAll);

describe('operation services answer the protocol', () => {
  const cases = [
    ['sum', '6 3', '9\r\n'],
    ['sub', '6 3', '3\r\n'],
    ['mul', '6 3', '18\r\n'],
    ['div', '6 3', '2\r\n'],
    ['div', '10 4', '2.5\r\n'],
    ['mul', '1e21 1', '1e+21\r\n'],
    ['sub', '3 5', '-2\r\n'],
    ['sum', '-2.5 .5', '-2\r\n'],
    ['sum', '0.1 0.2', '0.30000000000000004\r\n'],
    ['div', '1 3', '0.3333333333333333\r\n'],
    ['mul', '1e-7 1', '1e-7\r\n'],
    ['sum', '1e+21 1e+21', '2e+21\r\n'],
  ];
  for (const [op, body, expected] of cases) {
    test(`${op} "${body}" -> ${JSON.stringify(expected)}`, async () => {
      const res = await request(ops[op].url, body);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'text/plain');
      assert.equal(res.body, expected);
    });
  }

  test('any method and path is accepted', async () => {
    const res = await request(ops.sum.url, '6 3', { method: 'PUT', path: '/some/path?x=1' });
    assert.equal(res.status, 200);
    assert.equal(res.body, '9\r\n');
  });

  test('a trailing newline (as from echo | curl --data-binary @-) is tolerated', async () => {
    const res = await request(ops.sum.url, '6 3\n');
    assert.equal(res.body, '9\r\n');
  });
});

// Everything else the original services answered is answered the same way, with 200:
// see compatibility.test.js. Only what the original could not survive is refused.
describe('what the operation services refuse', () => {
  test('oversize body -> 413, and the service answers the next request', async () => {
    const res = await request(ops.mul.url, `1 ${'1'.repeat(5000)}`);
    assert.equal(res.status, 413);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.body, 'error: request body larger than 4096 bytes\r\n');
    const next = await request(ops.mul.url, '6 3');
    assert.equal(next.body, '18\r\n');
  });

  test('oversize chunked body (no Content-Length) -> 413', async () => {
    const res = await request(ops.mul.url, '1'.repeat(20000), { headers: { 'Transfer-Encoding': 'chunked' } });
    assert.equal(res.status, 413);
    assert.match(res.body, /^error: request body larger than 4096 bytes\r\n$/);
  });

  test('a body of exactly the limit is read, not refused', async () => {
    const body = `1 ${'0'.repeat(4094)}`; // 4096 bytes: "1 000...0" = 1 + 0
    const res = await request(ops.sum.url, body);
    assert.equal(res.status, 200);
    assert.equal(res.body, '1\r\n');
  });

  test('VIRTLAB_MAX_BODY_BYTES sets the limit', async () => {
    const small = await startOperation('sum', { VIRTLAB_MAX_BODY_BYTES: '8' });
    assert.equal((await request(small.url, '1234 123')).body, '1357\r\n');
    const res = await request(small.url, '1234 1234');
    assert.equal(res.status, 413);
    assert.equal(res.body, 'error: request body larger than 8 bytes\r\n');
  });

  test('a client that never finishes its request is disconnected (408 or closed)', async () => {
    const slow = await startOperation('sum', { VIRTLAB_REQUEST_TIMEOUT_MS: '500' });
    const started = Date.now();
    const answer = await new Promise((resolve, reject) => {
      const socket = net.connect(slow.port, HOST, () => {
        socket.write(`POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 10\r\n\r\n6 `);
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
        reject(new Error('the operation service kept the stalled connection open for 4 s'));
      }, 4000).unref();
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 400, `closed after ${elapsed} ms, before the timeout`);
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer);
    assert.equal((await request(slow.url, '6 3')).body, '9\r\n');
  });
});
