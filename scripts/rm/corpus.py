"""Deterministic English-like text for the tiny reward models: the tokenizer training corpus and the texts
of the parity cases come from the same generator, so every case tokenizes into real merges.
Standard library only (imported by make_tiny_rms.py and reference_scores.py)."""
from __future__ import annotations

import random

WORDS = """
the of and to in is that it was for on are as with his they at be this from have or by one had not but
what all were when we there can an your which their said if do will each about how up out them then she
many some so these would other into has more her two like him see time could no make than first been its
who now people my made over did down only way find use may water long little very after words called just
where most know get through back much before go good new write our used me man too any day same right look
think also around another came come work three word must because does part even place well such here take
why things help put years different away again off went old number great tell men say small every found
still between name should home big give air line set own under read last never us left end along while
might next sound below saw something thought both few those always looked show large often together asked
house world going want school important until form food keep children feet land side without boy once
animals life enough took sometimes four head above kind began almost live page got earth need far hand
high year mother light parts country father let night following picture being study second eyes soon
times story boys since white days ever paper hard near sentence better best across during today others
sure means knew answer question context response reward model score river stone lamp quiet orange window
garden cloud music bridge paris london berlin france capital city blue red sky grass green true false
""".split()

PUNCT = [".", ",", "?", "!", ";", ":"]


def sentence(rng: random.Random) -> str:
    n = rng.randint(4, 14)
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.25:
        words.insert(rng.randrange(len(words)), str(rng.randint(0, 99999)))
    if rng.random() < 0.1:
        words.insert(rng.randrange(len(words)), rng.choice(["don't", "it's", "we'll", "they've", "I'm"]))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(PUNCT[:1] * 4 + PUNCT)


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def text(seed: int, paragraphs: int, sentences: int = 6) -> str:
    """`paragraphs` paragraphs separated by blank lines (about 10 tokens per sentence)."""
    rng = random.Random(seed)
    return "\n\n".join(paragraph(rng, sentences) for _ in range(paragraphs))


def training_lines(seed: int = 7, count: int = 4000) -> list[str]:
    """Tokenizer training text: sentences, a few with newlines, tabs, digits and non-ASCII."""
    rng = random.Random(seed)
    extras = ["café", "naïve", "Zürich", "über", "2 + 2 = 4", "x_1 = 3.14", "(a, b)", "[1, 2, 3]", "{\"k\": 1}",
              "Step 1: add.", "Step 2: check.", "e.g.", "i.e.", "--", "...", "\t", "    indented"]
    lines = []
    for i in range(count):
        line = paragraph(rng, rng.randint(1, 3))
        if i % 7 == 0:
            line += "\n" + rng.choice(extras)
        if i % 11 == 0:
            line = rng.choice(extras) + " " + line
        lines.append(line)
    return lines
