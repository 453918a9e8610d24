'use strict';
// The calculator's client for the operation services (its own HTTP/1.1 client on keep-alive
// connections): the answers' framings, connections the service closes, more calls than
// connections, and answers it refuses. The services here are raw TCP servers, so that each
// test says byte for byte what the service sends.

const assert = require('node:assert/strict');
const net = require('node:net');
const { after, describe, test } = require('node:test');
const { APPLY, HOST, request, startCalculator, startFakeOperation, stopAll, urlEnv } = require('./helpers');

const servers = [];

after(async () => {
  await stopAll();
  await Promise.all(servers.map((server) => server.close()));
});

// A TCP server that answers each request (read up to its body "a b") with reply(body, socket):
// the raw bytes to send, or nothing to send nothing. It counts the connections it accepted.
function rawService(reply) {
  const service = { connections: 0, bodies: [] };
  const sockets = new Set();
  const server = net.createServer((socket) => {
    service.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      buffer += chunk;
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffer.slice(0, end))[1]);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.slice(end + 4, end + 4 + length);
        buffer = buffer.slice(end + 4 + length);
        service.bodies.push(body);
        const answer = reply(body, socket);
        if (answer) socket.write(answer);
      }
    });
  });
  service.close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  servers.push(service);
  return new Promise((resolve) => {
    server.listen(0, HOST, () => {
      service.url = `http://${HOST}:${server.address().port}`;
      resolve(service);
    });
  });
}

const sumOf = (body) => String(APPLY.sum(...body.split(' ').map(Number)));

// A calculator whose sum service is the given one; the other three are fakes.
async function calculatorWithSum(sum, env = {}) {
  const others = {};
  for (const name of ['sub', 'mul', 'div']) {
    const fake = await startFakeOperation(APPLY[name]);
    servers.push(fake);
    others[name] = fake.url;
  }
  return startCalculator({ ...urlEnv({ ...others, sum: sum.url }), ...env });
}

describe('the answers of an operation service, however framed', () => {
  const framings = {
    'Content-Length': (text) => `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
    'chunked, in two chunks': (text) =>
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n${text[0]}\r\n${(text.length - 1).toString(16)}\r\n${text.slice(1)}\r\n0\r\n\r\n`,
    'after a 100 Continue': (text) =>
      `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
  };
  for (const [name, frame] of Object.entries(framings)) {
    test(`${name}: right results, one kept-alive connection for calls one after the other`, async () => {
      const sum = await rawService((body) => frame(`${sumOf(body)}\r\n`));
      const calc = await calculatorWithSum(sum);
      for (const [expression, expected] of [['1+2', 3], ['40+2', 42], ['1+2+3+4', 10]]) {
        assert.equal((await request(calc.url, expression)).body, `result = ${expected}\r\n\r\n`, expression);
      }
      assert.equal(sum.connections, 1);
    });
  }

  test('no length, the end of the answer is the close (HTTP/1.0): right results, a connection per call', async () => {
    const sum = await rawService((body, socket) => {
      socket.end(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n${sumOf(body)}\r\n`);
    });
    const calc = await calculatorWithSum(sum);
    assert.equal((await request(calc.url, '1+2+3')).body, 'result = 6\r\n\r\n');
    assert.equal(sum.connections, 2);
  });
});

