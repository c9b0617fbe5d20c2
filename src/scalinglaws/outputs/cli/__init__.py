"""Command-line interface: ``scalinglaws COMMAND ...``.

Units everywhere: N = parameters (a count), D = training tokens, C = training
compute in FLOP (not PF-days; C = 6·N·D unless --flops-per-token says
otherwise), loss = cross-entropy in nats per token.

Each module of this package registers a group of subcommands (``register(sub)``);
:data:`COMMAND_MODULES` lists them in the order ``--help`` shows them. They share one
flag vocabulary (:mod:`._common`). Every command:

- prints bad input as one line on stderr and exits with status 2 (``--verbose``,
  accepted anywhere on the line, shows the traceback); a fit that did not converge
  exits with status 1 after printing its result;
- checks ``--out`` before any work (never an input, never another kind of file
  unless ``--force``) and writes it atomically; when ``--out`` names the stream standard
  output goes to (``/dev/stdout``, or the file stdout is redirected to), that stream holds
  what ``--out`` writes, once (:func:`_stdout_once`);
- prints warnings as ``scalinglaws: warning: ...`` (naming the group with ``--by``);
- ends on Ctrl-C (SIGINT) or SIGTERM with one line, ``scalinglaws: interrupted``, exit
  status 130 or 143, no partial output file and no worker process left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import re
import signal
import stat
import sys
import warnings

from ..._exceptions import InputError, ScalingLawsWarning
from ..._text import named_list
from ..._version import __version__
from ._common import UNITS, check_out, current_group

#: modules of this package that add subcommands, in help order
COMMAND_MODULES = ("fitting", "catalog", "approaches", "present", "kaplan", "curves", "tasks",
                   "plan", "compare")

#: exit status after SIGINT / SIGTERM (128 + signal number, the shell's convention)
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class _Parser(argparse.ArgumentParser):
    """One-line errors (``scalinglaws: error: ...``), ``-7e9`` read as a value (so that
    ``--N -7e9`` says the value must be positive instead of "expected one argument"), and
    no abbreviated flags: argparse would read ``--boot 5`` as ``--bootstrap 5``, and an
    abbreviation that works today breaks when a flag is added; an unknown flag is refused
    with the close one suggested (``did you mean --bootstrap?``). Subcommands' parsers are
    of this class too (``add_subparsers`` makes its parsers of the parent's class)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        # No option of ours looks like a number: any "-<digit>" or "-.<digit>" is a value.
        self._negative_number_matcher = re.compile(r"^-\.?\d")
        #: flags of other commands that mean one of this command's, lower case -> what to
        #: say (``tasks fit``: "--n" -> "the target model is --target N=...,D=..."), said
        #: in place of the commands that take them
        self.flag_hints: dict = {}

    def error(self, message):
        self.exit(2, f"scalinglaws: error: {message} (see `{self.prog} --help`)\n")

    def parse_args(self, args=None, namespace=None):
        # argparse reports unknown options from the top-level parser, with no close match;
        # here the innermost subcommand reports them, with its own options' close match
        # (argparse's suggest_on_error is Python 3.14+).
        argv = sys.argv[1:] if args is None else list(args)
        namespace, extras = self.parse_known_args(argv, namespace)
        command = self._innermost(argv)
        if extras:
            command.error(f"unrecognized arguments: {' '.join(extras)}"
                          f"{command._did_you_mean(extras, self._flag_owners())}")
        command._refuse_repeated_lists(argv)
        return namespace

    def _refuse_repeated_lists(self, argv) -> None:
        """Refuse a list flag given twice (``--N 7B --N 70B``): argparse keeps the last
        list only, and the first model would be left out without a word."""
        lists = {option: action for action in self._actions
                 if isinstance(action, argparse._StoreAction) and action.nargs in ("+", "*")
                 for option in action.option_strings}
        seen: dict = {}
        for token in argv:
            if token == "--":
                break
            flag = token.split("=", 1)[0]
            action = lists.get(flag)
            if action is None:
                continue
            if action in seen:
                first = seen[action]
                again = f"twice ({first} and {flag})" if flag != first else "twice"
                self.error(f"{first} is given {again}, and only the last list would be used; "
                           f"give all its values after one flag: {first} A B ...")
            seen[action] = flag

    def _innermost(self, argv) -> "argparse.ArgumentParser":
        """The (sub)command ``argv`` names: ``fit`` in ``fit runs.csv ...``, ``curves fit``
        in ``curves fit ...``."""
        parser = self
        for token in argv:
            choices = next((a.choices for a in parser._actions
                            if isinstance(a, argparse._SubParsersAction)), None)
            if choices is None:
                break
            if token in choices:
                parser = choices[token]
        return parser

    def _flag_owners(self) -> dict:
        """Each listed flag of a subcommand (lower case) -> the commands that take it
        (``{"--cluster": ["scalinglaws fit", ...]}``), nested commands included."""
        owners: dict = {}

        def walk(parser):
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    for command in dict.fromkeys(action.choices.values()):  # aliases once
                        for option in command._option_string_actions:
                            listed = command._option_string_actions[option].help
                            if listed is not argparse.SUPPRESS and \
                                    command.prog not in owners.get(option.lower(), ()):
                                owners.setdefault(option.lower(), []).append(command.prog)
                        walk(command)

        walk(self)
        return owners

    def _did_you_mean(self, extras, owners=None) -> str:
        """``; did you mean --columns?`` for the unknown options among ``extras`` that are
        close to one of this parser's options: the same but for case (``--d`` is ``--D``),
        else those it abbreviates (``--boot`` -> ``--bootstrap``, up to three), else the
        closest spelling (``--colums`` -> ``--columns``). An unlisted old spelling
        (``--level``, ``--resamples``) is matched too and suggested as the flag it stands
        for: the listed one of its destination, or its ``alias_of``. A flag another
        command takes (``owners``, from :meth:`_flag_owners`) is not respelled as one of
        this command's (``--holdout`` was "did you mean --out?"): those commands are named."""
        import difflib

        options, hidden = {}, []
        for action in self._actions:
            if action.help is argparse.SUPPRESS:
                hidden.append(action)
                continue
            for option in action.option_strings:
                options.setdefault(option.lower(), option)
        for action in hidden:  # an old spelling: suggested as the flag it stands for
            listed = next((a.option_strings[0] for a in self._actions
                           if a.dest == action.dest and a.help is not argparse.SUPPRESS
                           and a.option_strings), getattr(action, "alias_of", None))
            if listed is not None:
                for option in action.option_strings:
                    options.setdefault(option.lower(), listed)
        close, elsewhere = [], []
        for extra in extras:
            if not extra.startswith("-") or self._negative_number_matcher.match(extra):
                continue
            typed = extra.split("=", 1)[0].lower()
            if typed in options:
                matches = [typed]
            elif typed in self.flag_hints:
                if self.flag_hints[typed] not in elsewhere:
                    elsewhere.append(self.flag_hints[typed])
                continue
            elif typed in (owners or {}):
                commands = [f"`{prog}`" for prog in owners[typed]]
                shown = named_list(commands, 4)
                elsewhere.append(f"{extra.split('=', 1)[0]} is a flag of {shown}, not of "
                                 f"`{self.prog}`")
                continue
            else:
                matches = sorted((key for key in options if typed.strip("-")
                                  and key.startswith(typed)
                                  and key.startswith("--") == typed.startswith("--")),
                                 key=len)[:3]
                # 0.75: a typo (--colums 0.94, --levle 0.83) and not another word sharing
                # letters (--holdout/--out 0.71, --cluster/--cuts 0.67)
                matches = matches or difflib.get_close_matches(typed, list(options), n=1,
                                                               cutoff=0.75)
            close += [options[key] for key in matches if options[key] not in close]
        said = ([f"did you mean {' or '.join(close)}?"] if close else []) + elsewhere
        return "".join(f"; {text}" for text in said)


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt for SIGINT."""


def build_parser() -> argparse.ArgumentParser:
    """The ``scalinglaws`` argument parser with every subcommand."""
    parser = _Parser(
        prog="scalinglaws", description="Fit, reproduce and extrapolate neural scaling laws. " + UNITS,
        epilog="Run `scalinglaws COMMAND --help` for a command's flags. Flags mean the same in "
               "every command: --N/--D/--C take lists with unit suffixes (7B, 1.4T, 1e24), "
               "--out is checked before any work, --seed defaults to 0, --json prints JSON, "
               "--verbose shows tracebacks.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"scalinglaws {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    _accept_verbose_everywhere(sub)
    return parser


def _accept_verbose_everywhere(sub) -> None:
    # SUPPRESS as the default keeps `scalinglaws --verbose fit ...` working: a
    # subcommand's default would otherwise overwrite the value parsed before it.
    for command in set(sub.choices.values()):
        if "--verbose" not in command._option_string_actions:
            command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                                 help="show tracebacks on errors")
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_verbose_everywhere(action)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """``scalinglaws: warning: [group: ]message``, once per group and message."""
    group = current_group()
    text = str(message).strip()
    if _running["args"] is not None:
        text = in_flags(text, _running["args"])
    if not issubclass(category, ScalingLawsWarning):
        text = f"{category.__name__}: {text}"
    if group:
        text = f"{group}: {text}"
    if text in _shown:
        return
    _shown.add(text)
    sys.stdout.flush()  # keep the warning after what was printed before it
    print(f"scalinglaws: warning: {text}", file=sys.stderr if file is None else file)


_shown: set[str] = set()
#: the command being run, for messages spelt in its flags; positional arguments' names
_running: dict = {"args": None, "positional": frozenset()}


def _stop_workers() -> None:
    """End the worker processes a parallel bootstrap may have left (joblib's loky)."""
    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None) if module else None
    if executor is not None:
        try:
            executor.shutdown(wait=True, kill_workers=True)
        except Exception:  # pragma: no cover - best effort on the way out
            pass


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    previous_term = None
    if _in_main_thread():
        previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    _shown.clear()
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a one-line usage error
            return exc.code if isinstance(exc.code, int) else 2
        if not args.command:
            parser.print_help()
            return 2
        _running.update(args=args, positional=_positional_dests(parser))
        with warnings.catch_warnings():
            warnings.simplefilter("always", ScalingLawsWarning)
            if not args.verbose:
                warnings.showwarning = _show_warning
            return _run(args)
    except KeyboardInterrupt:
        _stop_workers()
        print("scalinglaws: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        _stop_workers()
        print("scalinglaws: interrupted", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:  # `scalinglaws ... | head`: the reader left, having read what
        import os  # it wanted: no traceback, and status 0 (not a failure of the command, so
        # a script under `set -e -o pipefail` goes on)

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        _running.update(args=None)
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


def _positional_dests(parser) -> frozenset:
    """Names of the positional arguments of ``parser`` and its subcommands (``path``,
    ``fit``, ``kind``...): no flag spells them."""
    import argparse

    names, stack = set(), [parser]
    while stack:
        for action in stack.pop()._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            elif not action.option_strings:
                names.add(action.dest)
    return frozenset(names)


def _names_stdout(out) -> bool:
    """Whether the path ``out`` is the stream this process's standard output goes to: the
    same pipe, file or terminal (``/dev/stdout``, ``/dev/fd/1``, ``/dev/pts/3``, or ``f`` in
    ``... --out f > f``). False when ``sys.stdout`` is no file (a test's capture)."""
    try:
        here, there = os.fstat(sys.stdout.fileno()), os.stat(out)
    except (AttributeError, OSError, ValueError):  # (io.UnsupportedOperation is both)
        return False
    if stat.S_ISCHR(here.st_mode) and stat.S_ISCHR(there.st_mode):
        return here.st_rdev == there.st_rdev  # one terminal or device, by any of its names
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


@contextlib.contextmanager
def _stdout_once(args):
    """While the command runs, keep what it prints off the stream ``--out`` writes, when that
    stream is standard output: ``--out /dev/stdout`` then holds the file, once, as ``--out
    x.json`` would. The document ``--json`` prints is the one ``--out`` writes, so it is
    dropped (before, ``--json --out /dev/stdout`` printed it twice); readable text, and a
    ``--json`` document other than the file (``reproduce``'s tables beside its fit), goes
    to stderr, as ``tar -v`` lists there when the archive goes to stdout."""
    out = getattr(args, "out", None)
    if not out or not _names_stdout(out):
        yield
        return
    sys.stdout.flush()
    same = getattr(args, "json", False) and getattr(args, "json_is_out", True)
    saved, sys.stdout = sys.stdout, (io.StringIO() if same else sys.stderr)
    try:
        yield
    finally:
        sys.stdout = saved


def _run(args) -> int:
    try:
        check_out(args)  # before any work
        with _stdout_once(args):
            return args.func(args)
    except InputError as exc:
        if args.verbose:
            raise
        print(f"scalinglaws: error: {in_flags(str(exc), args)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:
        if args.verbose:
            raise
        print(f"scalinglaws: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


#: Python argument names whose flag is spelt otherwise (the destination of the flag)
_FLAG_OF = {"fixed": "fix", "tied": "tie", "n_resamples": "bootstrap", "rng": "seed",
            "n_jobs": "jobs"}


def in_flags(message: str, args) -> str:
    """``message`` with the Python argument names it quotes (`` `fixed` ``, `` `tied['beta']` ``,
    `` `scatter=` ``, ``lr_policy='interpolate'``, ``budget='bin'``) spelt as this command's
    flags (``--fix``, ``--tie beta``, ``--scatter``, ``--lr-policy interpolate``, ``--budget
    bin``), so an error read on the command line names what the user typed. Names that are
    no flag of the command stay."""
    import re

    given = vars(args)
    positional = _running["positional"]

    def flag(name):
        dest = _FLAG_OF.get(name, name)
        if dest not in given or dest in positional:
            return None
        return "--" + dest.replace("_", "-")

    def quoted(match):
        name, key = match.group(1), match.group(2)
        spelt = flag(name)
        if spelt is None:
            return match.group(0)
        return f"{spelt} {key}" if key else spelt

    def bare(match):
        spelt = flag(match.group(1))
        return match.group(0) if spelt is None else f"{spelt} {match.group(2)}"

    def setting(match):
        spelt = flag(match.group(1))
        return match.group(0) if spelt is None else f"pass {spelt} {match.group(2)}"

    message = re.sub(r"`([A-Za-z_]\w*)(?:\[['\"]?([^'\"\]]*)['\"]?\])?(=)?`", quoted, message)
    message = re.sub(r"\bset ([a-z_]+) to '([^']*)'", setting, message)
    # name='value' as advice (pass budget='bin'), not inside a call (bootstrap(..., method=))
    return re.sub(r"(?<!\.\.\., )\b([a-z][a-z_]*)='([^']*)'", bare, message)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_terminated(signum, frame):
    raise _Terminated()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
