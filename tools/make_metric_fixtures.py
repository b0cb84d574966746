#!/usr/bin/env python3
"""Writes the reference values the Metrics tests compare against into Tests/MetricsTests/Fixtures/:

- text_pairs.json: reference/candidate pairs with rouge-score's per-sample ROUGE-1/2/L/Lsum
  (with and without stemming), its tokens, sacrebleu's 13a tokens, corpus BLEU over the whole set
  and some subsets, and sentence BLEU for each pair;
- porter_words.json: words and NLTK's PorterStemmer stems (the stemmer rouge-score uses);
- mme/: a small MME results folder (all 14 subtasks, two questions per image) and
  mme_expected.json: the scores MME's official rules give it.

    pip install rouge-score==0.1.2 sacrebleu==2.6.0
    python3 tools/make_metric_fixtures.py

The MME scores come from a reimplementation of the official eval_tool/calculation.py (MME's
Evaluation branch of BradyFU/Awesome-Multimodal-Large-Language-Models, tools/eval_tool.zip,
commit 1c1d69e1): the reply is only lowercased (no stripping, no "." removal), then it is "yes" or
"no" if it equals one, else the first 4 characters decide ("yes" before "no"), else "other".
sklearn is left out: acc is the share of questions right, which is all its accuracy_score gives.
The reimplementation gives the labels per question, which calculation.py does not print; the
scores and totals the tests expect also come from calculation.py itself, run on the same folder by
tools/make_mme_official_fixture.py (mme_calculation.json holds what it printed). After changing
mme/, run both.

Every file records the versions that made it. The tests read these files only; they never need
Python.
"""
import json
import logging
import platform
from importlib.metadata import version
from pathlib import Path

import sacrebleu
from nltk.stem.porter import PorterStemmer
from rouge_score import rouge_scorer, tokenize
from sacrebleu.metrics import BLEU

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "MetricsTests" / "Fixtures"
VERSIONS = {
    "python": platform.python_version(),
    "rouge-score": version("rouge-score"),
    "sacrebleu": sacrebleu.__version__,
    "nltk": version("nltk"),
    "made_by": "tools/make_metric_fixtures.py",
}

# (reference, candidate): what each pair is there to exercise is in its comment.
PAIRS = [
    ("The cat sat on the mat.", "The cat sat on the mat."),  # identical
    ("The cat sat on the mat.", "the CAT sat on a mat"),  # case
    ("A red circle is above the blue square.", "There is a red circle above a blue square."),
    ("There are 3 triangles and 12 squares.", "There are three triangles and 12 squares."),  # numbers
    ("It costs $5.99, not 6,000 dollars!", "It costs $ 5.99 - not 6,000 dollars?"),  # 13a number rules
    ("", "Something was said."),  # empty reference
    ("Nothing here.", ""),  # empty candidate
    ("", ""),  # both empty
    ("Yes", "yes"),  # one word, case
    ("No", "Yes"),  # one word, no match
    ("the the the the", "the the"),  # repeated words
    ("the cat the cat the cat", "the the cat cat"),
    ("Café crème brûlée", "Cafe creme brulee"),  # accents
    ("naïve façade", "naive facade"),
    ("日本語のテキスト", "日本語 の テキスト"),  # CJK
    ("我爱北京天安门", "我 爱 北京"),
    ("I love pizza 🍕 and 🍣 sushi", "I love 🍕 pizza and sushi 🍣"),  # emoji
    ("İstanbul is big", "istanbul is big"),  # İ lowercases to i + combining dot
    ("5 \u212a of data", "5 k of data"),  # KELVIN SIGN lowercases to k
    ("precomposed \u00e9 vs decomposed", "precomposed e\u0301 vs decomposed"),  # canonically equal, not equal code points
    ("The cat sat.\nThe dog ran.", "The dog ran.\nThe cat sat."),  # multi-line (ROUGE-Lsum)
    ("First line here.\nSecond line is longer than the first.\nThird.", "Second line is longer.\nFirst line here."),
    ("a b c\n\nd e f", "a b\nc d e f"),  # blank line between sentences
    ("line one\r\nline two", "line one line two"),  # CRLF
    ("running runs ran", "run running runner"),  # stemming
    ("He generously gave", "they were generous givers"),
    ("caresses ponies ties", "caress pony tie"),
    ("the relational database", "relate the data bases"),
    ("hopefulness and goodness", "hopeful and good"),
    ("dying lying skies", "die lie sky"),
    ("state-of-the-art model", "state of the art model"),  # hyphens
    ("1990-2000 was a decade", "1990 - 2000 was decade"),  # digit-hyphen rule
    ("Tom &amp; Jerry &lt;3", "Tom & Jerry <3"),  # 13a unescapes entities
    ("&quot;quoted&quot; text", '"quoted" text'),
    ("<skipped> content here", "content here"),  # 13a drops <skipped>
    ("word-\nbreak joined", "wordbreak joined"),  # 13a joins -\n
    ("a well-known fact", "a well-known fact-\n"),  # ... but only after trailing whitespace is stripped
    ("Well... ok, fine.", "Well . . . ok , fine ."),
    ("3.14 is pi, 1,000 too", "3.14 is pi , 1,000 too"),
    ("e.g. the U.S.A. is big", "e.g. the USA is big"),
    ("trailing spaces   \t", "trailing spaces"),  # rstrip
    ("non\u00a0breaking space", "non breaking space"),  # NBSP is Python whitespace
    ("zero\u200bwidth", "zero width"),  # ZWSP is not
    ("The image shows a small green triangle in the top left corner and a large red circle in the center.",
     "In the image there is a large red circle in the center and a green triangle at the top left."),
    ("There is no dog in the picture; the image only contains a cat.", "No, there is no dog. The picture shows a cat."),
    ("The premise is false: there is no blue car in the image.", "There is a blue car parked next to the tree."),
    ("It's the dog's bone, isn't it?", "it is the dogs bone is it not"),  # apostrophes
    ("x", "x y z"),
    ("ALL CAPS SHOUTING TEXT", "all caps shouting text"),  # BLEU is case-sensitive
    ("!!! ???", "..."),  # punctuation only
    ("a a a a a a", "a a a"),
    ("print(x + 1) returns 6", "print ( x + 1 ) returns 6"),  # code
    ("Σίσυφος ΟΔΥΣΣΕΥΣ", "σίσυφος οδυσσευς"),  # Greek, final sigma
    ("the cat sat\nthe cat ran\nthe dog sat", "the cat sat and ran\nthe dog"),  # Lsum double counting
    ("red blue\nblue", "blue red"),  # which of two equally long LCSs is read back decides Lsum's hits
    ("The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log."),
]

