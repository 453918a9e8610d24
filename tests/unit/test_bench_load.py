# -*- coding: utf-8 -*-
"""The calculator's load test (scripts/bench_load.py), the parts that start nothing: ab's report read, the
verdict against the target, the medians of alternating runs."""

import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = importlib.util.spec_from_file_location("bench_load", os.path.join(REPO, "scripts", "bench_load.py"))
bench_load = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench_load)

AB_REPORT = """Server Software:
Server Hostname:        127.0.0.1
Concurrency Level:      32
Time taken for tests:   20.000 seconds
Complete requests:      57934
Failed requests:        0
Keep-Alive requests:    57934
Requests per second:    2896.70 [#/sec] (mean)
Time per request:       11.047 [ms] (mean)

Percentage of the requests served within a certain time (ms)
  50%     11
  66%     12
  90%     17
  99%     30
 100%     88 (longest request)
"""


def test_ab_report_is_read_into_requests_per_second_and_percentiles():
    result = bench_load.parse_ab(AB_REPORT)
    assert result == {"rps": 2896.7, "p50_ms": 11.0, "p99_ms": 30.0, "complete": 57934, "failed": 0, "non_2xx": 0}


def test_a_report_without_the_figures_is_an_error_not_zero():
    with pytest.raises(ValueError, match="Requests per second"):
        bench_load.parse_ab("apr_socket_recv: Connection reset by peer (104)\n")


@pytest.mark.parametrize("rps, p99, expected", [
    (2500.0, 30.0, "target met"),
    (2499.0, 30.0, "target missed: 2499 requests/s < 2500"),
    (4000.0, 31.0, "target missed: p99 31 ms > 30 ms"),
    (1000.0, 55.0, "target missed: 1000 requests/s < 2500, p99 55 ms > 30 ms"),
])
def test_the_verdict_names_what_missed_the_target(rps, p99, expected):
    assert bench_load.verdict({"rps": rps, "p99_ms": p99}) == expected


def test_the_medians_of_runs_and_their_verdict():
    runs = [dict(rps=rps, p50_ms=p50, p99_ms=p99, failed=0, non_2xx=0)
            for rps, p50, p99 in ((3000.0, 9, 25), (2000.0, 14, 60), (3100.0, 8, 28))]
    runs[1]["failed"] = 2
    summary = bench_load.median_of(runs)
    assert summary == {"rps": 3000.0, "p50_ms": 9, "p99_ms": 28, "runs": 3, "failed": 2, "non_2xx": 0,
                       "verdict": "target met"}
