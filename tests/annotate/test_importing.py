"""The importing service on the real database: every format, the shared data sets, duplicates, dry runs and bad input."""
import gzip
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from annotate.importing import LineError, import_items
from annotate.models import Assignment, Item, Response, TaskMode
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def shared_file(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"shared data file {path} is absent (the tests read the public data sets from ../shared/data)")
    return path


def jsonl(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def good(n: int, responses: int = 2) -> dict:
    return {"id": f"good-{n}", "prompt": f"Question {n}?", "responses": [f"answer {n}.{k}" for k in range(responses)]}


def responses_of(item: Item) -> list[tuple[str, str]]:
    return [(r.text, r.model_name) for r in item.responses.order_by("position")]


# --- formats ---------------------------------------------------------------------------------

def test_native_jsonl_keeps_every_field(tmp_path):
    project = ProjectFactory(task_mode=TaskMode.RANKING, allow_ties=True)
    chat_prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a prime."}]
    path = write(tmp_path, "items.jsonl", jsonl(
        {"id": "q1", "prompt": "2 + 2?", "responses": ["4", {"text": "five", "model": "m-b"}], "metadata": {"topic": "sums"}},
        "",
        {"id": 7, "prompt": chat_prompt, "responses": ["2", "3", "4"], "gold_answer": [1, 1, 3]},
    ))

    report = import_items(project, path)

    assert report.ok and report.saved, report.errors
    assert (report.format, report.container, report.created, report.responses_written) == ("native", "jsonl", 2, 5)
    q1, q7 = Item.objects.get(external_id="q1"), Item.objects.get(external_id="7")
    assert (q1.prompt, q1.metadata, q1.is_gold, q1.gold_answer) == ("2 + 2?", {"topic": "sums"}, False, None)
    assert responses_of(q1) == [("4", ""), ("five", "m-b")]
    assert (q7.prompt, q7.is_gold, q7.gold_answer) == (chat_prompt, True, [1, 1, 3])
    assert responses_of(q7) == [("2", ""), ("3", ""), ("4", "")]


def test_native_json_array_is_read_with_the_line_each_item_starts_on(tmp_path):
    project = ProjectFactory()
    text = '[\n  {"id": "a", "prompt": "p", "responses": ["x", "y"]},\n  {"id": "b",\n   "prompt": "p2",\n   "responses": ["x"]}\n]\n'

    assert import_items(project, write(tmp_path, "items.json", text)).errors == [
        LineError(3, "responses", "an item needs at least 2 responses, this one has 1")
    ]
    fixed = import_items(project, write(tmp_path, "items.json", text.replace('["x"]', '["x", "z"]')))
    assert (fixed.ok, fixed.container, fixed.created) == (True, "json", 2)


def test_native_csv_with_models_json_cells_and_a_multiline_cell(tmp_path):
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    path = write(tmp_path, "items.csv", (
        "\ufeffid,prompt,response_1,model_1,response_2,model_2,response_3,metadata,gold_answer\r\n"
        'c1,"Write a list:\r\n- one",first,m1,second,m2,,"{""topic"": ""lists""}","[2, 1]"\r\n'
        "c2,Plain,a,,b,,c,,\r\n"
    ))

    report = import_items(project, path)

    assert (report.ok, report.container, report.created) == (True, "csv", 2), report.errors
    c1, c2 = Item.objects.get(external_id="c1"), Item.objects.get(external_id="c2")
    assert (c1.prompt, c1.metadata, c1.gold_answer) == ("Write a list:\r\n- one", {"topic": "lists"}, [2, 1])
    assert responses_of(c1) == [("first", "m1"), ("second", "m2")]
    assert responses_of(c2) == [("a", ""), ("b", ""), ("c", "")]


def test_gzipped_files_are_unzipped_whatever_their_name(tmp_path):
    project = ProjectFactory()
    path = write(tmp_path, "items.jsonl.gz", gzip.compress(jsonl(good(1), good(2)).encode()))

    assert import_items(project, path).created == 2
    assert import_items(project, io.BytesIO(gzip.compress(jsonl(good(3)).encode()))).created == 1


def test_items_without_an_id_get_the_same_content_id_on_every_import(tmp_path):
    project = ProjectFactory()
    path = write(tmp_path, "items.jsonl", jsonl({"prompt": "p", "responses": ["a", "b"]}, {"prompt": "p", "responses": ["a", "c"]}))

    assert import_items(project, path).created == 2
    again = import_items(project, path, on_duplicate="skip")

    assert (again.created, again.skipped) == (0, 2)
    assert all(external_id.startswith("sha1-") for external_id in Item.objects.values_list("external_id", flat=True))


def test_chat_lines_with_completions_or_openai_choices(tmp_path):
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    messages = [{"role": "user", "content": "Hi"}]
    path = write(tmp_path, "chat.jsonl", jsonl(
        {"id": "c1", "messages": messages, "completions": ["Hello!", {"content": "Hey", "model": "m2"}, {"text": "Yo"}]},
        {"id": "c2", "messages": messages, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hello"}},
            {"index": 1, "message": {"role": "assistant", "content": "Hi there"}},
        ]},
    ))

    report = import_items(project, path)

    assert (report.ok, report.format, report.created) == (True, "chat", 2), report.errors
    assert Item.objects.get(external_id="c1").prompt == messages
    assert responses_of(Item.objects.get(external_id="c1")) == [("Hello!", ""), ("Hey", "m2"), ("Yo", "")]
    assert responses_of(Item.objects.get(external_id="c2")) == [("Hello", ""), ("Hi there", "")]