describe('connections the operation service closes', () => {
  test('"Connection: close" answers: the connection is not reused', async () => {
    const sum = await rawService((body) => `HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\n${sumOf(body)}\r\n`);
    const calc = await calculatorWithSum(sum);
    assert.equal((await request(calc.url, '1+2+3')).body, 'result = 6\r\n\r\n');
    assert.equal(sum.connections, 2);
  });

  test('a kept-alive connection closed by the service between calls: the next call goes out on a new one', async () => {
    // The service closes its side a moment after each answer, without saying so in the answer.
    const sum = await rawService((body, socket) => {
      setTimeout(() => socket.destroy(), 20);
      return `HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n${sumOf(body)}\r\n`;
    });
    const calc = await calculatorWithSum(sum);
    for (let n = 0; n < 3; n += 1) {
      assert.equal((await request(calc.url, '1+2')).body, 'result = 3\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    assert.equal(sum.connections, 3);
  });

  test('a kept-alive connection the service drops instead of answering: asked once more on a new connection', async () => {
    // The first call on each connection is answered, the second is dropped unanswered.
    const sum = await rawService((body, socket) => {
      socket.calls = (socket.calls || 0) + 1;
      if (socket.calls > 1) {
        socket.destroy();
        return null;
      }
      return `HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n${sumOf(body)}\r\n`;
    });
    const calc = await calculatorWithSum(sum);
    assert.equal((await request(calc.url, '1+2')).body, 'result = 3\r\n\r\n');
    assert.equal((await request(calc.url, '2+2')).body, 'result = 4\r\n\r\n');
    assert.deepEqual(sum.bodies, ['1 2', '2 2', '2 2']);
  });

  test('a fresh connection closed with no answer -> 502, not asked again', async () => {
    const sum = await rawService((body, socket) => {
      socket.destroy();
      return null;
    });
    const calc = await calculatorWithSum(sum);
    const res = await request(calc.url, '1+2');
    assert.equal(res.status, 502);
    assert.match(res.body, /^error: sum service at http:\/\/127\.0\.0\.1:\d+ unreachable: /);
    assert.deepEqual(sum.bodies, ['1 2']);
  });
});

describe('answers the calculator refuses', () => {
  const cases = {
    'a body over 4096 bytes': [
      () => `HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${'1'.repeat(5000)}`,
      'sent an answer larger than 4096 bytes',
    ],
    'chunks over 4096 bytes': [
      () => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'1000\r\n'}${'1'.repeat(4096)}\r\n1\r\n1\r\n0\r\n\r\n`,
      'sent an answer larger than 4096 bytes',
    ],
    'a header that never ends': [() => `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(9000)}`, 'sent a header larger than 8192 bytes'],
    'something that is not HTTP': [() => 'hello\r\n\r\n', 'sent an answer that is not HTTP: "hello"'],
    'a malformed Content-Length': [() => 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n3\r\n', 'sent a malformed Content-Length'],
  };
  for (const [name, [reply, message]] of Object.entries(cases)) {
    test(`${name} -> 502 "${message}", and the next call is served`, async () => {
      let bad = true;
      const sum = await rawService((body) => {
        if (!bad) return `HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n${sumOf(body)}\r\n`;
        bad = false;
        return reply();
      });
      const calc = await calculatorWithSum(sum);
      const res = await request(calc.url, '1+2');
      assert.equal(res.status, 502);
      assert.equal(res.body, `error: sum service at ${sum.url} ${message}\r\n`);
      assert.equal((await request(calc.url, '1+2')).body, 'result = 3\r\n\r\n');
    });
  }
});

describe('more calls than connections', () => {
  test('100 concurrent calls to one service: 64 connections at the most, the others wait for one', async () => {
    // The service holds its answers until the test lets it answer, so the calls pile up however slow the machine.
    let held = [];
    const ok = (body) => `HTTP/1.1 200 OK\r\nContent-Length: ${sumOf(body).length + 2}\r\n\r\n${sumOf(body)}\r\n`;
    const sum = await rawService((body, socket) => {
      if (!held) return ok(body);
      held.push(() => socket.write(ok(body)));
      return null;
    });
    const calc = await calculatorWithSum(sum, { VIRTLAB_OPERATION_TIMEOUT_MS: '9000' });
    const replies = Promise.all(
      Array.from({ length: 100 }, (_, n) => request(calc.url, `${n}+1`, { timeoutMs: 15000 })),
    );
    const deadline = Date.now() + 8000;
    while (held.length < 64 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 300)); // time for a 65th connection, were there one
    assert.equal(held.length, 64);
    assert.equal(sum.connections, 64);
    const answers = held;
    held = null;
    for (const answer of answers) answer();
    (await replies).forEach((res, n) => assert.equal(res.body, `result = ${n + 1}\r\n\r\n`));
    assert.equal(sum.connections, 64); // the waiting calls went out on the same connections
  });
});
