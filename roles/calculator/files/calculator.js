'use strict';
/*
 * calculator.js - the calculator service of the tier-2 calculator application.
 *
 * Protocol (any method, any path): the request body is an arithmetic expression,
 * e.g. "(5+6)*2"; the reply is 200, Content-Type text/plain, body
 * "result = <value>\r\n\r\n" (the value line keeps the operation service's CRLF,
 * as the original did: "result = 22\r\n\r\n"). An expression that needs no
 * operation (a bare number, also in parentheses) answers the number as it was typed,
 * with one CRLF, as the original did: "5" -> "result = 5\r\n", "2.50" ->
 * "result = 2.50\r\n".
 *
 * Expressions: numbers (decimals and exponent notation: 2.5, .5, 1e3, 2E-3),
 * + - * / with the usual precedence, left associative, parentheses, unary minus
 * and plus, whitespace anywhere between tokens. At most 200 tokens and 50 levels
 * of parentheses.
 *
 * Every binary operator is evaluated by one HTTP call to the matching operation
 * service (sum, sub, mul, div; body "a b", reply "<number>\r\n"; the original
 * operation services and ours answer NaN and Infinity as numbers, with status 200,
 * and this calculator turns such an answer into a 422 for its client). Unary minus is
 * evaluated through the sub service as "0 x" too, so that every arithmetic operation
 * is a service call (unary plus is no operation and costs no call). Independent
 * operands are evaluated concurrently; each service has its own pool of keep-alive connections.
 *
 * Errors, Content-Type text/plain, body "error: <message>\r\n":
 *   400  empty or malformed expression, e.g. "error: unbalanced parenthesis at position 4: ')' has no matching '('"
 *   413  body larger than VIRTLAB_MAX_BODY_BYTES (the rest is not read)
 *   422  "error: division by zero" (the div service answered Infinity or NaN to "a 0"),
 *        "error: result out of range: 1e+308 * 10 = Infinity" (any other Infinity answer),
 *        "error: result is not a number: <a> <op> <b> = NaN (<service> at <url>)",
 *        a number out of range in the expression, an expression over the limits
 *   502  "error: sum service at <url> unreachable: <reason>" (refused, reset, no route...),
 *        or that service gave an answer that is not the protocol's
 *   504  "error: sum service at <url> unreachable: no answer within <n> ms", or the whole
 *        evaluation took longer than VIRTLAB_REQUEST_TIMEOUT_MS
 *
 * Environment:
 *   VIRTLAB_SUM_URL, VIRTLAB_SUB_URL, VIRTLAB_MUL_URL, VIRTLAB_DIV_URL
 *                                 base URLs of the operation services, e.g. http://10.0.3.11:50001
 *                                 (all required; exit code 2 if one is missing or not an http:// URL)
 *   VIRTLAB_LISTEN_HOST           address to listen on (default 0.0.0.0)
 *   VIRTLAB_LISTEN_PORT           port (default 50000; 0 picks a free port, reported in the
 *                                 "listening on" log line)
 *   VIRTLAB_MAX_BODY_BYTES        largest accepted request body (default 4096)
 *   VIRTLAB_OPERATION_TIMEOUT_MS  time allowed for one operation call (default 3000)
 *   VIRTLAB_REQUEST_TIMEOUT_MS    time a client has to send its whole request, and the time
 *                                 allowed for evaluating one expression (default 10000)
 *
 * Logs one line per request to stdout (method, path, status, duration). SIGTERM or
 * SIGINT: stop accepting, finish the requests in flight, exit 0. That plumbing, the
 * reading of the environment and the request body limit are shared with operation.js
 * in service_common.js, deployed next to this file.
 */

const net = require('node:net');
const { HttpError, configReader, quote, createService } = require('./service_common');

const NAME = 'calculator';
const MAX_TOKENS = 200;
const MAX_DEPTH = 50;
const MAX_REPLY_BYTES = 4096; // an operation service's answer is a short number