def test_hh_rlhf_line_becomes_the_shared_conversation_and_the_two_final_replies(tmp_path):
    project = ProjectFactory()
    shared = "\n\nHuman: Hi\n\nAssistant: Hello, how can I help?\n\nHuman: A joke, please."
    path = write(tmp_path, "hh.jsonl", jsonl({
        "chosen": shared + "\n\nAssistant: Why did the chicken cross the road?",
        "rejected": shared + "\n\nAssistant: No.",
    }))

    report = import_items(project, path)

    assert (report.ok, report.format) == (True, "hh-rlhf")
    item = Item.objects.get()
    assert item.prompt == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello, how can I help?"},
        {"role": "user", "content": "A joke, please."},
    ]
    assert responses_of(item) == [("Why did the chicken cross the road?", ""), ("No.", "")]
    assert item.metadata == {"source": "hh-rlhf", "source_ranks": [1, 2]}


@pytest.mark.parametrize("name", ["harmless-base-test-even.jsonl", "harmless-base-test-odd.jsonl"])
def test_hh_rlhf_shared_files_import_whole(name):
    project = ProjectFactory()

    report = import_items(project, shared_file(f"hh-rlhf/{name}"))

    assert (report.ok, report.format, report.created, report.responses_written) == (True, "hh-rlhf", 1156, 2312), report.errors[:3]
    assert all(item.prompt[-1]["role"] == "user" for item in Item.objects.filter(project=project).only("prompt"))


def test_hh_rlhf_reply_that_runs_on_for_several_turns_stays_whole():
    """Line 628 of the even file: the chosen reply itself contains a further assistant turn."""
    project = ProjectFactory()
    import_items(project, shared_file("hh-rlhf/harmless-base-test-even.jsonl"))
    line = shared_file("hh-rlhf/harmless-base-test-even.jsonl").read_text(encoding="utf-8").splitlines()[627]
    chosen = json.loads(line)["chosen"]

    reply = chosen.split("Isn't that drag kings?\n\nAssistant:")[1].strip()

    item = Item.objects.get(project=project, responses__position=0, responses__text=reply)

    assert "\n\nAssistant:" in reply
    assert item.prompt[-1] == {"role": "user", "content": "Isn't that drag kings?"}