# Corpus BLEU over these subsets (indices into PAIRS) as well as over all pairs.
BLEU_SUBSETS = {
    "first_ten": list(range(10)),
    "multi_line": [20, 21, 22, 23, 35, 36, 53, 54],
    "no_matches": [9],
    "empty_candidate": [6],
    "short_no_4grams": [8, 47, 50],
    "long_answers": [43, 44, 45, 55],
}

# Varied English: every other distinct word of three letters or more in the paper's text.
PAPER_WORDS = """
abdulaziz ability able absence account accuracy achieving activation adapted additionally addressing
advantage aggregation aims algorithm align alignments allow allows alpha also amount and answer any
applications apply approach appropriate architectural are arguments artificial asked assessing
attention balancing batch been behaviors being benchmarked best between blip bootstrapping both but
calculated capabilities caption captions carefully case challenge challenging cheaper checkpoint
choice clean cognition combination combines command comparative compared comparison complete
complicated components compress computational computing conclusion configuration consists
constraints content context convert correct cosine created crucial dai dataset decide decreased
decreasing default degradation demonstrated deployment description despite detecting detector
development devices differ discarding divided doi down due during easier effectively efficiency
efficiently emerging enables enhance enhancement enhancing ensures environments especially evaluate
evaluating even examining exceeding except existing expense experimental experimenting explore
extended external extract extraction facing fair feasibility features few fig figures final fine
fixed fluency focused follow following format former framework from full function future gap general
generalize generated generating generative given glue good greatly group guide hallucination handled
has heads hence high highest hoi however huge human hyperparameter idea image immense implementation
implementing improve improvement improves includes incorporating increasing indicates input inserted
insights instruct instruction intelligence intent intermediate introduce introduces introduction
isolating its keeping key kong lacked languages larger layer lead least length leverages like
limitations lin literature llm local lora loss lower machines main maintaining makes many
mathematics maximum measure mechanism method metric might minerals mixed mmlinstruction models
modules more most multimodalities multiple nature new not number off only optimization optimizing
org other our outperformed overall own pairs paradigm parameters passed patches per percentage
perform performing petroleum pioneering portion possible power practical predication preprocessing
preserving probabilistic process processes processor prompt propose proven provided purpose quality
query range ranging reach react reasoning recent reduce reduces related relationships remaining
representation required requirements resource response responsible resulting retention review
rewardbench run same saved scenarios scores search selected self sentence sets setup several shot
shows signs simple situations slow solve solves song space specifically split standalone start state
steps strong study successful suite surrounds systems tables target task teaches techniques tendency
tensors tested text thanks the then these things three time tokenization tokenizer tokens total
trade trainable training transformer translations tries trivial truth tuned type underexplored
understanding unfreeze unfrozen university unneeded use useful using utilized valuable values
variation various very vision visualbert vlms wang wei were when which wide will word world xie zero
""".split()

