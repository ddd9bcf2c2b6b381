#!/usr/bin/python3
"""Trains the SentencePiece tokenizer of the default model.

Input: out/kjv.train.txt and out/dialogues.train.jsonl (run gen_dialogues.py first).
Output: tools/train/tokenizer.model (+ .vocab), committed since they are small.

Choices, and why:
- BPE, not unigram: a SentencePiece BPE model's scores are minus the merge rank, so
  the greedy "merge the best-scoring adjacent pair" algorithm that GGUF `llama`
  tokenizers use reproduces SentencePiece's own segmentation.
- byte_fallback: any character outside the vocabulary becomes <0xNN> byte tokens
  (newlines always do: SentencePiece trains on lines, so "\n" never gets a piece).
- identity normalisation, no dummy prefix, whitespace kept: the text is tokenised
  exactly as written, which is what a C tokenizer without a normaliser does
  (the GGUF says tokenizer.ggml.add_space_prefix = false).
- split_digits: numbers are one token per digit, which makes copying numbers into
  calculator calls and answers easy for a small model.
- <|im_start|> <|im_end|> <tool_call> </tool_call> are user-defined symbols so they are
  matched as single tokens inside the training text; export_gguf.py marks the first
  two as control tokens and the tool-call tags as user-defined tokens.
"""

import argparse
import json
import os
import random

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
SPECIALS = ["<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--dialogues", type=int, default=4000, help="dialogues used for training")
    args = ap.parse_args()
    rng = random.Random(7)
    with open(os.path.join(OUT, "dialogues.train.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(l)["text"] for l in f]
    rng.shuffle(texts)
    corpus = os.path.join(OUT, "tokenizer_corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        with open(os.path.join(OUT, "kjv.train.txt"), encoding="utf-8") as k:
            f.write(k.read())
        for t in texts[:args.dialogues]:
            f.write(t)
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=os.path.join(HERE, "tokenizer"), model_type="bpe",
        vocab_size=args.vocab, character_coverage=1.0, byte_fallback=True, split_digits=True,
        normalization_rule_name="identity", add_dummy_prefix=False,
        remove_extra_whitespaces=False, user_defined_symbols=SPECIALS, split_by_whitespace=False,
        max_sentencepiece_length=24,
        unk_id=0, bos_id=1, eos_id=2, pad_id=3, unk_piece="<unk>", bos_piece="<s>",
        eos_piece="</s>", pad_piece="<pad>", max_sentence_length=20000,
        input_sentence_size=2000000, shuffle_input_sentence=True, num_threads=2,
        minloglevel=1)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(HERE, "tokenizer.model"))
    print("vocab", sp.get_piece_size(), [sp.piece_to_id(s) for s in SPECIALS])


if __name__ == "__main__":
    main()