def test_pandalm_shared_file_coerces_the_six_boolean_responses():
    project = ProjectFactory()

    report = import_items(project, shared_file("pandalm/pandalm_testset-v1.json"))

    assert (report.ok, report.format, report.container, report.created) == (True, "pandalm", "json", 999), report.errors[:3]
    assert len(report.notes) == 6 and all("boolean" in note for note in report.notes)
    item = Item.objects.get(external_id="pandalm-157")
    assert {text for text, _ in responses_of(item)} & {"True", "False"}
    first = Item.objects.get(external_id="pandalm-0")
    assert first.prompt.startswith("The sentence you are given might be too wordy")
    assert first.prompt.endswith("please let me know.")
    assert [model for _, model in responses_of(first)] == ["bloom-7b", "llama-7b"]
    assert first.metadata["source_ranks_by_annotator"] == {"annotator1": [2, 1], "annotator2": [2, 1], "annotator3": [2, 1]}


def test_wmt16_shared_rankings_become_ranking_items_and_empty_rankings_are_noted(tmp_path):
    with gzip.open(shared_file("wmt16/wmt16_rankings_anon.jsonl.gz"), "rt", encoding="utf-8") as source:
        head = [next(source) for _ in range(1500)]
    nothing_to_rank = sum(len(json.loads(line)["outputs"]) < 2 for line in head)
    path = write(tmp_path, "wmt16_head.jsonl.gz", gzip.compress("".join(head).encode()))
    project = ProjectFactory(task_mode=TaskMode.RANKING)

    report = import_items(project, path)

    assert (report.ok, report.format, report.created) == (True, "wmt16", 1500 - nothing_to_rank), report.errors[:3]
    assert nothing_to_rank and len(report.notes) == nothing_to_rank
    first = Item.objects.get(external_id="wmt16-1")
    assert first.prompt == "Rank the translations of WMT16 newstest cze-eng segment 779."
    assert first.metadata["source_ranks"] == [5, 3, 4, 2, 1]
    assert responses_of(first)[3][0].count(" + ") == 2


def test_wmt16_five_way_rankings_do_not_fit_a_pairwise_project(tmp_path):
    with gzip.open(shared_file("wmt16/wmt16_rankings_anon.jsonl.gz"), "rt", encoding="utf-8") as source:
        path = write(tmp_path, "wmt16_head.jsonl", next(source))

    report = import_items(ProjectFactory(task_mode=TaskMode.PAIRWISE), path)

    assert report.errors == [LineError(1, "responses", "a pairwise project needs exactly 2 responses, this item has 5")]


def test_oasst_trees_give_an_item_per_ranked_sibling_group():
    project = ProjectFactory(task_mode=TaskMode.RANKING)

    report = import_items(project, shared_file("oasst/oasst_en_100_tree.jsonl"))

    assert (report.ok, report.format, report.created) == (True, "oasst", 212), report.errors[:3]
    items = Item.objects.filter(project=project)
    assert all(2 <= item.responses.count() <= 9 for item in items)
    assert all(item.prompt[-1]["role"] == "user" for item in items)
    assert all(item.metadata["source_ranks"] == sorted(item.metadata["source_ranks"]) for item in items)
    assert items.filter(prompt__0__content="How can I find the best 401k plan for my needs?").exists()


def test_explicit_format_overrides_detection(tmp_path):
    path = write(tmp_path, "odd.jsonl", jsonl({"prompt": "p", "responses": ["a", "b"], "messages": [], "completions": []}))

    assert import_items(ProjectFactory(), path, format="auto").format == "chat"
    assert import_items(ProjectFactory(), path, format="native").errors == [
        LineError(1, "messages", "is not a field of the native format (id, prompt, responses, metadata, gold_answer)")
    ]


