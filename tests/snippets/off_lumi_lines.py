"""Commands inside a titled file (a job script) that only LUMI can run, marked right before its fence.

    <!-- off-lumi: "python3 train.py" reason="train.py needs LUMI-G's GPUs and PyTorch" -->

Off LUMI, the file is written with each occurrence of the quoted command replaced by
an `echo` that says it was not run and why, so the rest of the job runs for real (module
loads, srun, singularity) and only the marked command does not. The page shows the
file unchanged, and on LUMI (--on-host) nothing is replaced. Only blank lines and other
comments may stand between the comment and its fence; a command the file does not
contain, or a comment that does not parse, fails the block with page:line.
"""

import re

from .parsers import comments_before

COMMENT = re.compile(r"<!--\s*off-lumi:(?P<body>.*?)-->", re.DOTALL)
BODY = re.compile(r'^\s*"(?P<command>[^"]+)"\s+reason="(?P<reason>[^"]+)"\s*$')


class OffLumiError(Exception):
    """An `off-lumi:` comment that does not fit its file; the message says why."""


def marks_before(text, position):
    """[(command, reason)] of the `off-lumi:` comments right before the fence at `position`."""
    marks = []
    for line in comments_before(text, position):
        found = COMMENT.search(line)
        if found:
            body = BODY.match(found["body"])
            if body is None:
                raise OffLumiError(f'`off-lumi:` needs "command" reason="why", got {found["body"].strip()!r}')
            marks.append((body["command"], body["reason"]))
    return marks


def apply(source, marks):
    """`source` with each marked command replaced by an echo saying why it did not run."""
    for command, reason in marks:
        if command not in source:
            raise OffLumiError(f"`off-lumi:` names {command!r}, which the file does not contain")
        # Double quotes: the command may sit inside a single-quoted `bash -c '...'`.
        note = f"{command} not run off LUMI: {reason}".replace("'", "").replace("$", "")
        source = source.replace(command, f'echo "{note}"')
    return source
