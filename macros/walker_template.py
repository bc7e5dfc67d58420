#!/usr/bin/env python3
"""LUMI Python advisor: answer a few questions, get the way to install your Python packages on LUMI.

Runs on any Python 3.6 or newer with the standard library only (the system python3 on
LUMI is enough). Generated from the guide's data/decision_tree.yaml; edit that, not this.

Usage:
  python3 lumi-python-advisor.py           ask the questions interactively
  python3 lumi-python-advisor.py --paths   print every answer path as JSON

At a question type the number of an answer, b to go back, q to quit.
Exit codes: 0 a recommendation was shown (or --paths printed), 1 you quit with q,
2 the input ended before a recommendation (or bad command-line arguments),
130 interrupted with Ctrl-C.
"""

import argparse
import json
import sys

# Replaced by macros/walker.py with the rendered tree as JSON text.
TREE_JSON = None  # @tree@

EXIT_DONE, EXIT_QUIT, EXIT_EOF, EXIT_INTERRUPTED = 0, 1, 2, 130

KIND_LABELS = {
    "recommended": "Recommended",
    "conditional": "Recommended under conditions",
    "discouraged": "Not recommended",
}


class InputEnded(Exception):
    """Standard input closed before the walk reached a recommendation."""


def say(text=""):
    """Print text even where the terminal cannot show every character (LANG=C on Python 3.6)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    sys.stdout.write(text.encode(encoding, "replace").decode(encoding) + "\n")
    sys.stdout.flush()


def ask(prompt):
    """One line of input, stripped; InputEnded at end of input."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:
        return "(unreadable characters)"
    if not line:
        raise InputEnded()
    return line.strip()


def page_url(tree, leaf):
    return tree["site_url"] + leaf["url"]


def all_paths(tree):
    """Every path from the first question to a recommendation, in answer order."""
    paths = []

    def walk(node_id, answers):
        node = tree["nodes"][node_id]
        if "recommendation" in node:
            leaf = node["recommendation"]
            paths.append({"answers": answers,
                          "recommendation": {"id": node_id, "title": leaf["title"],
                                             "url": page_url(tree, leaf)}})
            return
        for answer in node["answers"]:
            walk(answer["next"], answers + [{"question": node["question"], "answer": answer["label"]}])

    walk(tree["root"], [])
    return paths


def show_recommendation(tree, leaf):
    say()
    say("=> {} ({})".format(leaf["title"], KIND_LABELS[leaf["kind"]]))
    say("   When: " + leaf["when"])
    say("   Why:  " + leaf["why"])
    if leaf["commands"]:
        say()
        say("   Commands:")
        for command in leaf["commands"]:
            for line in command.splitlines():
                say("     " + line)
    say()
    say("   Read more: " + page_url(tree, leaf))


def walk_interactively(tree):
    """Ask from the root until a recommendation; return the exit code."""
    say("Which way should you install Python packages on LUMI?")
    say("Type the number of an answer, b to go back, q to quit.")
    history = [tree["root"]]
    while True:
        node = tree["nodes"][history[-1]]
        if "recommendation" in node:
            show_recommendation(tree, node["recommendation"])
            return EXIT_DONE
        say()
        say("{}. {}".format(len(history), node["question"]))
        if node.get("help"):
            say("   ({})".format(node["help"]))
        answers = node["answers"]
        for number, answer in enumerate(answers, 1):
            say("  {}) {}".format(number, answer["label"]))
        while True:
            reply = ask("Your answer [1-{}, b, q]: ".format(len(answers))).lower()
            if reply == "q":
                say("Quit without a recommendation.")
                return EXIT_QUIT
            if reply == "b":
                if len(history) == 1:
                    say("This is the first question; there is nothing to go back to.")
                    continue
                history.pop()
                break
            if reply.isdigit() and 1 <= int(reply) <= len(answers):
                history.append(answers[int(reply) - 1]["next"])
                break
            say("'{}' is not an answer: type a number from 1 to {}, b or q.".format(reply, len(answers)))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", action="store_true",
                        help="print every path through the questions as JSON and exit")
    args = parser.parse_args(argv)
    tree = json.loads(TREE_JSON)
    if args.paths:
        say(json.dumps(all_paths(tree), indent=2))
        return EXIT_DONE
    try:
        return walk_interactively(tree)
    except InputEnded:
        say()
        say("Input ended before a recommendation; run again and answer every question.")
        return EXIT_EOF
    except KeyboardInterrupt:
        say()
        say("Interrupted.")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