def test_rows_of_a_large_file_stay_with_their_items_across_batches(tmp_path):
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    path = write(tmp_path, "big.jsonl", jsonl(*(good(n, responses=2 + n % 3) for n in range(4500))))

    report = import_items(project, path)

    assert report.created == 4500 and report.responses_written == Response.objects.filter(item__project=project).count()
    mismatched = [
        (r.item.external_id, r.text) for r in Response.objects.select_related("item").filter(item__project=project)
        if r.text != f"answer {r.item.external_id.removeprefix('good-')}.{r.position}"
    ]
    assert mismatched == []



def test_imported_responses_carry_their_length_in_characters(tmp_path):
    # Whichever path writes them (COPY on PostgreSQL, executemany on SQLite), also on update.
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    texts = ["short", "naïve café ☕", "x" * 5000]
    import_items(project, write(tmp_path, "a.jsonl", jsonl({"id": "q", "prompt": "?", "responses": texts})))
    assert list(Response.objects.filter(item__project=project).values_list("text", "char_count")) == [(t, len(t)) for t in texts]

    changed = {"id": "q", "prompt": "?", "responses": ["Ünïcödé", "", "two words"]}
    import_items(project, write(tmp_path, "b.jsonl", jsonl(changed)), on_duplicate="update")
    assert list(Response.objects.filter(item__project=project).values_list("char_count", flat=True)) == [7, 0, 9]

# --- duplicates and dry runs -----------------------------------------------------------------

def test_reimport_is_rejected_line_by_line_by_default(tmp_path):
    project = ProjectFactory()
    path = write(tmp_path, "items.jsonl", jsonl(good(1), good(2)))
    import_items(project, path)

    report = import_items(project, path)

    assert report.errors == [
        LineError(n, "id", f"'good-{n}' already exists in project '{project.slug}' "
                  "(import with on_duplicate 'skip' or 'update' to re-import a file)")
        for n in (1, 2)
    ]
    assert Item.objects.count() == 2


def test_reimport_with_skip_adds_only_new_items(tmp_path):
    project = ProjectFactory()
    import_items(project, write(tmp_path, "a.jsonl", jsonl(good(1))))

    report = import_items(project, write(tmp_path, "b.jsonl", jsonl({**good(1), "prompt": "changed"}, good(2))), on_duplicate="skip")

    assert (report.created, report.skipped) == (1, 1)
    assert Item.objects.get(external_id="good-1").prompt == "Question 1?"


def test_reimport_with_update_replaces_changed_items_and_leaves_the_same_ones(tmp_path):
    project = ProjectFactory(task_mode=TaskMode.RANKING)
    import_items(project, write(tmp_path, "a.jsonl", jsonl(good(1), good(2))))
    first_ids = dict(Item.objects.values_list("external_id", "pk"))
    changed = {**good(2), "prompt": "New?", "responses": ["x", "y", "z"], "gold_answer": [1, 2, 3]}

    report = import_items(project, write(tmp_path, "b.jsonl", jsonl(good(1), changed, good(3))), on_duplicate="update")

    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    item = Item.objects.get(external_id="good-2")
    assert (item.pk, item.prompt, item.is_gold, item.gold_answer) == (first_ids["good-2"], "New?", True, [1, 2, 3])
    assert responses_of(item) == [("x", ""), ("y", ""), ("z", "")]


def test_update_refuses_to_change_an_item_annotators_have_seen(tmp_path):
    project = ProjectFactory()
    item = ItemFactory(project=project, external_id="seen")
    now = timezone.now()
    Assignment.objects.create(project=project, item=item, annotator=UserFactory(), shown_order=[1, 0],
                              leased_at=now, expires_at=now + timedelta(minutes=15))
    path = write(tmp_path, "b.jsonl", jsonl({**good(1), "id": "seen"}, good(2)))

    report = import_items(project, path, on_duplicate="update")

    assert report.errors == [LineError(1, "id", "'seen' has already been handed to annotators, so its content "
                                                "cannot change; give the new version a new id")]
    assert responses_of(Item.objects.get(pk=item.pk))[0][0] == "Answer 0 to seen"
    assert not Item.objects.filter(external_id="good-2").exists()


