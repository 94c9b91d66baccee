"""Deterministic benchmark inputs: varied filler prose with planted facts, sized in model tokens.

Token counts come from llama-server's /tokenize on the same GGUF (same vocabulary and llama_tokenize as
ours), user text tokenised without special-token parsing, exactly as our PromptLayout does.
"""
import random

SUBJECTS = ["The harbour office", "A survey team", "The night archivist", "Our second courier", "The orchard guild",
            "The river pilot", "A visiting engineer", "The county clerk", "The lighthouse keeper", "The bakery on Elm Street",
            "The mountain school", "A retired surveyor", "The ferry captain", "The library committee", "The glassworks"]
VERBS = ["recorded", "postponed", "inspected", "rebuilt", "catalogued", "questioned", "painted", "measured",
         "repaired", "described", "replaced", "audited", "photographed", "reorganised", "discussed"]
OBJECTS = ["the eastern storage shed", "a ledger of tide tables", "the old copper boiler", "three crates of slate",
           "the signal lamps", "the winter timetable", "a map of the northern marsh", "the greenhouse vents",
           "the mill's water wheel", "a box of unlabelled keys", "the bell tower stairs", "the grain scales",
           "a stack of weather reports", "the canal lock gates", "the choir's sheet music"]
CLAUSES = ["after the spring floods", "before the market opened", "while the snow kept falling",
           "during the long council meeting", "once the lamps were lit", "without telling the foreman",
           "because the budget had finally arrived", "as the tide turned", "despite the late delivery",
           "on the advice of the physician", "in the quiet hours after midnight", "for the third time that year"]
REMARKS = ["Nobody remembered why it had been left so long.", "The work took longer than anyone had planned.",
           "Several neighbours came to watch.", "A short note was pinned to the door afterwards.",
           "It rained for most of the afternoon.", "The results were filed in the blue cabinet.",
           "Everyone agreed it had been worth the trouble.", "The dog from the bakery followed them all day.",
           "Two of the ladders turned out to be too short.", "The smell of tar hung over the street."]


def fact(index, rng):
    code = rng.randint(1000, 9999)
    return (f"The access code for locker {index} is {code}.", f"What is the access code for locker {index}?",
            str(code))


def paragraph(rng):
    sentences = []
    for _ in range(rng.randint(3, 6)):
        s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(CLAUSES)}."
        sentences.append(s)
        if rng.random() < 0.35:
            sentences.append(rng.choice(REMARKS))
    return " ".join(sentences)


class Context:
    def __init__(self, text, tokens, facts):
        self.text, self.tokens, self.facts = text, tokens, facts  # facts: [(sentence, question, answer)]


def make_context(tokenize, target_tokens, seed):
    """Prose of about `target_tokens` tokens (never more), with a fact planted every few paragraphs."""
    rng = random.Random(f"longrm-bench-{seed}-{target_tokens}")
    paragraphs, facts, total = [], [], 0
    while True:
        if len(paragraphs) % 4 == 0:
            f = fact(len(facts) * 7 + 3, rng)
            facts.append(f)
            p = paragraph(rng) + " " + f[0]
        else:
            p = paragraph(rng)
        n = len(tokenize("\n\n" + p))
        if total + n > target_tokens:
            break
        paragraphs.append(p)
        total += n
    text = "\n\n".join(paragraphs)
    facts = [f for f in facts if f[0] in text]
    if not facts:
        raise ValueError(f"context of {target_tokens} tokens too small to hold a fact")
    return Context(text, len(tokenize(text)), facts)


def wrong_answer(answer, k):
    return str((int(answer) + 1111 * (k + 1)) % 9000 + 1000)


def pair(ctx, k):
    """A judge pair on fact k: (question, correct response, wrong response)."""
    sentence, question, answer = ctx.facts[k % len(ctx.facts)]
    stem = sentence.rsplit(" ", 1)[0]
    return question, f"{stem} {answer}.", f"{stem} {wrong_answer(answer, k)}."


def candidates(ctx, k, n):
    """n responses to fact k's question: the correct one first, then wrong values of the same shape."""
    sentence, question, answer = ctx.facts[k % len(ctx.facts)]
    stem = sentence.rsplit(" ", 1)[0]
    return question, [f"{stem} {answer}."] + [f"{stem} {wrong_answer(answer, k + j)}." for j in range(n - 1)]
