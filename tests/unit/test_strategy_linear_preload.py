# -*- coding: utf-8 -*-
"""The strategy's compile memo and Jinja preload (plugins/strategy/linear_preload.py): a template is compiled
once per text, options and base directory, and renders with each call's variables; the collection's filters
are all found. The whole strategy against ansible.builtin.linear: tests/integration/test_strategy_linear_preload.py."""

import pytest

from ansible._internal._templating._engine import TemplateEngine
from ansible._internal._templating._jinja_bits import AnsibleEnvironment
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.virtlab.core.plugins.strategy import linear_preload


class FakeEngine:
    def __init__(self, basedir):
        self.basedir = basedir


def counting_compile():
    calls = []

    def compile_method(engine, source, options):
        calls.append((engine.basedir, source, options))
        return object()

    return compile_method, calls


def key_of(engine, source, options):
    return (source, options, engine.basedir)


def test_a_text_is_compiled_once_per_options_and_base_directory():
    compile_method, calls = counting_compile()
    memoized = linear_preload.memoize(compile_method, key_of)
    here, there = FakeEngine("/a"), FakeEngine("/b")
    first = memoized(here, "{{ x }}", "opts")
    assert memoized(here, "{{ x }}", "opts") is first
    assert memoized(there, "{{ x }}", "opts") is not first  # its includes resolve from elsewhere
    assert memoized(here, "{{ x }}", "other") is not first
    assert memoized(here, "{{ y }}", "opts") is not first
    assert len(calls) == 4


def test_options_that_cannot_be_a_key_are_compiled_every_time():
    compile_method, calls = counting_compile()
    memoized = linear_preload.memoize(compile_method, key_of)
    memoized(FakeEngine("/a"), "{{ x }}", ["unhashable"])
    memoized(FakeEngine("/a"), "{{ x }}", ["unhashable"])
    assert len(calls) == 2


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(linear_preload, "MEMO_SIZE", 3)
    compile_method, calls = counting_compile()
    memoized = linear_preload.memoize(compile_method, key_of)
    for text in ("a", "b", "c", "d", "a"):
        memoized(FakeEngine("/a"), text, None)
    assert len(calls) == 5  # "a" was dropped when the memo filled up


@pytest.fixture
def memoized_engine(monkeypatch):
    # Set through monkeypatch first, so that the engine's own methods are back after the test.
    for name in ("_compile_template", "_compile_expression"):
        monkeypatch.setattr(TemplateEngine, name, getattr(TemplateEngine, name))
    assert linear_preload.memoize_compiles()
    kept = TemplateEngine._compile_template
    assert linear_preload.memoize_compiles() and TemplateEngine._compile_template is kept  # not wrapped twice
    compiles = []
    from_string = AnsibleEnvironment.from_string

    def counting_from_string(self, source, *args, **kwargs):
        compiles.append(source)
        return from_string(self, source, *args, **kwargs)

    monkeypatch.setattr(AnsibleEnvironment, "from_string", counting_from_string)
    return compiles


def render(text, **variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text))


def test_a_kept_template_renders_each_time_with_that_time_s_variables(memoized_engine):
    assert render("{{ x | upper }}-{{ y }}", x="a", y=1) == "A-1"
    assert render("{{ x | upper }}-{{ y }}", x="b", y=2) == "B-2"
    assert memoized_engine == ["{{ x | upper }}-{{ y }}"]  # compiled once, by a new Templar each time
    # The same text with another header is another template (its overlay's delimiters).
    assert render("#jinja2:variable_start_string:'[%', variable_end_string:'%]'\n[% x %]{{ x }}", x="c") == "c{{ x }}"
    assert render("[% x %]{{ x }}", x="c") == "[% x %]c"
    assert Templar(loader=DataLoader(), variables={"x": 3}).evaluate_expression(trust_as_template("x + 1")) == 4
    assert Templar(loader=DataLoader(), variables={"x": 5}).evaluate_expression(trust_as_template("x + 1")) == 6


def test_every_filter_of_the_collection_is_named():
    names = linear_preload.jinja_plugin_names("filter", "filters")
    assert {"virtlab.core.topology_for_lab", "virtlab.core.topology_interfaces", "virtlab.core.lab_index"} <= set(names)
    assert linear_preload.jinja_plugin_names("test", "tests") == []  # the collection has no test plugins