def test_dry_run_counts_everything_and_saves_nothing(tmp_path):
    project = ProjectFactory()
    ItemFactory(project=project, external_id="good-1")

    report = import_items(project, write(tmp_path, "a.jsonl", jsonl(good(1), good(2), good(3))), on_duplicate="skip", dry_run=True)

    assert (report.ok, report.saved, report.created, report.skipped) == (True, False, 2, 1)
    assert "would be created" in report.summary()
    assert list(Item.objects.values_list("external_id", flat=True)) == ["good-1"]


def test_an_error_after_a_written_batch_still_imports_nothing(tmp_path):
    project = ProjectFactory()
    path = write(tmp_path, "big.jsonl", jsonl(*(good(n) for n in range(2500)), {"prompt": "last", "responses": ["only one"]}))

    report = import_items(project, path)

    assert report.errors == [LineError(2501, "responses", "an item needs at least 2 responses, this one has 1")]
    assert not Item.objects.filter(project=project).exists()


# --- bad input: the exact line and reason, and the database left as it was --------------------

GOOD_1, GOOD_3 = json.dumps(good(1)), json.dumps(good(3))


def around(bad: str) -> str:
    """A JSONL file whose second line is `bad` between two good ones."""
    return f"{GOOD_1}\n{bad}\n{GOOD_3}\n"


def record(**fields) -> str:
    return json.dumps({"id": "bad", "prompt": "p", "responses": ["a", "b"], **fields})