const SERVICES = [
  { name: 'sum', env: 'VIRTLAB_SUM_URL', symbol: '+' },
  { name: 'sub', env: 'VIRTLAB_SUB_URL', symbol: '-' },
  { name: 'mul', env: 'VIRTLAB_MUL_URL', symbol: '*' },
  { name: 'div', env: 'VIRTLAB_DIV_URL', symbol: '/' },
];
const SERVICE_FOR = { '+': 'sum', '-': 'sub', '*': 'mul', '/': 'div' };

// How a number may be written in an expression, and what an operation service answers.
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NUMBER_SCAN = /[0-9.]+(?:[eE][+-]?[0-9.]*)?/y;
const REPLY_NUMBER = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|-?Infinity|NaN)$/;

// ---------------------------------------------------------------- operation calls

// The calculator's HTTP/1.1 client for the operation services, on keep-alive connections of its own. Node's
// http client costs about as much CPU per call as serving a request does, and every request here makes one
// call per operator: under load the calculator, one thread, is what limits the lab (measured with
// scripts/bench_load.py). This client sends one write per call and reads what the services answer: a status
// line, headers, and a body sized by Content-Length, chunked (the original services), or ended by the close.
const MAX_HEAD_BYTES = 8192;
const MAX_SOCKETS = 64; // per service; further calls wait for a free connection
// Idle connections are dropped after 4 s, before the services' own 5 s keep-alive timeout can close them under
// a call.
const IDLE_TIMEOUT_MS = 4000;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})/;

// The answer's body so far, per framing; null until the whole body is there.
const FRAMING = {
  length(call) {
    if (call.rest.length < call.length) return null;
    call.extra = call.rest.length > call.length;
    return call.rest.slice(0, call.length);
  },
  chunked(call) {
    for (;;) {
      const eol = call.rest.indexOf('\r\n');
      if (eol < 0) return call.rest.length > MAX_HEAD_BYTES ? call.fail('sent a malformed chunked answer') : null;
      const size = /^[0-9a-fA-F]+/.exec(call.rest);
      if (!size) return call.fail('sent a malformed chunked answer');
      const length = parseInt(size[0], 16);
      if (length === 0) {
        // The last chunk, then trailers (none, usually) up to an empty line.
        const end = call.rest.startsWith('\r\n', eol + 2) ? eol + 4 : call.rest.indexOf('\r\n\r\n', eol) + 4;
        if (end < 4) return null;
        call.extra = call.rest.length > end;
        return call.body;
      }
      if (call.body.length + length > MAX_REPLY_BYTES) return call.fail(`sent an answer larger than ${MAX_REPLY_BYTES} bytes`);
      if (call.rest.length < eol + 2 + length + 2) return null;
      call.body += call.rest.slice(eol + 2, eol + 2 + length);
      call.rest = call.rest.slice(eol + 2 + length + 2);
    }
  },
  close() {
    return null; // complete when the service closes the connection
  },
};

