'use strict';
// Compatibility with the lab's original calculator, both ways.
//
// 1. The original calculator in front of our operation services. It calls them with a
//    synchronous HTTP client (sync-request) and reads each answer with getBody(), which
//    throws on any status >= 300; nothing catches it, so the process exits and its
//    user gets a closed connection. It sends NaN operands for what it parses badly
//    (-1+2, 2*-3, 1e-3+1), Infinity after an overflow, a zero divisor for 1/0 and 0/0.
//    Our services must answer all of it with 200 and the number, as the original
//    services did; here any status >= 300 fails the test.
// 2. Our calculator in front of operation services that behave like the originals
//    (they answer NaN and Infinity with 200): its own clients get a clear 422.

const assert = require('node:assert/strict');
const http = require('node:http');
const { after, before, describe, test } = require('node:test');
const {
  APPLY,
  originalAnswer,
  request,
  startCalculator,
  startOperations,
  startOriginalOperation,
  stopAll,
  urlEnv,
} = require('./helpers');

const OPERATIONS = Object.keys(APPLY);
const fakes = [];
let ops;

before(async () => {
  ({ services: ops } = await startOperations());
});

after(async () => {
  await stopAll();
  await Promise.all(fakes.map((fake) => fake.close()));
});

// ---------------------------------------------------------------- 1. the original calculator as client

// One operation call as the original calculator makes it: POST "a b", then getBody(),
// which throws (and ends the original calculator) on any status >= 300.
async function originalGetBody(operation, body) {
  const res = await request(ops[operation].url, body);
  if (res.status >= 300) {
    assert.fail(
      `the original calculator would exit here: ${operation} answered ${res.status} ` +
        `${JSON.stringify(res.body)} to ${JSON.stringify(body)}`,
    );
  }
  return res;
}

// The original calculator evaluating one expression: each step is one call
// [operation, a, b], where an operand is a literal or {step: n}, the number that step
// n answered (the original reads it back with parseFloat and sends String(value)).
// Its reply to its user keeps the last answer's CRLF: "result = " + answer + "\r\n".
async function originalCalculator(steps) {
  const answers = [];
  const operand = (x) => (typeof x === 'object' ? String(parseFloat(answers[x.step])) : x);
  const sent = [];
  for (const [operation, a, b] of steps) {
    const body = `${operand(a)} ${operand(b)}`;
    sent.push(`${operation} ${JSON.stringify(body)}`);
    const res = await originalGetBody(operation, body);
    assert.equal(res.headers['content-type'], 'text/plain');
    answers.push(res.body);
  }
  return { sent, answers, reply: `result = ${answers[answers.length - 1]}\r\n` };
}