BAD_INPUTS = [
    ("invalid-json", "x.jsonl", around('{"prompt": "p", "responses": ["a", "b"'), 2, "json", "is not valid JSON"),
    ("not-an-object", "x.jsonl", around('["p", "a", "b"]'), 2, "record", "must be a JSON object, not a list"),
    ("missing-prompt", "x.jsonl", around('{"id": "bad", "responses": ["a", "b"]}'), 2, "prompt", "is missing"),
    ("prompt-wrong-type", "x.jsonl", around(record(prompt=42)), 2, "prompt", "must be a string or a list"),
    ("prompt-empty", "x.jsonl", around(record(prompt="  ")), 2, "prompt", "is empty"),
    ("chat-role-unknown", "x.jsonl", around(record(prompt=[{"role": "robot", "content": "hi"}])), 2, "prompt[0].role",
     "must be one of system, user, assistant, not 'robot'"),
    ("chat-content-wrong-type", "x.jsonl", around(record(prompt=[{"role": "user", "content": ["hi"]}])), 2,
     "prompt[0].content", "must be a string, not a list"),
    ("missing-responses", "x.jsonl", around('{"id": "bad", "prompt": "p"}'), 2, "responses", "is missing"),
    ("responses-not-a-list", "x.jsonl", around(record(responses="a, b")), 2, "responses", "must be a list, not a string"),
    ("one-response", "x.jsonl", around(record(responses=["a"])), 2, "responses", "needs at least 2 responses, this one has 1"),
    ("response-wrong-type", "x.jsonl", around(record(responses=["a", 3])), 2, "responses[1]", "must be a string or an object"),
    ("response-null", "x.jsonl", around(record(responses=["a", None])), 2, "responses[1]", "not null"),
    ("response-without-text", "x.jsonl", around(record(responses=["a", {"model": "m"}])), 2, "responses[1].text", "is missing"),
    ("model-name-too-long", "x.jsonl", around(record(responses=["a", {"text": "b", "model": "m" * 201}])), 2,
     "responses[1].model", "is 201 characters long; the limit is 200"),
    ("unknown-field", "x.jsonl", around('{"id": "bad", "prompt": "p", "respones": ["a", "b"]}'), 2, "respones",
     "is not a field of the native format"),
    ("id-wrong-type", "x.jsonl", around(record(id=["a"])), 2, "id", "must be a string or a whole number, not a list"),
    ("id-too-long", "x.jsonl", around(record(id="x" * 256)), 2, "id", "is 256 characters long; the limit is 255"),
    ("metadata-not-an-object", "x.jsonl", around(record(metadata=[1, 2])), 2, "metadata", "must be an object, not a list"),
    ("metadata-nan", "x.jsonl", around('{"id": "bad", "prompt": "p", "responses": ["a", "b"], "metadata": {"score": NaN}}'), 2,
     "metadata", "holds NaN or Infinity"),
    ("nul-character", "x.jsonl", around(record(responses=["a", "b\u0000c"])), 2, "responses[1]", "contains a NUL character"),
    ("gold-not-numbers", "x.jsonl", around(record(gold_answer=["first", "second"])), 2, "gold_answer", "must be a list of whole numbers"),
    ("gold-wrong-length", "x.jsonl", around(record(gold_answer=[1, 2, 3])), 2, "gold_answer",
     "has 3 value(s) but the item has 2 responses"),
    ("gold-rank-outside", "x.jsonl", around(record(gold_answer=[1, 3])), 2, "gold_answer", "ranks [3] are outside 1..2"),
    ("gold-without-rank-1", "x.jsonl", around(record(gold_answer=[2, 2])), 2, "gold_answer", "has no rank 1"),
    ("pairwise-three-responses", "x.jsonl", around(record(responses=["a", "b", "c"])), 2, "responses",
     "a pairwise project needs exactly 2 responses, this item has 3"),
    ("duplicate-id-in-file", "x.jsonl", around(json.dumps(good(1))), 2, "id", "'good-1' is already used on line 1"),
    ("duplicate-content-without-id", "x.jsonl", '{"prompt": "p", "responses": ["a", "b"]}\n' * 2, 2, "id",
     "the same prompt and responses as line 1"),
    ("duplicate-id-in-project", "x.jsonl", around(record(id="existing")), 2, "id", "'existing' already exists in project"),
    ("bad-utf8", "x.jsonl", GOOD_1.encode() + b'\n{"prompt": "caf\xe9", "responses": ["a", "b"]}\n', 2, "encoding",
     "is not valid UTF-8 (byte(s) e9 at byte 16 of the line)"),
    ("bad-utf8-in-bom-json-array", "x.json", b'\xef\xbb\xbf[\n' + GOOD_1.encode() + b',\n{"prompt": "\xff"}\n]', 3, "encoding",
     "is not valid UTF-8 (byte(s) ff at byte 13 of the line)"),
    ("json-array-broken", "x.json", f"[\n{GOOD_1},\n{GOOD_3}\n{GOOD_1}\n]", 4, "json", "expected ',' or ']' after an item"),
    ("json-array-trailing-content", "x.json", f"[{GOOD_1}]\n[{GOOD_3}]", 1, "json", "unexpected content after the closing ']'"),
    ("undetectable-format", "x.jsonl", '{"question": "p", "answers": ["a", "b"]}', 1, "format",
     "cannot tell the format from the fields ['answers', 'question']"),
    ("empty-file", "x.jsonl", "\n\n", None, "file", "holds no items"),
    ("csv-without-prompt", "x.csv", "id,question,response_1,response_2\n1,p,a,b\n", 1, "header", "the header has no 'prompt' column"),
    ("csv-unknown-column", "x.csv", "prompt,response_1,response_2,topic\np,a,b,maths\n", 1, "header", "unknown column(s) 'topic'"),
    ("csv-response-gap", "x.csv", "prompt,response_1,response_2,response_3\np,a,b,\np,a,,c\n", 3, "response_2",
     "is empty but response_3 is not"),
    ("csv-bad-metadata", "x.csv", "prompt,response_1,response_2,metadata\np,a,b,{}\np,a,b,{topic}\n", 3, "metadata", "is not valid JSON"),
    ("csv-extra-cells", "x.csv", "prompt,response_1,response_2\np,a,b\nq,a,b,c\n", 3, "csv", "has 4 cells but the header has 3 columns"),
    ("hh-rlhf-unrelated-transcripts", "x.jsonl",
     json.dumps({"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: c\n\nAssistant: d"}),
     1, "rejected", "shares no conversation with 'chosen'"),
    ("pandalm-bad-verdict", "x.json",
     json.dumps([{"idx": 1, "instruction": "i", "input": "", "cmp_key": "a_b", "response1": "x", "response2": "y", "annotator1": 3}]),
     1, "annotator1", "must be 0 (tie), 1 or 2"),
]


