"""A stand-in for a calculator service: answers STUB_ANSWER (+ CRLF) to a POST of exactly STUB_REQUEST, 400
to anything else, on STUB_PORT."""
import http.server
import os

REQUEST, ANSWER, PORT = os.environ["STUB_REQUEST"], os.environ["STUB_ANSWER"], int(os.environ["STUB_PORT"])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # as the Node.js services answer

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        status, text = (200, ANSWER + "\r\n") if body == REQUEST else (400, "error: unexpected request %r\r\n" % body)
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
