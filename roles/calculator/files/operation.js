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
 * SIGINT: stop accepting, finish the requests in flight, exit 0. That plumbing, the
 * reading of the environment and the request body limit are shared with calculator.js
 * in service_common.js, deployed next to this file.
 */

const { HttpError, configReader, quote, createService } = require('./service_common');

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

// ---------------------------------------------------------------- configuration

const { configError, envString, envInteger } = configReader('operation');

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
const { send, sendError, readBody, logRequest, start } = createService({ name: config.operation, config });
const apply = OPERATIONS[config.operation].apply;

// ---------------------------------------------------------------- operands

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
  logRequest(req, res);
  try {
    const body = await readBody(req);
    const [a, b] = parseOperands(body.toString('utf8'));
    send(res, 200, `${String(apply(a, b))}\r\n`);
  } catch (err) {
    sendError(res, err);
  }
}

start(handle);