# Words that reach every rule of the stemmer (Porter's own examples and NLTK's extensions).
RULE_WORDS = """
caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized
hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational
valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization
predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti
sensibiliti triplicate formative formalize electriciti electrical hopeful goodness revival allowance
inference airliner gyroscopic adjustable defensible irritant replacement adjustment dependent
adoption homologou communism activate angulariti homologous effective bowdlerize probate rate cease
controll roll skies dying lying tying news innings inning outings cannings howe proceed exceed
succeed dies died spied flies enjoy enjoyment spy fly try running runs ran runner generously
generous geology theology archaeology fully hopefulli syzygy toy yyyy yayy boy says played
crying agreement emotional traditionally ability possibly 1990s abc123 Running CATS Generously
""".split()


def score_dict(score):
    return {"precision": score.precision, "recall": score.recall, "fmeasure": score.fmeasure}


def bleu_dict(score):
    return {
        "score": score.score, "counts": list(score.counts), "totals": list(score.totals),
        "precisions": list(score.precisions), "bp": score.bp,
        "sys_len": score.sys_len, "ref_len": score.ref_len,
    }


def text_pairs():
    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    rouge = {}
    rouge_corpus = {}
    for name, stem in [("plain", False), ("stemmed", True)]:
        scorer = rouge_scorer.RougeScorer(types, use_stemmer=stem)
        # rouge-score's argument order is (target, prediction).
        samples = [scorer.score(ref, cand) for ref, cand in PAIRS]
        rouge[name] = [{t: score_dict(s[t]) for t in types} for s in samples]
        rouge_corpus[name] = {t: sum(s[t].fmeasure for s in samples) / len(samples) for t in types}

    refs = [r for r, _ in PAIRS]
    cands = [c for _, c in PAIRS]
    bleu_corpus = [{"name": "all", "indices": list(range(len(PAIRS))),
                    **bleu_dict(sacrebleu.corpus_bleu(cands, [refs]))}]
    for name, indices in BLEU_SUBSETS.items():
        score = sacrebleu.corpus_bleu([cands[i] for i in indices], [[refs[i] for i in indices]])
        bleu_corpus.append({"name": name, "indices": indices, **bleu_dict(score)})

    effective = BLEU(effective_order=True)
    plain = BLEU(effective_order=False)
    bleu_sentence = [{"effective_order": bleu_dict(effective.sentence_score(c, [r])),
                      "plain": bleu_dict(plain.sentence_score(c, [r]))} for r, c in PAIRS]

    stemmer = PorterStemmer()
    texts = list(dict.fromkeys(refs + cands))
    tokens = [{"text": t, "rouge": tokenize.tokenize(t, None), "rouge_stemmed": tokenize.tokenize(t, stemmer),
               "bleu_tokens": plain._preprocess_segment(t).split()} for t in texts]

    return {
        "versions": VERSIONS,
        "pairs": [{"reference": r, "candidate": c} for r, c in PAIRS],
        "rouge": rouge, "rouge_corpus": rouge_corpus,
        "bleu_corpus": bleu_corpus, "bleu_sentence": bleu_sentence,
        "tokens": tokens,
    }


def porter_words():
    stemmer = PorterStemmer()
    words = dict.fromkeys(PAPER_WORDS + RULE_WORDS)
    return {"versions": VERSIONS, "stems": [[w, stemmer.stem(w)] for w in words]}


# MME: (subtask, category) in the official order.
MME_SUBTASKS = [
    ("existence", "perception"), ("count", "perception"), ("position", "perception"),
    ("color", "perception"), ("posters", "perception"), ("celebrity", "perception"),
    ("scene", "perception"), ("landmark", "perception"), ("artwork", "perception"),
    ("OCR", "perception"), ("commonsense_reasoning", "cognition"),
    ("numerical_calculation", "cognition"), ("text_translation", "cognition"),
    ("code_reasoning", "cognition"),
]
# Replies cycled over the questions; the comment says what the official rules make of each.
MME_REPLIES = [
    "Yes",  # yes
    "no.",  # no (prefix)
    "Not sure",  # no: "not " contains "no"
    "The answer is yes",  # other: "the " has neither
    "Y",  # other
    "yes, it is",  # yes
    "No, there is none",  # no
    "",  # other
    "YES.",  # yes
    "no",  # no (exact)
    "  yes",  # other: "  ye" (the official rules do not strip)
    "y.e.s",  # other (the official rules do not remove ".")
    "n.o.",  # other
    "nothing",  # no
    "I know",  # other: "i kn"
    "e\u0301yes",  # other: e, combining acute, y, e are the first 4 code points
    " no",  # no
    "Yes!",  # yes
    "nope",  # no
    "yesterday",  # yes
    "Maybe",  # other
]


