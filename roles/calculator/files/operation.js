'use strict';
/*
 * operation.js - one operation service of the tier-2 calculator application.
 *
 * The same program runs as the sum, sub, mul and div services; VIRTLAB_OPERATION
 * chooses which one. Protocol (any method, any path): the request body is two
 * numbers separated by one space, e.g. "6 3"; the reply is 200, Content-Type
 * text/plain, body "<result>\r\n" with JavaScript number formatting ("9", "2.5",
 * "1e+21", "Infinity", "-Infinity", "NaN").
 *
 * Every body is read exactly as the lab's original operation services read it: split
 * at single spaces, parseFloat of the first two parts, String(result) + "\r\n". So
 * "1 0" to div answers "Infinity\r\n", "0 0" answers "NaN\r\n", "NaN 2" to sum
 * answers "NaN\r\n", and an overflow answers "Infinity\r\n", all with status 200.
 * The original calculator treats any status >= 300 from an operation service as fatal
 * (it exits), so nothing that the original services answered is refused here. What
 * the original services could not survive either is still refused:
 *   413  the body is larger than VIRTLAB_MAX_BODY_BYTES (the rest is not read):
 *        "error: request body larger than <n> bytes\r\n"
 *   408  (or the connection is closed) the client did not send its whole request
 *        within VIRTLAB_REQUEST_TIMEOUT_MS
 * Our calculator (calculator.js) never sends a non-finite operand and turns a NaN or
 * Infinity answer into a 422 for its own clients.
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

const { configReader, createService } = require('./service_common');

const OPERATIONS = {
  sum: { port: 50001, apply: (a, b) => a + b },
  sub: { port: 50002, apply: (a, b) => a - b },
  mul: { port: 50003, apply: (a, b) => a * b },
  div: { port: 50004, apply: (a, b) => a / b },
};

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

// The operands as the original services read them: the body split at single spaces,
// parseFloat of the first two parts (a missing part or junk is NaN, "Infinity" is Infinity).
function parseOperands(text) {
  const parts = text.split(' ');
  return [parseFloat(parts[0]), parseFloat(parts[1])];
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
