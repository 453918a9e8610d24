"""A student's own calculator services, not ours: one small HTTP server, started by hand in a hand-built lab.

    service.py operation sum 50001          answers "a b" with a+b (sub, mul, div likewise)
    service.py calculator 50000 URLS_JSON   answers an expression, calling the operation services
"""

import ast
import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

OPERATIONS = {"sum": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
              "div": lambda a, b: a / b}
NODES = {ast.Add: "sum", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}


def number(value):
    return ("%d" % value) if value == int(value) else repr(value)


def evaluate(node, urls):
    if isinstance(node, ast.Constant):
        return float(node.value)
    left, right = evaluate(node.left, urls), evaluate(node.right, urls)
    request = urllib.request.Request(urls[NODES[type(node.op)]], data=("%s %s" % (number(left), number(right))).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=3) as response:
        return float(response.read().decode().strip())


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if sys.argv[1] == "operation":
            a, b = (float(x) for x in body.split())
            answer = number(OPERATIONS[sys.argv[2]](a, b))
        else:
            answer = "result = %s" % number(evaluate(ast.parse(body, mode="eval").body, json.loads(sys.argv[4])))
        data = (answer + "\r\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


HTTPServer(("0.0.0.0", int(sys.argv[3])), Handler).serve_forever()
