'use strict';
/*
 * operation.js - one operation service of the tier-2 calculator application.
 *
 * The same program runs as the sum, sub, mul and div services; VIRTLAB_OPERATION
 * chooses which one. Protocol (any method, any path): the request body is two
 * numbers separated by a space, e.g. "6 3"; the reply is 200, Content-Type
 * text/plain, body "<result>\r\n" with JavaScript number formatting ("9", "2.5",
 * "1e+21"). Errors are 4xx, text/plain, body "error: <message>\r\n":
 *   400  the body is not two finite decimal numbers
 *   413  the body is larger than VIRTLAB_MAX_BODY_BYTES (the rest is not read)
 *   422  division by zero (div only): "error: division by zero\r\n"
 * A result that overflows is answered as the protocol always did ("Infinity\r\n");
 * non-finite operands are refused, so NaN is never produced.
 *
 * Environment:
 *   VIRTLAB_OPERATION           sum | sub | mul | div (required; exit code 2 if missing/invalid)
 *   VIRTLAB_LISTEN_HOST         address to listen on (default 0.0.0.0)
 *   VIRTLAB_LISTEN_PORT         port (default sum 50001, sub 50002, mul 50003, div 50004;
 *                               0 picks a free port, reported in the "listening on" log line)
 *   VIRTLAB_MAX_BODY_BYTES      largest accepted request body (default 4096)
 *   VIRTLAB_REQUEST_TIMEOUT_MS  time a client has to send its whole request (default 10000)
 *
 * Logs one line per request to stdout (method, path, status, duration). SIGTERM or
 * SIGINT: stop accepting, finish the requests in flight, exit 0.
 */

const http = require('node:http');

const OPERATIONS = {
  sum: { port: 50001, apply: (a, b) => a + b },
  sub: { port: 50002, apply: (a, b) => a - b },
  mul: { port: 50003, apply: (a, b) => a * b },
  div: {
    port: 50004,
    apply: (a, b) => {
      if (b === 0) throw new HttpError(422, 'division by zero');
      return a / b;
    },
  },
};

// A finite decimal number as JavaScript prints it or a person writes it: 6, -3, 2.5, .5, 1e+21.
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SHUTDOWN_GRACE_MS = 5000;

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------- configuration

function configError(message) {
  process.stderr.write(`operation: configuration error: ${message}\n`);
  process.exit(2);
}

function envString(name, fallback) {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' ? fallback : raw.trim();
}

function envInteger(name, fallback, min, max) {
  const raw = envString(name, undefined);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    configError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function loadConfig() {
  const operation = envString('VIRTLAB_OPERATION', undefined);
  if (operation === undefined) {
    configError(`VIRTLAB_OPERATION is not set; set it to one of: ${Object.keys(OPERATIONS).join(', ')}`);
  }
  if (!Object.prototype.hasOwnProperty.call(OPERATIONS, operation)) {
    configError(
      `VIRTLAB_OPERATION must be one of: ${Object.keys(OPERATIONS).join(', ')}; got ${JSON.stringify(operation)}`,
    );
  }
  return {
    operation,
    host: envString('VIRTLAB_LISTEN_HOST', '0.0.0.0'),
    port: envInteger('VIRTLAB_LISTEN_PORT', OPERATIONS[operation].port, 0, 65535),
    maxBodyBytes: envInteger('VIRTLAB_MAX_BODY_BYTES', 4096, 1, 1048576),
    requestTimeoutMs: envInteger('VIRTLAB_REQUEST_TIMEOUT_MS', 10000, 1, 3600000),
  };
}

const config = loadConfig();
const NAME = config.operation;
const apply = OPERATIONS[config.operation].apply;

// ---------------------------------------------------------------- helpers

let closing = false; // set on SIGTERM/SIGINT

function log(line) {
  process.stdout.write(`${new Date().toISOString()} ${NAME} ${line}\n`);
}

function quote(text, max = 40) {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}

function send(res, status, text, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(text, 'utf8');
  const connection = closing ? { Connection: 'close' } : {}; // let server.close() finish
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': body.length, ...headers, ...connection });
  res.end(body);
}

function declaredTooLarge(req) {
  const declared = req.headers['content-length'];
  return declared !== undefined && Number(declared) > config.maxBodyBytes;
}

// Reads the request body; rejects with a 413 as soon as it exceeds the limit and
// stops reading (the 413 answer closes the connection).
function readBody(req) {
  return new Promise((resolve, reject) => {
    if (declaredTooLarge(req)) {
      req.pause();
      reject(new HttpError(413, `request body larger than ${config.maxBodyBytes} bytes`));
      return;
    }
    const chunks = [];
    let size = 0;
    let done = false;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      req.removeListener('data', onData);
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk) => {
      size += chunk.length;
      if (size > config.maxBodyBytes) {
        req.pause();
        finish(new HttpError(413, `request body larger than ${config.maxBodyBytes} bytes`));
      } else {
        chunks.push(chunk);
      }
    };
    req.on('data', onData);
    req.on('end', () => finish(null, Buffer.concat(chunks)));
    req.on('error', () => finish(new HttpError(499, 'client closed the connection')));
    req.on('close', () => finish(new HttpError(499, 'client closed the connection')));
  });
}

