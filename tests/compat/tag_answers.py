"""Changes a run's tags through one side's client and prints what it answered, as JSON.

python tag_answers.py metaflow|flowtui.client PATHSPEC
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

client = importlib.import_module(sys.argv[1])
client.namespace(None)
pathspec = sys.argv[2]
run = client.Run(pathspec)
answers: dict[str, Any] = {}


def attempt(name: str, change: Any) -> None:
    try:
        change()
        answers[name] = "changed"
    except Exception:
        answers[name] = "refused"


attempt("remove_a_number", lambda: run.remove_tag(4))
attempt("replace_nothing_with_nothing", lambda: run.replace_tags([], []))
attempt("add_tags_given_a_string", lambda: run.add_tags("ab"))  # one tag, "ab"
attempt("remove_tags_given_a_string", lambda: run.remove_tags("ab"))
attempt("remove_a_system_tag_among_others", lambda: run.remove_tags(["x", *run.system_tags]))
run.add_tag(["whoop", "eee"])  # the older form: a list where one tag goes
answers["after_add_tag_list"] = sorted(run.user_tags)
run.replace_tag(["whoop", "eee"], ["woo", "hoo"])
answers["after_replace_tag_lists"] = sorted(run.user_tags)
run.remove_tag(["woo", "hoo"])
answers["after_remove_tag_list"] = sorted(run.user_tags)
run.add_tags(["AAA", "BBB"])
run.replace_tags(["AAA", "BBB"], ["BBB", "CCC"])  # removes first, then adds
answers["after_replace_tags"] = sorted(run.user_tags)

other = client.Run(pathspec)
run.add_tag("mine")
other.remove_tag("mine")  # another reader changes the tags meanwhile
answers["a_run_keeps_what_its_change_left"] = "mine" in run.user_tags

step = run["start"]
answers["tasks_with_a_tag_the_run_lacks"] = len(list(step.tasks("not_a_tag")))
answers["tasks_with_the_runs_tag"] = len(list(step.tasks("CCC")))
answers["artifact_has_the_runs_tags"] = "CCC" in step.task["value"].tags
print(json.dumps(answers, sort_keys=True))
