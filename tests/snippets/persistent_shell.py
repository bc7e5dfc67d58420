"""One long-lived bash per page: blocks go in over stdin, a sentinel on stdout marks where each ends.

How it works: the shell is started once (on the host, or inside the LUMI node container,
depending on the argv given) and a small bootstrap defines `__snippet_run`. Each block is
sent as a quoted here-document into a variable, then `__snippet_run` evals it in the
shell itself, so `cd`, `export`, `source venv/bin/activate` and `module load` stay in
effect for the next block. The block's stdin is /dev/null, so a command that reads
stdin cannot swallow the protocol. In "errexit" mode an ERR trap (inherited by
functions and subshells through `set -E`) leaves the block at the first failing
command, under the same rules as `set -e -o pipefail`, yet the shell lives on for the next block
(a block's own `set -e` is switched off again, so it cannot end the shell either).
In "plain" mode (console commands) the block is evaled at top level, as a terminal
would run it. Then `__snippet_report` prints RS token:status:line:command RS; everything
before that on the merged stdout/stderr pipe is the block's output. A block that does not finish within
its time-out gets the whole process group killed; the shell is then dead, and later
blocks say so instead of hanging.
"""

import os
import re
import select
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Optional

RS = "\x1e"  # ASCII record separator: never printed by ordinary commands.

BOOTSTRAP = r"""
__snippet_pid=$BASHPID
# pipefail: `no-such-command | cat` must fail its block like `no-such-command` alone.
set -E -o pipefail
__snippet_exec_errexit() {
  # At the block's own level the failing command is reported as the block's source
  # line (LINENO counts on from the block's first line), so a failure inside a shell function
  # such as Lmod's `module` names the page's `module load ...`, not Lmod's internals.
  __snippet_depth=${#FUNCNAME[@]}
  # (LINENO is read on the handler's first line: it counts on through the handler.)
  trap '__snippet_rc=$? __snippet_at=$LINENO
        set +e
        if [[ ${#FUNCNAME[@]} -eq $__snippet_depth ]]; then
          mapfile -t __snippet_lines <<<"$__snippet_src"
          __snippet_line=$((__snippet_at - __snippet_base))
          __snippet_cmd=${__snippet_lines[__snippet_line]-$BASH_COMMAND}
        fi
        [[ -z ${__snippet_cmd+x} ]] && __snippet_cmd=$BASH_COMMAND
        [[ $BASHPID != "$__snippet_pid" ]] && exit $__snippet_rc
        return $__snippet_rc' ERR
  # The base is taken on the block's first line itself, inside the eval.
  eval "__snippet_base=\$LINENO; $__snippet_src" </dev/null
}
__snippet_run() {
  unset __snippet_cmd __snippet_line
  __snippet_exec_errexit
  __snippet_report $?
}
__snippet_report() {
  trap - ERR
  set +e
  set -o pipefail  # again: a block may have switched it off
  printf '\036%s:%s:%s:%s\036' "$__snippet_token" "$1" "${__snippet_line-}" "${__snippet_cmd-}"
  unset __snippet_cmd __snippet_line
}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONUNBUFFERED=1 TERM=dumb
"""

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class ShellDead(Exception):
    """The shell is gone (it exited, or was killed after a time-out); the message says why."""


@dataclass
class BlockResult:
    """What one block did: its exit status, merged output and the command that failed."""

    status: int
    output: str
    failed_command: str = ""
    failed_line: Optional[int] = None  # 0-based line of the block, when the failure is at its level


class BlockTimeout(Exception):
    """A block ran longer than its time-out; `output` holds what it printed so far."""

    def __init__(self, seconds, output):
        super().__init__(f"stopped after the time-out of {seconds:g} s")
        self.seconds, self.output = seconds, output


class PersistentShell:
    """A bash process that runs block after block in the same state."""

    def __init__(self, argv, cwd=None, env=None, start_timeout=120.0):
        self.argv = list(argv)
        self.token = uuid.uuid4().hex
        self.dead_reason = None
        self._buffer = b""
        self.proc = subprocess.Popen(
            self.argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, bufsize=0)
        try:
            self._send(f"__snippet_token={self.token}\n{BOOTSTRAP}\n")
            # The first round trip swallows whatever the login scripts printed.
            self.run(":", timeout=start_timeout)
        except BlockTimeout as err:
            self.close()
            raise ShellDead(f"the shell did not answer within {start_timeout:g} s of starting "
                            f"({' '.join(self.argv[:3])} ...); it printed:\n{err.output}") from None
        except ShellDead:
            self.close()
            raise

    def _send(self, text):
        try:
            self.proc.stdin.write(text.encode())
        except (BrokenPipeError, OSError):
            raise ShellDead(self._death_message(self._read_rest())) from None

    def _read_rest(self):
        """Drain what a dead shell left in the pipe (it may explain why it died)."""
        data, self._buffer = self._buffer, b""
        try:
            fd = self.proc.stdout.fileno()
            # A background child may still hold the pipe open: do not wait for its EOF.
            while select.select([fd], [], [], 1.0)[0]:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
        except (OSError, ValueError):
            pass
        return decode(data)

    def _death_message(self, output):
        status = self.proc.wait()
        self.dead_reason = f"the shell exited with status {status}"
        return f"{self.dead_reason}; its last output:\n{output}" if output.strip() else self.dead_reason

    def run(self, source, errexit=True, timeout=300.0):
        """Run `source` in the shell; return a BlockResult, or raise BlockTimeout / ShellDead."""
        if self.dead_reason:
            raise ShellDead(self.dead_reason)
        if not source.endswith("\n"):
            source += "\n"
        end = f"__SNIPPET_END_{self.token}"
        # Plain mode evals at top level so error messages read "bash: ..." as in a terminal.
        run = "__snippet_run" if errexit else 'eval "$__snippet_src" </dev/null; __snippet_report $?'
        self._send(f"IFS= read -r -d '' __snippet_src <<'{end}'\n{source}{end}\n{run}\n")
        return self._wait_for_sentinel(timeout)

    def _wait_for_sentinel(self, timeout):
        start_marker = f"{RS}{self.token}:".encode()
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            begin = self._buffer.find(start_marker)
            if begin >= 0:
                finish = self._buffer.find(RS.encode(), begin + len(start_marker))
                if finish >= 0:
                    output = decode(self._buffer[:begin])
                    fields = decode(self._buffer[begin + len(start_marker):finish])
                    self._buffer = self._buffer[finish + 1:]
                    status, _, rest = fields.partition(":")
                    line, _, command = rest.partition(":")
                    return BlockResult(int(status), output, command, int(line) if line else None)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                output = decode(self._buffer)
                self.kill(f"the shell was killed when a block hit the time-out of {timeout:g} s")
                raise BlockTimeout(timeout, output)
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ShellDead(self._death_message(self._read_rest()))
                self._buffer += chunk

    def kill(self, reason):
        """Kill the shell and everything it started; later runs raise ShellDead(reason)."""
        self.dead_reason = self.dead_reason or reason
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def close(self):
        """End the shell and whatever it left running in the background."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"exit 0\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill(self.dead_reason or "the shell was closed")
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def decode(data):
    """Bytes from the pipe as text the way a terminal would show them."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return ANSI_ESCAPE.sub("", text)