function parseOperands(text) {
  const trimmed = text.trim();
  if (trimmed === '') {
    throw new HttpError(400, 'empty body, expected two numbers separated by one space, e.g. "6 3"');
  }
  const parts = trimmed.split(/\s+/);
  if (parts.length !== 2) {
    throw new HttpError(400, `expected two numbers separated by one space, e.g. "6 3", got ${quote(trimmed)}`);
  }
  return parts.map((part) => {
    if (!NUMBER.test(part)) throw new HttpError(400, `operand ${quote(part)} is not a number`);
    const value = Number(part);
    if (!Number.isFinite(value)) throw new HttpError(400, `operand ${quote(part)} is out of range`);
    return value;
  });
}

// ---------------------------------------------------------------- server

async function handle(req, res) {
  const started = process.hrtime.bigint();
  res.on('close', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const status = res.writableFinished
      ? res.statusCode
      : `${res.headersSent ? res.statusCode : '-'} (client closed the connection)`;
    const path = (req.url || '').split('?')[0].slice(0, 100);
    log(`${req.method} ${path} ${status} ${ms.toFixed(1)}ms`);
  });
  req.on('error', () => {});
  res.on('error', () => {});

  try {
    const body = await readBody(req);
    const [a, b] = parseOperands(body.toString('utf8'));
    send(res, 200, `${String(apply(a, b))}\r\n`);
  } catch (err) {
    if (err instanceof HttpError) {
      if (err.status === 499) return; // the client is gone: nobody to answer
      send(res, err.status, `error: ${err.message}\r\n`, err.status === 413 ? { Connection: 'close' } : {});
    } else if (!res.destroyed) {
      log(`internal error: ${err && err.message}`);
      send(res, 500, 'error: internal error\r\n', { Connection: 'close' });
    }
  }
}

const server = http.createServer({
  requestTimeout: config.requestTimeoutMs,
  headersTimeout: Math.min(60000, config.requestTimeoutMs),
  // How often Node checks the two timeouts above (its default is every 30 s).
  connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.requestTimeoutMs / 4))),
});
server.on('request', handle);
// Answer "Expect: 100-continue" with a 413 right away when the declared body is too large.
server.on('checkContinue', (req, res) => {
  if (!declaredTooLarge(req)) res.writeContinue();
  handle(req, res);
});
server.on('error', (err) => {
  process.stderr.write(`${NAME}: cannot listen on ${config.host}:${config.port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const { address, port } = server.address();
  const shown = address.includes(':') ? `[${address}]` : address;
  log(`listening on http://${shown}:${port}`);
});

function shutdown(signal) {
  if (closing) return;
  closing = true;
  log(`${signal} received, shutting down`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, SHUTDOWN_GRACE_MS).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.stdout.on('error', () => {});
