'use strict';
// Shared helpers for the calculator service tests: start the real services as child
// processes on 127.0.0.1 with ephemeral ports, talk HTTP to them, clean them up.
// Only loopback addresses are ever used.

const { spawn } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const FILES = path.resolve(__dirname, '..', '..', 'roles', 'calculator', 'files');
const OPERATION_JS = path.join(FILES, 'operation.js');
const CALCULATOR_JS = path.join(FILES, 'calculator.js');
const SERVICE_COMMON_JS = path.join(FILES, 'service_common.js'); // required by both
const HOST = '127.0.0.1';

const children = new Set();

// Environment for a child: nothing VIRTLAB_* inherited from the caller's shell.
function childEnv(env) {
  const base = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VIRTLAB_')) base[key] = value;
  }
  return { ...base, ...env };
}

// Starts a service and resolves once it logs "listening on http://127.0.0.1:<port>".
function startService(script, env, { timeoutMs = 5000 } = {}) {
  const child = spawn(process.execPath, [script], {
    env: childEnv({ VIRTLAB_LISTEN_HOST: HOST, VIRTLAB_LISTEN_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const service = { child, stdout: '', stderr: '', exit: null };
  service.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      service.exit = { code, signal };
      resolve(service.exit);
    });
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    service.stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop(service);
      reject(new Error(`${path.basename(script)} did not start in ${timeoutMs} ms: ${service.stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => {
      service.stdout += chunk;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(service.stdout);
      if (match && !service.url) {
        clearTimeout(timer);
        service.port = Number(match[1]);
        service.url = `http://${HOST}:${service.port}`;
        resolve(service);
      }
    });
    service.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!service.url) reject(new Error(`${path.basename(script)} exited (${code ?? signal}): ${service.stderr}`));
    });
  });
}

function startOperation(operation, env = {}) {
  return startService(OPERATION_JS, { VIRTLAB_OPERATION: operation, ...env });
}

// Starts the four operation services; resolves to {sum, sub, mul, div} and the URL env.
async function startOperations(env = {}) {
  const names = ['sum', 'sub', 'mul', 'div'];
  const started = await Promise.all(names.map((name) => startOperation(name, env)));
  const services = Object.fromEntries(names.map((name, index) => [name, started[index]]));
  return { services, urls: urlEnv(Object.fromEntries(names.map((name) => [name, services[name].url]))) };
}

function urlEnv({ sum, sub, mul, div }) {
  return { VIRTLAB_SUM_URL: sum, VIRTLAB_SUB_URL: sub, VIRTLAB_MUL_URL: mul, VIRTLAB_DIV_URL: div };
}

function startCalculator(env) {
  return startService(CALCULATOR_JS, env);
}

// Runs a script that is expected to exit on its own (configuration errors).
function runToExit(script, env, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function stop(service) {
  if (!service || service.exit) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 3000);
  await service.exited;
  clearTimeout(timer);
}

async function stopAll() {
  const pending = [...children].map(
    (child) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  );
  await Promise.all(pending);
}

// Last resort if a test file dies before its after() hook.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// One HTTP request on a fresh connection; resolves to {status, headers, body, ms}.
function request(url, body, { method = 'POST', headers = {}, timeoutMs = 5000, path: reqPath = '/' } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const target = new URL(reqPath, url);
    const req = http.request(target, { method, agent: false, headers });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

// A port on 127.0.0.1 where nothing listens (it was free a moment ago).
function closedPort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// A test-only stand-in for an operation service, speaking the protocol after a
// delay (or never answering when delayMs is Infinity). It records the bodies it
// receives and the highest number of requests it had in flight at once.
function startFakeOperation(apply, { delayMs = 0 } = {}) {
  const fake = { bodies: [], inFlight: 0, maxInFlight: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      fake.bodies.push(body);
      fake.inFlight += 1;
      fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
      if (delayMs === Infinity) return; // never answers
      setTimeout(() => {
        fake.inFlight -= 1;
        const [a, b] = body.split(' ').map(Number);
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`${apply(a, b)}\r\n`);
      }, delayMs);
    });
  });
  fake.server = server;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, HOST, () => {
      fake.url = `http://${HOST}:${server.address().port}`;
      resolve(fake);
    });
  });
}

// The lab's original operation services, as the protocol reference describes their
// code: the body split at single spaces, parseFloat of the first two parts, and the
// reply 200 with String(result) + "\r\n" (NaN, Infinity and -Infinity included).
// Used as the model our operation services are compared with, and by the test double
// of an original service below.
function originalAnswer(operation, body) {
  const parts = body.split(' ');
  return `${String(APPLY[operation](parseFloat(parts[0]), parseFloat(parts[1])))}\r\n`;
}

// A test double of one original operation service (see originalAnswer), replying as
// the original did, with Transfer-Encoding: chunked. answer(body) may replace the
// reply body. It records the bodies it receives.
function startOriginalOperation(operation, { answer } = {}) {
  const fake = { bodies: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      fake.bodies.push(body);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write(answer ? answer(body) : originalAnswer(operation, body)); // no Content-Length: chunked
      res.end();
    });
  });
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, HOST, () => {
      fake.url = `http://${HOST}:${server.address().port}`;
      resolve(fake);
    });
  });
}

const APPLY = {
  sum: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

module.exports = {
  APPLY,
  CALCULATOR_JS,
  HOST,
  OPERATION_JS,
  SERVICE_COMMON_JS,
  closedPort,
  originalAnswer,
  request,
  runToExit,
  startCalculator,
  startFakeOperation,
  startOperation,
  startOriginalOperation,
  startOperations,
  stop,
  stopAll,
  urlEnv,
};
