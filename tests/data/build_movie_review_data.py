"""Builds tests/data/movie_reviews/ from the VADER ICWSM-2014 ground truth.

Source: vaderSentiment-3.3.2.tar.gz (PyPI sdist, MIT), file
additional_resources/hutto_ICWSM_2014.tar.gz, which holds
movieReviewSnippets_GroundTruth.txt (id, mean human sentiment in [-4, 4],
sentence) and vader_sentiment_lexicon.txt (token, mean human valence, ...).

  python tests/data/build_movie_review_data.py path/to/hutto_ICWSM_2014

Writes, from a fixed shuffle of the snippets whose score is at least 0.5
away from neutral:
  sst/{train,dev,test}.tsv       GLUE SST-2 layout: sentence<TAB>label (1 = positive)
  scores/{train,dev}.jsonl       {"text": ..., "score": ...} for regression
  tagging/{train,dev}.txt        CoNLL: word<TAB>tag; runs of lexicon words with
                                 valence >= 1.5 (<= -1.5) tagged B-/I-POS (NEG)
"""

import json
import os
import random
import re
import sys

SIZES = dict(train=2000, dev=400, test=100)
TAG_SIZES = dict(train=1500, dev=300)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "movie_reviews")


def main(source):
  with open(os.path.join(source, "movieReviewSnippets_GroundTruth.txt"),
            encoding="utf-8") as f:
    rows = [line.rstrip("\r\n").split("\t") for line in f if line.strip()]
  snippets = [(" ".join(text.split()), float(score)) for _, score, text in rows
              if abs(float(score)) >= 0.5]
  random.Random(0).shuffle(snippets)
  # The lexicon holds a few Latin-1 emoticons; the words are ASCII.
  with open(os.path.join(source, "vader_sentiment_lexicon.txt"),
            encoding="latin-1") as f:
    valence = {line.split("\t")[0]: float(line.split("\t")[1]) for line in f}

  start = 0
  os.makedirs(os.path.join(OUT, "sst"), exist_ok=True)
  os.makedirs(os.path.join(OUT, "scores"), exist_ok=True)
  for split, size in SIZES.items():
    part = snippets[start:start + size]
    start += size
    with open(os.path.join(OUT, "sst", f"{split}.tsv"), "w",
              encoding="utf-8") as f:
      f.write("sentence\tlabel\n" if split != "test" else "index\tsentence\n")
      for i, (text, score) in enumerate(part):
        f.write(f"{text}\t{int(score > 0)}\n" if split != "test" else
                f"{i}\t{text}\n")
    if split != "test":
      with open(os.path.join(OUT, "scores", f"{split}.jsonl"), "w",
                encoding="utf-8") as f:
        for text, score in part:
          f.write(json.dumps(dict(text=text, score=score)) + "\n")

  os.makedirs(os.path.join(OUT, "tagging"), exist_ok=True)
  for split, size in TAG_SIZES.items():
    part = snippets[start:start + size]
    start += size
    with open(os.path.join(OUT, "tagging", f"{split}.txt"), "w",
              encoding="utf-8") as f:
      for text, _ in part:
        previous = "O"
        for word in re.findall(r"\w+(?:'\w+)?|[^\w\s]", text):
          value = valence.get(word.lower(), 0.0)
          kind = "POS" if value >= 1.5 else "NEG" if value <= -1.5 else None
          tag = "O" if kind is None else (
              f"I-{kind}" if previous.endswith(kind) else f"B-{kind}")
          f.write(f"{word}\t{tag}\n")
          previous = tag
        f.write("\n")


if __name__ == "__main__":
  main(sys.argv[1])
