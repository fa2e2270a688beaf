// llmtk-mix: mix corpora to target proportions into shuffled, sharded,
// reproducible output. See lib/mix/mixer.h.
#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "tools/common/cli.h"
#include "lib/mix/mixer.h"
#include "tools/mix/mix_tool.h"

int main(int argc, char** argv) {
  using namespace llmtk;
  Tool tool("mix",
            "Mix corpora to exact target proportions: shuffled, sharded, reproducible (manifest.json).\n"
            "Each input is read once, sequentially, so stdin ('-') works with every option; documents are\n"
            "spooled to OUTDIR's temporary directory (disk: the decompressed inputs) and gathered from there.",
            "llmtk-mix --source en=en.jsonl.zst:0.7 --source zh=zh.jsonl.zst:0.3 --by bytes --total 200M "
            "--max-epochs 3 -o mixture");
  CLI::App& app = tool.app();
  CommonOptions common;
  MixOptions opts;
  DocumentReaderOptions reader;
  OutputOptions out_opts;
  std::vector<std::string> specs;
  std::string by, total, shuffle, shard_size, format, source_field;
  double max_epochs = 1;
  uint64_t seed = 0;
  std::string tokens_key;
  bool allow_short = false, no_source_field = false;

  app.add_option("--source", specs, "NAME=PATH[,PATH...]:WEIGHT (repeat; paths may be files, directories or -)");
  app.add_option("--recipe", opts.recipe_path, "Recipe JSON (or a manifest.json, to reproduce a run)");
  AddChoiceOption<std::string>(&app, "--by", &by, {{"docs", "docs"}, {"bytes", "bytes"}, {"tokens", "tokens"}},
                               "Unit of shares, --total and --shard-size: docs, bytes (of text) or tokens (default docs)");
  app.add_option("--total", total, "Output size in --by units, e.g. 200M (default: no source repeats)");
  app.add_option("--max-epochs", max_epochs, "Most times a source may be repeated (default 1)");
  app.add_flag("--allow-short", allow_short, "When a source hits --max-epochs, shrink the whole mixture instead of failing");
  app.add_option("--shuffle", shuffle, "none, global (default) or window:N");
  app.add_option("--seed", seed, "Random seed (default 0)");
  app.add_option("--shard-size", shard_size, "Shard size in --by units (default 100k docs, 100M bytes, 50M tokens)");
  AddChoiceOption<std::string>(&app, "--format", &format,
                               {{"jsonl", "jsonl"}, {"jsonl.zst", "jsonl.zst"}, {"megatron", "megatron"}},
                               "jsonl, jsonl.zst (default) or megatron (token shards PREFIX.bin/.idx; needs -t)");
  app.add_option("--source-field", source_field, "Field naming each document's source (default 'source')");
  app.add_flag("--no-source-field", no_source_field, "Write documents unchanged");
  app.add_option("--tokens-key", tokens_key, "Field holding each document's token count (for --by tokens)");
  std::string tokenizer;
  SpecialTokenOptions specials;
  app.add_option("-t,--tokenizer", tokenizer,
                 absl::StrCat(ToAbsl(kTokenizerFileKinds), " (told apart by content; a vocab.txt uncased): count tokens "
                              "(--by tokens) and write --format megatron"));
  tool.AddSpecialTokenFlags(&specials);
  tool.AddReaderFlags(&reader);
  app.add_option("-o,--output", opts.output_dir, "Output directory (must not exist; written atomically)")->required();
  app.add_option("--zstd-level", out_opts.zstd_level, "zstd level of .jsonl.zst shards (default 3)")
      ->check(CLI::Range(1, 19));
  tool.AddCommonFlags(&common);

  return tool.Run(argc, argv, [&]() -> absl::Status {
    for (const std::string& s : specs) {
      ASSIGN_OR_RETURN(MixSource src, ParseSourceSpec(s));
      opts.sources.push_back(std::move(src));
    }
    MixSettings& st = opts.settings;
    if (!by.empty()) st.by = by == "docs" ? MixUnit::kDocs : by == "bytes" ? MixUnit::kBytes : MixUnit::kTokens;
    if (!total.empty()) {
      ASSIGN_OR_RETURN(st.total, ParseCount(total));
    }
    if (app.count("--max-epochs")) st.max_epochs = max_epochs;
    if (allow_short) st.allow_short = true;
    if (!shuffle.empty()) {
      ShuffleMode mode;
      uint64_t window = 0;
      RETURN_IF_ERROR(ParseShuffle(shuffle, &mode, &window));
      st.shuffle = mode;
      st.window = window;
    }
    if (app.count("--seed")) st.seed = seed;
    if (!shard_size.empty()) {
      ASSIGN_OR_RETURN(st.shard_size, ParseCount(shard_size));
    }
    if (!format.empty()) {
      st.format = format == "jsonl" ? MixFormat::kJsonl : format == "megatron" ? MixFormat::kMegatron : MixFormat::kJsonlZst;
    }
    if (!tokenizer.empty()) st.tokenizer = tokenizer;
    if (specials.no_special) st.no_special = true;
    if (specials.add_bos) st.add_bos = true;
    if (specials.add_eos) st.add_eos = true;
    if (specials.append_eod) st.append_eod = true;
    if (no_source_field) st.source_field = "";
    else if (app.count("--source-field")) st.source_field = source_field;
    if (app.count("--text-key")) st.text_key = reader.text_key;
    if (!tokens_key.empty()) st.tokens_key = tokens_key;
    if (app.count("--zstd-level")) st.zstd_level = out_opts.zstd_level;
    opts.threads = common.Threads();
    opts.progress = common.ShowProgress();
    opts.on_bad_line = reader.on_bad_line;
    if (app.count("--on-bad-line")) st.on_bad_line = reader.on_bad_line;
    opts.invalid_utf8 = reader.invalid_utf8;
    opts.input_format = reader.format;
    ASSIGN_OR_RETURN(MixReport report, RunMix(opts));
    return PrintMixReport(report, common.json, common.quiet);
  });
}
