# -*- coding: utf-8 -*-
# Copyright: virtlab contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way a node-side concern reads a host: one POSIX shell command, its output in sections.

The module runs that command on the node through ``run_command`` and ``/bin/sh``; its action plugin runs the
very same command through the connection, before deciding whether the module needs to run at all. Both give
the output to the concern's ``parse_observation``, built on parse_sections() here, so there is one reader.

A command built here prints a begin marker, a marker line before each section and an end marker that proves
the output complete; parse_sections() gives the sections back as (kind, name, content), each content exactly
as the command printed it. A terminal (raw over SSH allocates one) turns every newline into CRLF: the begin
marker shows whether that happened, and only then is it undone (so a file's own CRLF is kept either way).
A section command that fails ends the whole command with its status, before the end marker.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MARKER = "@@virtlab-observe %s %s@@"
BEGIN = MARKER % ("begin", "begin")
MARKER_RE = re.compile(r"\n@@virtlab-observe (\w+) (.+?)@@\n")


def shell_quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


def marker(kind, name):
    """A shell command printing the marker of a section (after a newline, so the previous content is intact)."""
    return "printf '\\n%%s\\n' %s" % shell_quote(MARKER % (kind, name))


def command(kind, name, shell_command):
    """A section holding what ``shell_command`` prints; when it fails, the whole command fails."""
    return "%s; %s || exit $?" % (marker(kind, name), shell_command)


def file_command(path):
    """A section ``file PATH`` holding the file's mode (4 octal digits) on one line then its content, or a section
    ``missing PATH`` when it is not a regular file."""
    quoted = shell_quote(path)
    return "if [ -f %s ]; then %s; stat -c %%a %s && cat %s || exit $?; else %s; fi" % (
        quoted, marker("file", path), quoted, quoted, marker("missing", path))


def flag_command(name, shell_test):
    """A section ``yes NAME`` or ``no NAME`` telling whether ``shell_test`` succeeds."""
    return "if %s; then %s; else %s; fi" % (shell_test, marker("yes", name), marker("no", name))


def script(parts):
    """The whole command: the begin marker, the sections, then the end marker."""
    return "; ".join(["printf '%%s\\n' %s" % shell_quote(BEGIN)] + list(parts) + [marker("end", "end")])


def parse_sections(text):
    """[(kind, name, content)] from a script's output; ValueError when it is not complete."""
    text = text or ""
    begin = text.find(BEGIN)
    if begin < 0:
        raise ValueError("not the output of an observation: %r" % text[-200:])
    # Whatever a login shell printed before the command is not ours.
    text = text[begin + len(BEGIN):]
    if text.startswith("\r\n"):
        text = text.replace("\r\n", "\n")
    pieces = MARKER_RE.split(text)
    sections = list(zip(pieces[1::3], pieces[2::3], pieces[3::3]))
    if not sections or sections[-1][0] != "end":
        raise ValueError("incomplete output from the host: %r" % text[-200:])
    return sections[:-1]


def files_and_flags(sections):
    """({path: (mode, content) or None}, {name: bool}, {name: content of other sections})."""
    files, flags, others = {}, {}, {}
    for kind, name, content in sections:
        if kind == "file":
            mode, unused_newline, body = content.partition("\n")
            files[name] = ("%04o" % int(mode.strip(), 8), body)
        elif kind == "missing":
            files[name] = None
        elif kind in ("yes", "no"):
            flags[name] = kind == "yes"
        else:
            others[name] = content
    return files, flags, others