def parse_reply(reply):
    """The official parse_pred_ans on a reply that is lowercased and nothing else."""
    if reply in ["yes", "no"]:
        return reply
    prefix = reply[:4]
    if "yes" in prefix:
        return "yes"
    if "no" in prefix:
        return "no"
    return "other"


def mme_folder():
    folder = OUT / "mme"
    folder.mkdir(parents=True, exist_ok=True)
    reply_index = 0
    for task, _ in MME_SUBTASKS:
        lines = []
        images = 2 if task in ("OCR", "code_reasoning") else 3
        for image in range(images):
            for question, truth in [("Is there a red circle", "Yes"), ("Is there a blue square", "No")]:
                if task == "existence":  # one subtask answered perfectly: acc 100, acc+ 100
                    reply = truth.lower() + "."
                else:
                    reply = MME_REPLIES[reply_index % len(MME_REPLIES)]
                    reply_index += 1
                lines.append(f"{task}_{image:04d}.png\t{question} in the image? Please answer yes or no.\t{truth}\t{reply}")
        text = "\n".join(lines)
        # One file ends without a newline, as hand-edited files do; the official script reads both.
        (folder / f"{task}.txt").write_text(text if task == "code_reasoning" else text + "\n")


def mme_expected():
    """Scores of the folder, computed as the official calculation.py does (reading included)."""
    folder = OUT / "mme"
    subtasks = []
    totals = {"perception": 0, "cognition": 0}
    for task, category in MME_SUBTASKS:
        lines = open(folder / f"{task}.txt", "r").readlines()
        chunks = [lines[i:i + 2] for i in range(0, len(lines), 2)]
        right = 0
        both_right = 0
        labels = []
        for chunk in chunks:
            assert len(chunk) == 2
            image_right = 0
            for line in chunk:
                _, _, truth, reply = line.split("\t")
                truth = truth.lower()
                assert truth in ["yes", "no"]
                label = parse_reply(reply.lower())
                labels.append(label)
                if label == truth:
                    image_right += 1
            right += image_right
            both_right += image_right == 2
        acc = right / len(labels)
        acc_plus = both_right / len(chunks)
        score = 0
        score += acc * 100
        score += acc_plus * 100
        totals[category] += score
        subtasks.append({"name": task, "category": category, "labels": labels, "acc": acc * 100,
                         "acc_plus": acc_plus * 100, "score": score})
    return {"versions": {"python": platform.python_version(), "made_by": VERSIONS["made_by"],
                         "rules": "MME eval_tool/calculation.py, Evaluation branch of "
                                  "BradyFU/Awesome-Multimodal-Large-Language-Models, commit 1c1d69e1"},
            "subtasks": subtasks, "perception": totals["perception"], "cognition": totals["cognition"],
            "overall": totals["perception"] + totals["cognition"]}


def to_json(value, depth=0):
    """JSON with the two outer levels spread over lines and everything deeper on one line each,
    so that the files stay small and a diff shows which sample changed; non-ASCII is escaped so
    that no editor can normalise or hide a test character."""
    pad = " " * (depth + 1)
    if depth < 2 and isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {to_json(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    if depth < 2 and isinstance(value, list):
        return "[\n" + ",\n".join(pad + to_json(v, depth + 1) for v in value) + "\n" + " " * depth + "]"
    return json.dumps(value)


def write_json(name, payload):
    (OUT / name).write_text(to_json(payload) + "\n", encoding="utf-8")


if __name__ == "__main__":
    # sacrebleu warns on every sentence score without effective order, which we record on purpose.
    logging.getLogger("sacrebleu").setLevel(logging.ERROR)
    OUT.mkdir(parents=True, exist_ok=True)
    write_json("text_pairs.json", text_pairs())
    write_json("porter_words.json", porter_words())
    mme_folder()
    write_json("mme_expected.json", mme_expected())
    print(f"wrote {OUT}")
