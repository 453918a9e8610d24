'use strict';
// The calculator service in front of the four real operation services: results,
// the exact reply body, grammar, and input errors.

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');
const { request, startCalculator, startOperations, stopAll } = require('./helpers');

let calc;

before(async () => {
  const { urls } = await startOperations();
  calc = await startCalculator(urls);
});

after(stopAll);

async function result(expression) {
  const res = await request(calc.url, expression);
  assert.equal(res.status, 200, `${expression}: ${res.body}`);
  assert.equal(res.headers['content-type'], 'text/plain');
  const match = /^result = (\S+)\r\n\r\n$/.exec(res.body);
  assert.ok(match, `unexpected body ${JSON.stringify(res.body)}`);
  return match[1];
}

describe('calculator results', () => {
  test('the lab test: "(5+6)*2" -> 200 "result = 22\\r\\n\\r\\n"', async () => {
    const res = await request(calc.url, '(5+6)*2');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.body, 'result = 22\r\n\r\n');
  });

  test('any method and path', async () => {
    const res = await request(calc.url, '1+1', { method: 'PUT', path: '/calc?x=1' });
    assert.equal(res.body, 'result = 2\r\n\r\n');
  });

  const cases = {
    'precedence and associativity': [
      ['2+3*4', '14'],
      ['2*3+4', '10'],
      ['8-3-2', '3'],
      ['8/2/2', '2'],
      ['2-3+4', '3'],
      ['16/4*2', '8'],
      ['(2+3)*4', '20'],
      ['2*(3+4)*5', '70'],
      ['((((1+0))))', '1'],
      ['100-(2*(3+(4-1)))/4', '97'],
    ],
    'unary minus': [
      ['-3+5', '2'],
      ['2*-3', '-6'],
      ['-(1+2)', '-3'],
      ['--3', '3'],
      ['-2*-2', '4'],
      ['4--2', '6'],
      ['-0.5*4', '-2'],
      ['+3*1', '3'],
    ],
    'decimals and exponent notation': [
      ['10/4', '2.5'],
      ['1e3+1', '1001'],
      ['2.5*2', '5'],
      ['.5+.25', '0.75'],
      ['1E2/4', '25'],
      ['2e-3*1000', '2'],
      ['1e+2-1', '99'],
      ['1e21*10', '1e+22'],
      ['0.1+0.2', '0.30000000000000004'],
      ['1/3', '0.3333333333333333'],
    ],
    whitespace: [
      [' 1 + 2 ', '3'],
      ['\t(5 +\n6) *\r\n2\n', '22'],
    ],
  };
  // As the original: no operation, so no operation service's CRLF, and the literal as typed.
  test('a bare number -> "result = <the literal as typed>\\r\\n", one CRLF', async () => {
    for (const [expression, expected] of [
      ['5', 'result = 5\r\n'],
      ['2.50', 'result = 2.50\r\n'],
      ['7', 'result = 7\r\n'],
      ['1E2', 'result = 1E2\r\n'],
      ['((((1))))', 'result = 1\r\n'],
      ['+3', 'result = 3\r\n'],
      [' 42 \n', 'result = 42\r\n'],
    ]) {
      const res = await request(calc.url, expression);
      assert.equal(res.status, 200, expression);
      assert.equal(res.headers['content-type'], 'text/plain');
      assert.equal(res.body, expected, JSON.stringify(expression));
    }
    // with an operation, even unary minus, the operation's CRLF is kept
    assert.equal((await request(calc.url, '-5')).body, 'result = -5\r\n\r\n');
  });

  for (const [group, list] of Object.entries(cases)) {
    describe(group, () => {
      for (const [expression, expected] of list) {
        test(`${JSON.stringify(expression)} = ${expected}`, async () => {
          assert.equal(await result(expression), expected);
        });
      }
    });
  }
});

describe('calculator input errors', () => {
  const errors = [
    ['', 400, /^error: empty expression\r\n$/],
    ['   \n', 400, /^error: empty expression\r\n$/],
    ['abc', 400, /^error: unexpected character "a" at position 1\r\n$/],
    ['2+x', 400, /^error: unexpected character "x" at position 3\r\n$/],
    ['(1+2', 400, /^error: unbalanced parenthesis at position 1: '\(' is never closed\r\n$/],
    ['1+2)', 400, /^error: unbalanced parenthesis at position 4: '\)' has no matching '\('\r\n$/],
    ['(1+2))', 400, /^error: unbalanced parenthesis at position 6/],
    ['1+', 400, /^error: unexpected end of expression/],
    ['*2', 400, /^error: unexpected '\*' at position 1/],
    ['1 2', 400, /^error: unexpected number 2 at position 3/],
    ['()', 400, /^error: unexpected '\)' at position 2/],
    ['1..2', 400, /^error: malformed number "1..2" at position 1/],
    ['1e', 400, /^error: malformed number "1e" at position 1/],
    ['1e999', 422, /^error: number "1e999" at position 1 is out of range\r\n$/],
    ['6/0', 422, /^error: division by zero\r\n$/],
    ['1/(2-2)', 422, /^error: division by zero\r\n$/],
    ['1e308*10', 422, /^error: result out of range: 1e\+308 \* 10 = Infinity\r\n$/],
    ['0/0', 422, /^error: division by zero\r\n$/],
    [`${'1+'.repeat(100)}1`, 422, /^error: expression too long: more than 200 tokens\r\n$/],
    [`${'('.repeat(51)}1${')'.repeat(51)}`, 422, /^error: parentheses nested deeper than 50 levels/],
  ];
  for (const [expression, status, pattern] of errors) {
    const name = expression.length > 30 ? `${expression.slice(0, 30)}...` : expression;
    test(`${JSON.stringify(name)} -> ${status}`, async () => {
      const res = await request(calc.url, expression);
      assert.equal(res.status, status, res.body);
      assert.equal(res.headers['content-type'], 'text/plain');
      assert.match(res.body, pattern);
      // and the service still answers the next request
      assert.equal((await request(calc.url, '(5+6)*2')).body, 'result = 22\r\n\r\n');
    });
  }

  test('the limits are not off by one: 199 tokens and 50 levels are evaluated', async () => {
    assert.equal(await result(`${'1+'.repeat(99)}1`), '100');
    assert.equal(await result(`${'('.repeat(50)}1+0${')'.repeat(50)}`), '1');
  });

  test('"1+2)" answers at once instead of hanging', async () => {
    const res = await request(calc.url, '1+2)', { timeoutMs: 2000 });
    assert.equal(res.status, 400);
    assert.ok(res.ms < 1000, `took ${res.ms} ms`);
  });

  test('oversize body -> 413, and the next request is answered', async () => {
    const res = await request(calc.url, `1${'+1'.repeat(3000)}`);
    assert.equal(res.status, 413);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.body, 'error: request body larger than 4096 bytes\r\n');
    assert.equal((await request(calc.url, '(5+6)*2')).body, 'result = 22\r\n\r\n');
  });

  test('oversize chunked body (no Content-Length) -> 413', async () => {
    const res = await request(calc.url, '1+'.repeat(10000), { headers: { 'Transfer-Encoding': 'chunked' } });
    assert.equal(res.status, 413);
    assert.equal(res.body, 'error: request body larger than 4096 bytes\r\n');
  });
});
