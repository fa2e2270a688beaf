// llmtk-tok: tokenize corpora exactly like HF tokenizers, fast.
//   llmtk-tok encode -t tokenizer.json|vocab.gguf|ranks.tiktoken [inputs] [--format ids|jsonl|bin|megatron] [-o OUT]
//   llmtk-tok decode -t TOKENIZER [inputs] [--input-format ids|bin|megatron]
//   llmtk-tok inspect TOKENIZER [--json]
//   llmtk-tok stats -t TOKENIZER [inputs] [--json]
//   llmtk-tok train --vocab-size N -o tokenizer.json [inputs] [--style sentencepiece] [--gguf] [--model unigram]
//   llmtk-tok convert vocab.txt -o tokenizer.json [--cased]
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "lib/tokenizer/train/bpe_trainer.h"
#include "tools/common/cli.h"
#include "tools/tok/tok_tool.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace {

// ---- train subcommand (branch `train`) -------------------------------------
struct TrainCommand {
  CLI::App* app = nullptr;
  llmtk::CommonOptions common;
  llmtk::TrainToolOptions o;
};

void AddTrainCommand(llmtk::Tool& tool, TrainCommand* t) {
  t->app = tool.app().add_subcommand(
      "train", "train a tokenizer on JSONL or text: BPE (HF tokenizer.json or GGUF vocabulary), SentencePiece's "
      "Unigram (--model unigram: .model and/or tokenizer.json) or WordPiece (--model wordpiece: BERT-style "
      "tokenizer.json)");
  CLI::App* s = t->app;
  s->add_option("inputs", t->o.inputs, "JSONL or text files, directories, or - (default: stdin)");
  s->add_option("-o,--output", t->o.output, "output tokenizer.json (or .gguf with --gguf; --model unigram: X.model or tokenizer.json)")
      ->required();
  s->add_option("--vocab-size", t->o.opts.vocab_size,
                "vocabulary size: special tokens + 256 bytes + merges")
      ->capture_default_str();
  s->add_option("--min-frequency", t->o.opts.min_frequency,
                "stop when the most frequent pair occurs fewer times")
      ->capture_default_str();
  s->add_option("--special-tokens", t->o.opts.special_tokens,
                "special tokens, ids 0.. in the order given (comma-separated or repeated)")
      ->delimiter(',');
  s->add_option("--max-token-length", t->o.opts.max_token_length,
                "longest token in characters (byte-level: bytes; 0: unlimited)")
      ->capture_default_str();
  s->add_option("--max-words", t->o.opts.max_words,
                "keep at most this many distinct words, pruning the rarest (0: unlimited)")
      ->capture_default_str();
  s->add_option("--pre-tokenizer", t->o.opts.pre_tokenizer,
                "llama3, gpt2, qwen2, cjk (llama3 with Han/kana runs in 1-2 character words), "
                "or a regex")
      ->capture_default_str();
  llmtk::AddChoiceOption<std::string>(s, "--style", &t->o.style,
                                      {{"byte-level", "byte-level"}, {"sentencepiece", "sentencepiece"}},
                                      "byte-level (GPT-2/Llama 3) or sentencepiece (Llama 2: \u2581 and byte fallback)");
  s->add_option("--character-coverage", t->o.opts.character_coverage,
                "sentencepiece style: share of characters the alphabet covers; the rest use "
                "byte fallback")
      ->capture_default_str();
  s->add_option("--limit-alphabet", t->o.limit_alphabet,
                "wordpiece: keep only the N most frequent characters (0: all)")
      ->capture_default_str();
  s->add_flag("--cased", t->o.cased, "wordpiece: keep case and accents (default: uncased, as bert-base-uncased)");
  s->add_option("--continuation-order", t->o.continuation_order,
                "wordpiece: file of the \"##c\" tokens in id order, one a line (HF orders them by a per-process "
                "hash; give one HF run's order to reproduce it exactly); default: by code point");
  s->add_flag("--gguf", t->o.gguf, "write a vocabulary-only GGUF (tokenizer.ggml.* keys); implied by a .gguf -o name");
  llmtk::AddChoiceOption<std::string>(s, "--model", &t->o.model,
                                      {{"bpe", "bpe"}, {"unigram", "unigram"}, {"wordpiece", "wordpiece"}},
                                      "bpe; unigram (SentencePiece's algorithm as spm_train --model_type=unigram; "
                                      "-o X.model writes a SentencePiece model, any other name a tokenizer.json; "
                                      "--max-token-length defaults to 16 characters); or wordpiece (HF's "
                                      "WordPieceTrainer, BERT's pipeline; special tokens default to "
                                      "[PAD],[UNK],[CLS],[SEP],[MASK])");
  s->add_option("--spm-model", t->o.spm_model, "unigram: also write the SentencePiece .model here");
  s->add_flag("--byte-fallback", t->o.unigram.byte_fallback, "unigram: add <0x00>..<0xFF> pieces for characters "
              "outside the vocabulary (ids 3-258)");
  s->add_flag("--split-digits", t->o.unigram.split_digits, "unigram: every digit a piece of its own");
  s->add_option("--score-grid-bits", t->o.unigram.score_grid_bits,
                "unigram: round scores to multiples of 2^-N, so SentencePiece (float sums) and HF tokenizers "
                "(double sums) segment alike; 0: EM's scores unrounded, as spm_train writes them")
      ->capture_default_str();
  tool.AddReaderFlags(&t->o.reader, s, /*keep_bytes=*/true);
  tool.AddCommonFlags(&t->common, s);
}