describe('the original calculator in front of our operation services survives', () => {
  // expression: the calls the original makes for it, the answer to each, its reply.
  const scenarios = [
    ['1/0', [['div', '1', '0']], ['Infinity\r\n'], 'result = Infinity\r\n\r\n'],
    ['0/0', [['div', '0', '0']], ['NaN\r\n'], 'result = NaN\r\n\r\n'],
    // no unary minus: the missing left operand of "-" is NaN
    ['-1+2', [['sub', 'NaN', '1'], ['sum', { step: 0 }, '2']], ['NaN\r\n', 'NaN\r\n'], 'result = NaN\r\n\r\n'],
    ['2*-3', [['mul', '2', 'NaN'], ['sub', { step: 0 }, '3']], ['NaN\r\n', 'NaN\r\n'], 'result = NaN\r\n\r\n'],
    // "1e-3" is split at its "-": the misread operand is NaN
    ['1e-3+1', [['sub', 'NaN', '3'], ['sum', { step: 0 }, '1']], ['NaN\r\n', 'NaN\r\n'], 'result = NaN\r\n\r\n'],
    ['1e308*10', [['mul', '1e+308', '10']], ['Infinity\r\n'], 'result = Infinity\r\n\r\n'],
    [
      '1e308*10-1',
      [['mul', '1e+308', '10'], ['sub', { step: 0 }, '1']],
      ['Infinity\r\n', 'Infinity\r\n'],
      'result = Infinity\r\n\r\n',
    ],
    [
      '0-1e308*10',
      [['mul', '1e+308', '10'], ['sub', '0', { step: 0 }]],
      ['Infinity\r\n', '-Infinity\r\n'],
      'result = -Infinity\r\n\r\n',
    ],
    [
      '1e308*10*0',
      [['mul', '1e+308', '10'], ['mul', { step: 0 }, '0']],
      ['Infinity\r\n', 'NaN\r\n'],
      'result = NaN\r\n\r\n',
    ],
    [
      '1e308*10-1e308*10',
      [['mul', '1e+308', '10'], ['mul', '1e+308', '10'], ['sub', { step: 0 }, { step: 1 }]],
      ['Infinity\r\n', 'Infinity\r\n', 'NaN\r\n'],
      'result = NaN\r\n\r\n',
    ],
    [
      '1/(1e308*10)',
      [['mul', '1e+308', '10'], ['div', '1', { step: 0 }]],
      ['Infinity\r\n', '0\r\n'],
      'result = 0\r\n\r\n',
    ],
    ['(0-1)/0', [['sub', '0', '1'], ['div', { step: 0 }, '0']], ['-1\r\n', '-Infinity\r\n'], 'result = -Infinity\r\n\r\n'],
    ['(5+6)*2', [['sum', '5', '6'], ['mul', { step: 0 }, '2']], ['11\r\n', '22\r\n'], 'result = 22\r\n\r\n'],
  ];
  for (const [expression, steps, answers, reply] of scenarios) {
    test(`${JSON.stringify(expression)}: every call answers 200, the original replies ${JSON.stringify(reply)}`, async () => {
      const run = await originalCalculator(steps);
      assert.deepEqual(run.answers, answers, run.sent.join(', '));
      assert.equal(run.reply, reply);
    });
  }

  test('the exact formats the original services used: NaN, Infinity, -Infinity, CRLF', async () => {
    const cases = [
      ['div', '1 0', 'Infinity\r\n'],
      ['div', '-1 0', '-Infinity\r\n'],
      ['div', '1 -0', '-Infinity\r\n'],
      ['div', '0 0', 'NaN\r\n'],
      ['sum', 'NaN 2', 'NaN\r\n'],
      ['mul', '2 NaN', 'NaN\r\n'],
      ['sum', 'Infinity 1', 'Infinity\r\n'],
      ['sum', '-Infinity 1', '-Infinity\r\n'],
      ['sub', 'Infinity Infinity', 'NaN\r\n'],
      ['mul', 'Infinity 0', 'NaN\r\n'],
      ['mul', '-1e+308 10', '-Infinity\r\n'],
      ['sum', '1e+308 1e+308', 'Infinity\r\n'],
      ['div', '5e-324 2', '0\r\n'],
      ['sub', '0 0', '0\r\n'],
      ['mul', '-0 1', '0\r\n'],
    ];
    for (const [operation, body, expected] of cases) {
      const res = await originalGetBody(operation, body);
      assert.equal(res.status, 200, `${operation} ${body}`);
      assert.equal(res.body, expected, `${operation} ${JSON.stringify(body)}`);
    }
  });

  test('bodies read as the original read them: split at single spaces, parseFloat', async () => {
    const cases = [
      ['sum', '6 3 4', '9\r\n'], // a third part is ignored
      ['sum', '6 3\n', '9\r\n'],
      ['sum', '6  3', 'NaN\r\n'], // two spaces: the second part is empty
      ['sum', ' 6 3', 'NaN\r\n'],
      ['sum', '6', 'NaN\r\n'],
      ['sum', '', 'NaN\r\n'],
      ['sum', 'abc 1', 'NaN\r\n'],
      ['sum', '6abc 3', '9\r\n'], // parseFloat reads the leading number
      ['sum', '0x10 1', '1\r\n'],
      ['sum', '1e999 1', 'Infinity\r\n'],
      ['sum', '.5 .25', '0.75\r\n'],
    ];
    for (const [operation, body, expected] of cases) {
      const res = await originalGetBody(operation, body);
      assert.equal(res.body, expected, `${operation} ${JSON.stringify(body)}`);
    }
  });

  test('every operation, every pair of these operands: the original services\' answer, status 200', async () => {
    const operands = [
      '0', '-0', '1', '-1', '2.5', '1e-7', '1e+21', '1e+308', '-1e+308', '5e-324', 'NaN', 'Infinity', '-Infinity', '',
    ];
    const calls = [];
    for (const operation of OPERATIONS) {
      for (const a of operands) for (const b of operands) calls.push([operation, `${a} ${b}`]);
    }
    // Over one kept-alive connection per service, a few calls at a time.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const post = (operation, body) =>
      new Promise((resolve, reject) => {
        const req = http.request(ops[operation].url, { method: 'POST', agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const wrong = [];
      for (let i = 0; i < calls.length; i += 16) {
        const batch = calls.slice(i, i + 16);
        const answers = await Promise.all(batch.map(([operation, body]) => post(operation, body)));
        answers.forEach((res, n) => {
          const [operation, body] = batch[n];
          const expected = originalAnswer(operation, body);
          if (res.status !== 200 || res.body !== expected) {
            wrong.push(`${operation} ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}, expected 200 ${JSON.stringify(expected)}`);
          }
        });
      }
      assert.deepEqual(wrong, [], `${wrong.length} of ${calls.length} calls differ from the original`);
    } finally {
      agent.destroy();
    }
  });
});

// ---------------------------------------------------------------- 2. our calculator in front of original services

describe('our calculator in front of original operation services', () => {
  let calc;
  let originals;

  before(async () => {
    const entries = await Promise.all(OPERATIONS.map(async (name) => [name, await startOriginalOperation(name)]));
    originals = Object.fromEntries(entries);
    fakes.push(...Object.values(originals));
    calc = await startCalculator(urlEnv(Object.fromEntries(entries.map(([name, fake]) => [name, fake.url]))));
  });

  const clear = () => {
    for (const fake of Object.values(originals)) fake.bodies.length = 0;
  };

  test('results, through their chunked answers', async () => {
    for (const [expression, expected] of [
      ['(5+6)*2', 'result = 22\r\n\r\n'],
      ['-3+5', 'result = 2\r\n\r\n'],
      ['10/4', 'result = 2.5\r\n\r\n'],
      ['1e21*10', 'result = 1e+22\r\n\r\n'],
    ]) {
      const res = await request(calc.url, expression);
      assert.equal(res.status, 200, expression);
      assert.equal(res.body, expected, expression);
    }
  });

  const refusals = [
    ['1/0', 'div', ['1 0'], 'error: division by zero\r\n'],
    ['0/0', 'div', ['0 0'], 'error: division by zero\r\n'],
    ['-1/0', 'div', ['-1 0'], 'error: division by zero\r\n'],
    ['1/(2-2)', 'div', ['1 0'], 'error: division by zero\r\n'],
    ['1e308*10', 'mul', ['1e+308 10'], 'error: result out of range: 1e+308 * 10 = Infinity\r\n'],
    ['-1e308*10', 'mul', ['-1e+308 10'], 'error: result out of range: -1e+308 * 10 = -Infinity\r\n'],
    ['1e308+1e308', 'sum', ['1e+308 1e+308'], 'error: result out of range: 1e+308 + 1e+308 = Infinity\r\n'],
    ['0-1e308-1e308', 'sub', ['0 1e+308', '-1e+308 1e+308'], 'error: result out of range: -1e+308 - 1e+308 = -Infinity\r\n'],
  ];
  for (const [expression, operation, bodies, expected] of refusals) {
    test(`${JSON.stringify(expression)}: the ${operation} service answers a non-number, our client gets 422 ${JSON.stringify(expected)}`, async () => {
      clear();
      const res = await request(calc.url, expression);
      assert.equal(res.status, 422, res.body);
      assert.equal(res.headers['content-type'], 'text/plain');
      assert.equal(res.body, expected);
      assert.deepEqual(originals[operation].bodies, bodies);
      // and the calculator is still there for the next request
      assert.equal((await request(calc.url, '(5+6)*2')).body, 'result = 22\r\n\r\n');
    });
  }

  test('a NaN or Infinity answer is never passed on to the next operation', async () => {
    clear();
    const res = await request(calc.url, '1/0+1');
    assert.equal(res.status, 422);
    assert.equal(res.body, 'error: division by zero\r\n');
    assert.deepEqual(originals.sum.bodies, []);
    const overflow = await request(calc.url, '(1e308*10)*0');
    assert.equal(overflow.status, 422);
    assert.deepEqual(originals.mul.bodies, ['1e+308 10']);
  });

  test('a service that answers NaN to finite operands -> 422 naming it', async () => {
    const broken = await startOriginalOperation('mul', { answer: () => 'NaN\r\n' });
    fakes.push(broken);
    const urls = urlEnv({ sum: originals.sum.url, sub: originals.sub.url, mul: broken.url, div: originals.div.url });
    const strict = await startCalculator(urls);
    const res = await request(strict.url, '2*3');
    assert.equal(res.status, 422);
    assert.equal(res.body, `error: result is not a number: 2 * 3 = NaN (mul service at ${broken.url})\r\n`);
  });

  test('a bare number is answered as typed, with one CRLF, and calls no service', async () => {
    clear();
    for (const [expression, expected] of [
      ['5', 'result = 5\r\n'],
      ['2.50', 'result = 2.50\r\n'],
      ['007', 'result = 007\r\n'],
      ['1e3', 'result = 1e3\r\n'],
      [' .5\n', 'result = .5\r\n'],
      ['(2.50)', 'result = 2.50\r\n'],
    ]) {
      const res = await request(calc.url, expression);
      assert.equal(res.status, 200, expression);
      assert.equal(res.body, expected, JSON.stringify(expression));
    }
    for (const fake of Object.values(originals)) assert.deepEqual(fake.bodies, []);
  });
});