@pytest.mark.parametrize(
    ("name", "content", "line", "field", "message"), [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input_is_reported_by_line_and_nothing_is_imported(tmp_path, name, content, line, field, message):
    project = ProjectFactory(task_mode=TaskMode.PAIRWISE, allow_ties=True)
    ItemFactory(project=project, external_id="existing")
    before = (Item.objects.count(), Response.objects.count())

    report = import_items(project, write(tmp_path, name, content))

    assert [(e.line, e.field) for e in report.errors] == [(line, field)], report.errors
    assert message in report.errors[0].message
    assert "nothing was imported" in report.summary()
    assert (Item.objects.count(), Response.objects.count()) == before


@pytest.mark.parametrize(("project_fields", "gold", "message"), [
    ({"task_mode": TaskMode.PAIRWISE, "allow_ties": False}, [1, 1], "ranks [1, 1] contain a tie, and this project does not allow ties"),
    ({"task_mode": TaskMode.RATING, "rating_min": 1, "rating_max": 5}, [5, 7], "ratings [7] are outside the project's scale 1..5"),
], ids=["tie-where-ties-are-off", "rating-outside-scale"])
def test_gold_answers_follow_the_project_settings(tmp_path, project_fields, gold, message):
    project = ProjectFactory(**project_fields)

    report = import_items(project, write(tmp_path, "x.jsonl", around(record(gold_answer=gold))))

    assert report.errors == [LineError(2, "gold_answer", message)]
    assert not Item.objects.exists()


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 100
    path = write(tmp_path, "x.jsonl", jsonl(good(1), good(2), good(3)))

    report = import_items(ProjectFactory(), path)

    size = path.stat().st_size
    assert report.errors == [LineError(None, "file", f"the file is {size:,} bytes; the limit is 100 (IMPORT_MAX_BYTES)")]
    assert not Item.objects.exists()


def test_a_gzipped_file_that_expands_past_the_limit_is_stopped(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 20_000
    path = write(tmp_path, "x.jsonl.gz", gzip.compress(jsonl(*(good(n) for n in range(1000))).encode()))
    assert path.stat().st_size < 20_000

    report = import_items(ProjectFactory(), path)

    assert report.errors == [LineError(None, "file", "the file expands to more than 20,000 bytes (IMPORT_MAX_BYTES) when unzipped")]
    assert not Item.objects.exists()


def test_every_bad_line_is_reported_not_only_the_first(tmp_path):
    path = write(tmp_path, "x.jsonl", jsonl(good(1), {"prompt": 1}, good(3), "nonsense", {**good(5), "responses": []}))

    report = import_items(ProjectFactory(), path)

    assert [(e.line, e.field) for e in report.errors] == [(2, "prompt"), (4, "json"), (5, "responses")]


def test_csv_cannot_carry_another_format(tmp_path):
    report = import_items(ProjectFactory(), write(tmp_path, "x.csv", "prompt,response_1,response_2\np,a,b\n"), format="hh-rlhf")

    assert report.errors == [LineError(None, "file", "a CSV file holds the native format, not hh-rlhf")]


def test_unknown_options_are_refused_before_reading(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'yaml'"):
        import_items(ProjectFactory(), tmp_path / "x.jsonl", format="yaml")
    with pytest.raises(ValueError, match="unknown on_duplicate 'merge'"):
        import_items(ProjectFactory(), tmp_path / "x.jsonl", on_duplicate="merge")
