'use strict';
/*
 * service_common.js - what the calculator service (calculator.js) and the operation
 * services (operation.js) of the tier-2 calculator application have in common:
 * reading VIRTLAB_* settings from the environment, the request body limit, the
 * text/plain answers and "error: <message>\r\n" bodies, the per-request log line, and
 * the server's lifecycle (listen; on SIGTERM or SIGINT stop accepting, finish the
 * requests in flight, exit 0). It is deployed next to both programs, which load it
 * with require('./service_common'). No dependencies beyond Node.js itself.
 */

const http = require('node:http');

const SHUTDOWN_GRACE_MS = 5000;

// A failure answered to the client with this status and body "error: <message>\r\n".
class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------- configuration

// Readers of the environment for one program. A bad setting is reported on stderr as
// "<program>: configuration error: <message>" and ends the process with exit code 2.
function configReader(program) {
  function configError(message) {
    process.stderr.write(`${program}: configuration error: ${message}\n`);
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

  return { configError, envString, envInteger };
}

// ---------------------------------------------------------------- helpers

// Text for an error message: JSON-quoted, cut after max characters.
function quote(text, max = 40) {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
}

// ---------------------------------------------------------------- server

// The HTTP side of one service process. name starts its log lines and its "cannot
// listen" error; config gives host, port, maxBodyBytes and requestTimeoutMs.
function createService({ name, config }) {
  let closing = false; // set on SIGTERM/SIGINT

  // A turn of the event loop's log lines go out in one write: on Linux a write to a pipe (journald's) or a file
  // is a synchronous system call, and under load one per request is a blocking call per request.
  let pending = [];
  function flushLog() {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  }
  function log(line) {
    if (pending.length === 0) setImmediate(flushLog);
    pending.push(`${new Date().toISOString()} ${name} ${line}\n`);
  }

  function send(res, status, text, headers = {}) {
    if (res.headersSent || res.destroyed) return;
    const connection = closing ? { Connection: 'close' } : {}; // let server.close() finish
    const length = Buffer.byteLength(text, 'utf8');
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': length, ...headers, ...connection });
    res.end(text); // a string, not a Buffer: Node sends it in one write with the head
  }

  // Answers a failed request: an HttpError with its status and message (nothing when
  // the client is gone), anything else as a logged 500.
  function sendError(res, err) {
    if (err instanceof HttpError) {
      if (err.status === 499) return; // the client is gone: nobody to answer
      send(res, err.status, `error: ${err.message}\r\n`, err.status === 413 ? { Connection: 'close' } : {});
    } else if (!res.destroyed) {
      log(`internal error: ${err && err.message}`);
      send(res, 500, 'error: internal error\r\n', { Connection: 'close' });
    }
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
      // 'close' comes after every request, read or not: the error (and its stack trace, a cost under load) is
      // made only when the body was not read.
      const gone = () => {
        if (!done) finish(new HttpError(499, 'client closed the connection'));
      };
      req.on('error', gone);
      req.on('close', gone);
    });
  }

  // Logs one line when the exchange ends (method, path, status, duration), and keeps
  // an error on either side of the connection from ending the process.
  function logRequest(req, res) {
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
  }

  // Listens and serves every request with handle(req, res) until SIGTERM or SIGINT.
  // listeningDetail, if given, ends the "listening on" log line after "; ".
  // onExit, if given, runs just before the process exits 0 after a shutdown.
  function start(handle, { listeningDetail, onExit } = {}) {
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
      process.stderr.write(`${name}: cannot listen on ${config.host}:${config.port}: ${err.message}\n`);
      process.exit(1);
    });
    server.listen(config.port, config.host, () => {
      const { address, port } = server.address();
      const shown = address.includes(':') ? `[${address}]` : address;
      const detail = listeningDetail === undefined ? '' : `; ${listeningDetail}`;
      log(`listening on http://${shown}:${port}${detail}`);
    });

    function shutdown(signal) {
      if (closing) return;
      closing = true;
      log(`${signal} received, shutting down`);
      const exit = () => {
        if (onExit) onExit();
        flushLog();
        process.exit(0);
      };
      server.close(exit);
      server.closeIdleConnections();
      setTimeout(() => {
        server.closeAllConnections();
        exit();
      }, SHUTDOWN_GRACE_MS).unref();
    }

    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.stdout.on('error', () => {});
  }

  return { send, sendError, readBody, logRequest, start };
}

module.exports = { HttpError, configReader, quote, createService };