// Parses the answer's head: false while incomplete, true when parsed (or failed).
function readHead(call) {
  const end = call.rest.indexOf('\r\n\r\n');
  if (end < 0) {
    if (call.rest.length > MAX_HEAD_BYTES) call.fail(`sent a header larger than ${MAX_HEAD_BYTES} bytes`);
    return false;
  }
  const lines = call.rest.slice(0, end).split('\r\n');
  call.rest = call.rest.slice(end + 4);
  const status = STATUS_LINE.exec(lines[0]);
  if (!status) {
    call.fail(`sent an answer that is not HTTP: ${quote(lines[0])}`);
    return true;
  }
  const headers = {};
  for (let i = 1; i < lines.length; i += 1) {
    const colon = lines[i].indexOf(':');
    if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
  }
  call.status = Number(status[2]);
  if (call.status < 200) return readHead(call); // 100 Continue and the like: the answer comes next
  const connection = (headers.connection || '').toLowerCase();
  call.keepAlive = status[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
  if (/chunked/i.test(headers['transfer-encoding'] || '')) {
    call.framing = FRAMING.chunked;
  } else if (call.status === 204 || call.status === 304 || headers['content-length'] !== undefined) {
    call.length = call.status === 204 || call.status === 304 ? 0 : Number(headers['content-length']);
    if (!/^\d+$/.test(headers['content-length'] || '0')) call.fail('sent a malformed Content-Length');
    else if (call.length > MAX_REPLY_BYTES) call.fail(`sent an answer larger than ${MAX_REPLY_BYTES} bytes`);
    call.framing = FRAMING.length;
  } else {
    call.framing = FRAMING.close;
    call.keepAlive = false;
  }
  return true;
}

// The connections to one operation service. call(payload, done) POSTs payload and calls done once, with
// (null, status, body) or ({status, reason}) (a 502 or 504 whose message starts with the service's label);
// it returns a function that abandons the call (its connection is closed).
function createPool(url) {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 address without its brackets
  const port = Number(url.port || 80);
  const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: text/plain\r\nContent-Length: `;
  const idle = []; // the most recently used last: reused first
  const waiting = [];
  const sockets = new Set();

  function connect() {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    socket.call = null;
    socket.used = false;
    sockets.add(socket);
    socket.on('data', (chunk) => {
      if (socket.call) socket.call.data(chunk);
      else socket.destroy(); // nobody asked: the connection is out of step
    });
    socket.on('timeout', () => socket.destroy()); // idle for IDLE_TIMEOUT_MS
    socket.on('error', (err) => {
      socket.error = err; // 'close' follows
    });
    socket.on('close', () => {
      sockets.delete(socket);
      const index = idle.indexOf(socket);
      if (index >= 0) idle.splice(index, 1);
      if (socket.call) socket.call.closed(socket);
      if (waiting.length > 0 && sockets.size < MAX_SOCKETS) assign(waiting.shift(), connect());
    });
    return socket;
  }

  function release(socket) {
    socket.call = null;
    if (waiting.length > 0) {
      assign(waiting.shift(), socket);
    } else {
      idle.push(socket);
      socket.setTimeout(IDLE_TIMEOUT_MS);
    }
  }

  function assign(call, socket) {
    call.socket = socket;
    call.reused = socket.used;
    socket.used = true;
    socket.call = call;
    socket.setTimeout(0);
    socket.write(`${head}${Buffer.byteLength(call.payload)}\r\n\r\n${call.payload}`);
  }

  function call(payload, done) {
    const exchange = {
      payload,
      socket: null,
      settled: false,
      retried: false,
      rest: '', // what came in and is not parsed yet, latin1: one character per byte
      body: '',
      received: false,
      framing: null,
      settle(err, status, body) {
        if (exchange.settled) return;
        exchange.settled = true;
        done(err, status, body);
      },
      fail(reason) {
        if (exchange.socket) {
          exchange.socket.call = null;
          exchange.socket.destroy();
        }
        exchange.settle({ status: 502, reason });
        return null;
      },
      data(chunk) {
        exchange.received = true;
        exchange.rest += chunk.toString('latin1');
        if (!exchange.framing && !readHead(exchange)) return;
        if (exchange.settled) return;
        if (exchange.framing === FRAMING.close && exchange.rest.length > MAX_REPLY_BYTES) {
          exchange.fail(`sent an answer larger than ${MAX_REPLY_BYTES} bytes`);
          return;
        }
        const body = exchange.framing(exchange);
        if (body === null || exchange.settled) return;
        if (exchange.keepAlive && !exchange.extra) release(exchange.socket);
        else {
          exchange.socket.call = null;
          exchange.socket.destroy();
        }
        exchange.settle(null, exchange.status, Buffer.from(body, 'latin1').toString('utf8'));
      },
      closed(socket) {
        if (exchange.framing === FRAMING.close && !socket.error) {
          exchange.settle(null, exchange.status, Buffer.from(exchange.rest, 'latin1').toString('utf8'));
        } else if (!exchange.received && exchange.reused && !exchange.retried) {
          // A kept-alive connection that the service closed just as we reused it: the operations are pure, so
          // asking once more on a fresh connection is safe.
          exchange.retried = true;
          assign(exchange, connect());
        } else if (socket.error) {
          const status = socket.error.code === 'ETIMEDOUT' ? 504 : 502;
          exchange.settle({ status, reason: `unreachable: ${socket.error.message}` });
        } else {
          exchange.settle({
            status: 502,
            reason: `unreachable: connection closed ${exchange.received ? 'mid-answer' : 'before an answer'}`,
          });
        }
      },
    };
    if (idle.length > 0) assign(exchange, idle.pop());
    else if (sockets.size < MAX_SOCKETS) assign(exchange, connect());
    else waiting.push(exchange);
    return () => {
      exchange.settled = true;
      const index = waiting.indexOf(exchange);
      if (index >= 0) waiting.splice(index, 1);
      if (exchange.socket && exchange.socket.call === exchange) {
        exchange.socket.call = null;
        exchange.socket.destroy();
      }
    };
  }

  function destroy() {
    for (const socket of sockets) socket.destroy();
  }

  return { call, destroy };
}

// ---------------------------------------------------------------- configuration

const { configError, envString, envInteger } = configReader(NAME);

function envServiceUrl(name) {
  const raw = envString(name, undefined);
  if (raw === undefined) configError(`${name} is not set; set it to the service's URL, e.g. http://10.0.3.11:50001`);
  let url;
  try {
    url = new URL(raw);
  } catch (err) {
    configError(`${name} is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:') configError(`${name} must be an http:// URL, got ${JSON.stringify(raw)}`);
  if (url.username || url.password) configError(`${name} must not contain credentials`);
  return { raw, url };
}

function loadConfig() {
  const services = {};
  for (const service of SERVICES) {
    const { raw, url } = envServiceUrl(service.env);
    services[service.name] = {
      ...service,
      url,
      label: `${service.name} service at ${raw}`,
      pool: createPool(url),
    };
  }
  return {
    services,
    host: envString('VIRTLAB_LISTEN_HOST', '0.0.0.0'),
    port: envInteger('VIRTLAB_LISTEN_PORT', 50000, 0, 65535),
    maxBodyBytes: envInteger('VIRTLAB_MAX_BODY_BYTES', 4096, 1, 1048576),
    operationTimeoutMs: envInteger('VIRTLAB_OPERATION_TIMEOUT_MS', 3000, 1, 3600000),
    requestTimeoutMs: envInteger('VIRTLAB_REQUEST_TIMEOUT_MS', 10000, 1, 3600000),
  };
}

const config = loadConfig();
const { send, sendError, readBody, logRequest, start } = createService({ name: NAME, config });

// ---------------------------------------------------------------- parsing

function describeChar(text, index) {
  return JSON.stringify(String.fromCodePoint(text.codePointAt(index)));
}

// Positions in messages count characters from 1.
function tokenize(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i += 1;
      continue;
    }
    if (tokens.length >= MAX_TOKENS) {
      throw new HttpError(422, `expression too long: more than ${MAX_TOKENS} tokens`);
    }
    const pos = i + 1;
    if (c === '+' || c === '-' || c === '*' || c === '/' || c === '(' || c === ')') {
      tokens.push({ type: c, pos });
      i += 1;
    } else if ((c >= '0' && c <= '9') || c === '.') {
      NUMBER_SCAN.lastIndex = i;
      const literal = NUMBER_SCAN.exec(text)[0];
      if (!NUMBER.test(literal)) throw new HttpError(400, `malformed number ${quote(literal)} at position ${pos}`);
      const value = Number(literal);
      if (!Number.isFinite(value)) {
        throw new HttpError(422, `number ${quote(literal)} at position ${pos} is out of range`);
      }
      tokens.push({ type: 'number', pos, literal, value });
      i += literal.length;
    } else {
      throw new HttpError(400, `unexpected character ${describeChar(text, i)} at position ${pos}`);
    }
  }
  return tokens;
}

function describeToken(token) {
  return token.type === 'number' ? `number ${token.literal}` : `'${token.type}'`;
}

// Recursive descent:
//   expression := term (('+' | '-') term)*        left associative
//   term       := unary (('*' | '/') unary)*       left associative
//   unary      := ('-' | '+') unary | primary
//   primary    := number | '(' expression ')'
// The tree's nodes: {kind: 'number', value, literal}, {kind: 'negate', operand},
// {kind: 'binary', service, left, right}.
function parse(tokens) {
  if (tokens.length === 0) throw new HttpError(400, 'empty expression');
  let i = 0;
  let depth = 0;

  const unexpected = (token, expected) =>
    new HttpError(400, `unexpected ${describeToken(token)} at position ${token.pos}, expected ${expected}`);

  function expression() {
    let left = term();
    while (i < tokens.length && (tokens[i].type === '+' || tokens[i].type === '-')) {
      const operator = tokens[i++];
      left = { kind: 'binary', service: SERVICE_FOR[operator.type], left, right: term() };
    }
    return left;
  }

  function term() {
    let left = unary();
    while (i < tokens.length && (tokens[i].type === '*' || tokens[i].type === '/')) {
      const operator = tokens[i++];
      left = { kind: 'binary', service: SERVICE_FOR[operator.type], left, right: unary() };
    }
    return left;
  }

  function unary() {
    const token = tokens[i];
    if (token && token.type === '-') {
      i += 1;
      return { kind: 'negate', operand: unary() };
    }
    if (token && token.type === '+') {
      i += 1;
      return unary();
    }
    return primary();
  }

  function primary() {
    const token = tokens[i];
    if (!token) throw new HttpError(400, "unexpected end of expression, expected a number or '('");
    if (token.type === 'number') {
      i += 1;
      return { kind: 'number', value: token.value, literal: token.literal };
    }
    if (token.type === '(') {
      if (depth >= MAX_DEPTH) {
        throw new HttpError(422, `parentheses nested deeper than ${MAX_DEPTH} levels at position ${token.pos}`);
      }
      depth += 1;
      i += 1;
      const inner = expression();
      const close = tokens[i];
      if (!close) throw new HttpError(400, `unbalanced parenthesis at position ${token.pos}: '(' is never closed`);
      if (close.type !== ')') throw unexpected(close, "an operator or ')'");
      i += 1;
      depth -= 1;
      return inner;
    }
    throw unexpected(token, "a number or '('");
  }

  const tree = expression();
  if (i < tokens.length) {
    const token = tokens[i];
    if (token.type === ')') {
      throw new HttpError(400, `unbalanced parenthesis at position ${token.pos}: ')' has no matching '('`);
    }
    throw unexpected(token, 'an operator');
  }
  return tree;
}

// ---------------------------------------------------------------- evaluation

// Per-request evaluation context: the first failure cancels every call in flight.
function createContext() {
  const cancels = new Set();
  const ctx = {
    failure: null,
    cancels,
    fail(err) {
      if (ctx.failure) return;
      ctx.failure = err;
      for (const cancel of [...cancels]) cancel();
    },
  };
  return ctx;
}

function messageOf(body) {
  const line = body.trim().split(/\r?\n/)[0] || '';
  return line.replace(/^error:\s*/, '').slice(0, 200) || '(empty answer)';
}

// One operation: "a b" POSTed to the service; resolves to the number it answers.
function callService(ctx, name, a, b) {
  const service = config.services[name];
  const payload = `${String(a)} ${String(b)}`;
  const timeoutMs = config.operationTimeoutMs;

  return new Promise((resolve, reject) => {
    if (ctx.failure) {
      reject(ctx.failure);
      return;
    }
    let settled = false;
    let abandon = null;
    const settle = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.cancels.delete(cancel);
      if (err) reject(err);
      else resolve(value);
    };
    const abort = (err) => {
      if (abandon) abandon();
      settle(err);
    };
    const cancel = () => abort(ctx.failure);
    const timer = setTimeout(
      () => abort(new HttpError(504, `${service.label} unreachable: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    ctx.cancels.add(cancel);

    const onAnswer = (failure, status, body) => {
      if (failure) {
        settle(new HttpError(failure.status, `${service.label} ${failure.reason}`));
      } else if (status === 200) {
        const text = body.trim();
        if (!REPLY_NUMBER.test(text)) {
          settle(new HttpError(502, `${service.label} sent an answer that is not a number: ${quote(text)}`));
          return;
        }
        const value = Number(text);
        // Our operands are always finite, so NaN or Infinity comes from the operation
        // itself: a zero divisor, an overflow, or a service that computes nonsense.
        const shown = `${payload.replace(' ', ` ${service.symbol} `)} = ${text}`;
        if (Number.isFinite(value)) settle(null, value);
        else if (name === 'div' && b === 0) settle(new HttpError(422, 'division by zero'));
        else if (Number.isNaN(value)) settle(new HttpError(422, `result is not a number: ${shown} (${service.label})`));
        else settle(new HttpError(422, `result out of range: ${shown}`));
      } else if (status === 422) {
        // The operation refused its operands (older operation services answered
        // "error: division by zero" so): the user's problem.
        settle(new HttpError(422, messageOf(body)));
      } else {
        settle(new HttpError(502, `${service.label} answered HTTP ${status}: ${messageOf(body)}`));
      }
    };
    abandon = service.pool.call(payload, onAnswer);
  });
}

async function evaluate(node, ctx) {
  switch (node.kind) {
    case 'number':
      return node.value;
    case 'negate':
      return callService(ctx, 'sub', 0, await evaluate(node.operand, ctx));
    case 'binary': {
      const [a, b] = await Promise.all([evaluate(node.left, ctx), evaluate(node.right, ctx)]);
      return callService(ctx, node.service, a, b);
    }
    default:
      throw new Error(`unknown node ${node.kind}`);
  }
}

// ---------------------------------------------------------------- server

async function handle(req, res) {
  logRequest(req, res);
  const ctx = createContext();
  let deadline = null;
  res.on('close', () => {
    clearTimeout(deadline);
    if (!res.writableFinished) ctx.fail(new HttpError(499, 'client closed the connection'));
  });

  try {
    const body = await readBody(req);
    const tree = parse(tokenize(body.toString('utf8')));
    if (tree.kind === 'number') {
      // No operation: the original echoed the literal, with no operation service's CRLF.
      send(res, 200, `result = ${tree.literal}\r\n`);
      return;
    }
    deadline = setTimeout(
      () => ctx.fail(new HttpError(504, `evaluation took longer than ${config.requestTimeoutMs} ms`)),
      config.requestTimeoutMs,
    );
    const value = await evaluate(tree, ctx);
    send(res, 200, `result = ${String(value)}\r\n\r\n`);
  } catch (err) {
    ctx.fail(err); // cancel the calls still in flight for this request
    sendError(res, ctx.failure instanceof HttpError ? ctx.failure : err);
  } finally {
    clearTimeout(deadline);
  }
}

start(handle, {
  listeningDetail: SERVICES.map((s) => config.services[s.name].label).join(', '),
  onExit: () => {
    for (const service of Object.values(config.services)) service.pool.destroy();
  },
});

