"""'did you mean' suggestions: the same answers as difflib over every name, at a cost per
problem that does not grow with the number of sections (issue 13 item 7)."""

from __future__ import annotations

import difflib
import random
import string
from collections.abc import Generator
from typing import Any

import pytest

from siebel_gateway.def_file import check_bytes
from siebel_gateway.def_file.problems import NameIndex, did_you_mean


def full_scan(word: str, names: list[str], cutoff: float = 0.75) -> str:
    """What the checker used to answer: difflib over every name."""
    folded = {n.casefold(): n for n in names}
    match = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=cutoff)
    return folded[match[0]] if match else ""


def generated_names(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    stems = ["AnswerCall", "ReleaseCall", "HoldCall", "RetrieveCall", "MakeCall",
             "TransferInit", "ConferenceComplete", "ChangeReadyState", "LogIn", "LogOut",
             "OnInboundCallReceived", "ShowStatusText", "SetWrapUpReason"]
    names = {f"{rng.choice(stems)}{rng.choice(['', '_', 'For', 'X'])}{i}" for i in range(n)}
    names |= {"".join(rng.choices(string.ascii_letters, k=rng.randint(4, 18)))
              for _ in range(n // 4)}
    return sorted(names)


def one_typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(len(name))
    kind = rng.choice(("replace", "add", "drop", "swap"))
    if kind == "replace":
        return name[:i] + rng.choice("xqz-._9") + name[i + 1:]
    if kind == "add":
        return name[:i] + rng.choice("xqz-._9") + name[i:]
    if kind == "drop" and len(name) > 3:
        return name[:i] + name[i + 1:]
    j = min(i + 1, len(name) - 1)
    return name[:i] + name[j] + name[i] + name[j + 1:] if j > i else name + "s"


def test_one_typo_gets_the_same_suggestion_as_difflib_over_every_name() -> None:
    names = generated_names(3000)
    index = NameIndex(names)
    rng = random.Random(11)
    checked = differ = 0
    for name in rng.sample(names, 150):
        word = one_typo(rng, name)
        if word.casefold() == name.casefold():
            continue
        checked += 1
        differ += (index.closest(word) or "") != full_scan(word, names)
    assert checked > 140 and differ == 0


def test_words_that_are_no_typo_still_get_a_near_name_or_none() -> None:
    names = generated_names(3000)
    index = NameIndex(names)
    assert index.closest("AnswerCallFor") is not None  # shares its beginning with many
    assert index.closest("qqqqqqqqqqqqqqqq") is None  # like nothing: no suggestion
    assert index.hint("qqqqqqqqqqqqqqqq") == ""


def test_small_sets_are_still_compared_whole() -> None:
    assert did_you_mean("Comand", ["Command", "CmdData", "EventHandler"]) == \
        " (did you mean 'Command'?)"
    assert did_you_mean("answercal", ["AnswerCall", "ReleaseCall"]) == \
        " (did you mean 'AnswerCall'?)"


@pytest.fixture
def comparisons(monkeypatch: pytest.MonkeyPatch) -> Generator[list[int], None, None]:
    """How many names difflib compared a word with (one per SequenceMatcher.set_seq1)."""
    count = [0]
    original = difflib.SequenceMatcher.set_seq1

    def counting(self: Any, a: Any) -> None:
        count[0] += 1
        original(self, a)

    monkeypatch.setattr(difflib.SequenceMatcher, "set_seq1", counting)
    yield count


def def_with_unresolved(commands: int, wrong: int) -> bytes:
    lines = ['[Siebel]', 'CommServerVersion = "7.0"']
    for i in range(commands):
        lines += [f"[Command:AnswerCall_{i}]", 'DeviceCommand = "AnswerCall"']
    lines += ["[Command:Everything]"]
    lines += [f'SubCommand_{n + 1} = "AnswerCall-{n * 7 % commands}"' for n in range(wrong)]
    return "\n".join(lines).encode() + b"\n"


@pytest.mark.parametrize("commands", [200, 4000])
def test_suggestion_cost_per_problem_does_not_grow_with_the_file(
        comparisons: list[int], commands: int) -> None:
    result = check_bytes(def_with_unresolved(commands, 150), "big.def")
    hinted = [p.message for p in result.errors if "refers to [Command:" in p.message]
    assert len(hinted) == 150
    # every one names the section it meant, as difflib over all names would
    for n, message in enumerate(hinted):
        assert message.endswith(f"(did you mean 'AnswerCall_{n * 7 % commands}'?)"), message
    assert comparisons[0] <= 5 * len(hinted)  # a full scan: `commands` per problem