// ---- end of train subcommand ------------------------------------------------

void AddTiktokenPattern(CLI::App* app, std::string* pattern) {
  app->add_option("--tiktoken-pattern", *pattern,
                  "for a tiktoken rank file: cl100k_base, o200k_base or llama3 (that encoding's split pattern and "
                  "special tokens) or a split regex (no special tokens); default: chosen by the number of ranks");
}

// -t and the flags for file kinds that leave a choice open.
void AddTokenizerFlags(CLI::App* app, std::string* path, std::string* pattern, bool* cased) {
  app->add_option("-t,--tokenizer", *path, std::string(llmtk::kTokenizerFileKinds) + " (told apart by content)")
      ->required();
  AddTiktokenPattern(app, pattern);
  app->add_flag("--cased", *cased, "for a WordPiece vocab.txt: keep case and accents (bert-base-cased); default: "
                "uncased (lowercase, accents stripped), as llmtk-tok convert");
}

}  // namespace

int main(int argc, char** argv) {
  llmtk::Tool tool("tok", "Encode, decode, inspect, measure and train tokenizers (HF tokenizer.json, SentencePiece .model, tiktoken rank files, WordPiece vocab.txt, GGUF vocabularies).",
                   "llmtk-tok encode -t tokenizer.json corpus.jsonl.zst --format megatron -o data/corpus\n"
                   "  llmtk-tok decode -t tokenizer.json ids.txt\n"
                   "  llmtk-tok inspect model.gguf\n"
                   "  llmtk-tok train --vocab-size 32000 -o tokenizer.json corpus.jsonl.zst");
  CLI::App& app = tool.app();
  app.require_subcommand(1, 1);

  llmtk::CommonOptions enc_common;
  llmtk::EncodeOptions eo;
  CLI::App* enc = app.add_subcommand("encode", "encode documents (JSONL or text) into token ids");
  AddTokenizerFlags(enc, &eo.tokenizer, &eo.tiktoken_pattern, &eo.cased);
  enc->add_option("INPUTS", eo.inputs, "input files or directories (default: stdin)");
  llmtk::AddChoiceOption<llmtk::TokenOutputFormat>(
      enc, "--format", &eo.format,
      {{"ids", llmtk::TokenOutputFormat::kIds},
       {"jsonl", llmtk::TokenOutputFormat::kJsonl},
       {"bin", llmtk::TokenOutputFormat::kBin},
       {"megatron", llmtk::TokenOutputFormat::kMegatron}},
      "ids (a line per document), jsonl (input object + ids), bin (nanoGPT), megatron (PREFIX.bin/.idx)");
  enc->add_option("--ids-key", eo.ids_key, "field for --format jsonl")->capture_default_str();
  tool.AddSpecialTokenFlags(&eo.specials, enc);
  tool.AddOutputFlags(&eo.output, &eo.output_options, enc);
  tool.AddReaderFlags(&eo.reader, enc, /*keep_bytes=*/true);
  tool.AddCommonFlags(&enc_common, enc);

  llmtk::DecodeOptions dop;
  CLI::App* dec = app.add_subcommand("decode", "decode token ids back into text");
  AddTokenizerFlags(dec, &dop.tokenizer, &dop.tiktoken_pattern, &dop.cased);
  dec->add_option("INPUTS", dop.inputs, "ids files (a document per line), .bin files or Megatron prefixes (default: stdin)");
  llmtk::AddChoiceOption<llmtk::IdsInputFormat>(dec, "--input-format", &dop.input_format,
                                                {{"ids", llmtk::IdsInputFormat::kIds},
                                                 {"bin", llmtk::IdsInputFormat::kBin},
                                                 {"megatron", llmtk::IdsInputFormat::kMegatron}},
                                                "ids (a document per line), bin (nanoGPT), megatron (PREFIX)");
  llmtk::AddChoiceOption<std::string>(dec, "--dtype", &dop.dtype, {{"uint16", "uint16"}, {"uint32", "uint32"}},
                                      "element type of a .bin input (default: by vocabulary size)");
  dec->add_flag("--skip-special", dop.skip_special, "leave out special tokens");
  dec->add_flag("--jsonl", dop.jsonl, "write {\"text\": ...} per document instead of a text line");
  tool.AddOutputFlags(&dop.output, &dop.output_options, dec);

  std::string inspect_path;
  bool inspect_json = false;
  CLI::App* ins = app.add_subcommand("inspect", "summarize a tokenizer");
  ins->add_option("TOKENIZER", inspect_path, std::string(llmtk::kTokenizerFileKinds))->required();
  ins->add_flag("--json", inspect_json, "JSON output");

  llmtk::CommonOptions stats_common;
  llmtk::StatsOptions so;
  CLI::App* st = app.add_subcommand("stats", "bytes/token, tokens/word, unknown and byte-fallback rates on a corpus");
  AddTokenizerFlags(st, &so.tokenizer, &so.tiktoken_pattern, &so.cased);
  st->add_option("INPUTS", so.inputs, "input files or directories (default: stdin)");
  tool.AddReaderFlags(&so.reader, st, /*keep_bytes=*/true);
  tool.AddCommonFlags(&stats_common, st);

  TrainCommand train;
  AddTrainCommand(tool, &train);

  llmtk::ConvertOptions co;
  CLI::App* conv = app.add_subcommand(
      "convert", "a SentencePiece .model, or a BERT vocab.txt, to the tokenizer.json transformers' converter writes");
  conv->add_option("INPUT", co.input, "SentencePiece .model (e.g. tokenizer.model) or BERT vocab.txt (one WordPiece "
                   "token a line); told apart by content")->required();
  conv->add_option("-o,--output", co.output, "tokenizer.json to write ('-': stdout)")->capture_default_str();
  conv->add_flag("--cased", co.cased, "vocab.txt: keep case and accents (bert-base-cased); default: uncased "
                 "(lowercase, accents stripped)");
  conv->add_flag("-q,--quiet", co.quiet, "no summary line");

  return tool.Run(argc, argv, [&]() -> absl::Status {
    if (train.app->parsed()) {
      train.o.opts.threads = train.common.Threads();
      train.o.opts.show_progress = train.common.ShowProgress();
      train.o.json = train.common.json;
      train.o.quiet = train.common.quiet;
      for (const char* f :
           {"--min-frequency", "--special-tokens", "--pre-tokenizer", "--style", "--gguf", "--score-grid-bits"}) {
        if (train.app->get_option(f)->count() > 0) train.o.given.push_back(f);
      }
      return llmtk::RunTrain(train.o);
    }
    if (conv->parsed()) return llmtk::RunConvert(co);
    if (enc->parsed()) {
      eo.threads = enc_common.Threads();
      eo.progress = enc_common.ShowProgress();
      eo.invalid_utf8_given = enc->get_option("--invalid-utf8")->count() > 0;
      return llmtk::RunEncode(eo, enc_common.json, enc_common.quiet);
    }
    if (dec->parsed()) return llmtk::RunDecode(dop);
    if (conv->parsed()) return llmtk::RunConvert(co);
    if (ins->parsed()) return llmtk::RunInspect(inspect_path, inspect_json);
    so.threads = stats_common.Threads();
    so.json = stats_common.json;
    so.progress = stats_common.ShowProgress();
    return llmtk::RunStats(so);
  });
}
