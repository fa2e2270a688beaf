// llmtk-dedup: exact and MinHash-LSH near-duplicate removal, as one command
// or as the stages sign / pairs / clusters / filter for a cluster.
#include "tools/common/cli.h"
#include "lib/dedup/dedup.h"
#include "lib/dedup/stage.h"

namespace {

struct Flags {
  llmtk::DedupOptions o;
  llmtk::CommonOptions common;
  std::string keep = "first";
  bool no_nfkc = false, no_lower = false, no_punct = false, no_digits = false, no_ws = false;
  std::vector<CLI::Option*> thresholds;
};

void AddFlags(llmtk::Tool& tool, CLI::App* app, Flags* f) {
  llmtk::DedupOptions& o = f->o;
  app->add_option("inputs", o.inputs, "Input files or directories ('-' or none: stdin)");
  tool.AddCommonFlags(&f->common, app);
  tool.AddReaderFlags(&o.reader, app);
  tool.AddOutputFlags(&o.output, &o.output_opts, app);
  app->add_option("--removed", o.removed, "Write the removed lines to this file");
  app->add_option("--clusters", o.clusters,
                  "Write a JSONL report: each duplicate, the document kept in its place (cluster id = its "
                  "document number), exact or near, and the Jaccard similarity");
  app->add_option("--id-key", o.id_key, "Id field for --clusters (default: line number)");
  app->add_option("--ngram", o.ngram, "Words per shingle")->check(CLI::Range(1, 64));
  app->add_option("--cjk-ngram", o.cjk_ngram,
                  "Characters per shingle for scripts without spaces (Chinese, Japanese, Thai, ...)")
      ->check(CLI::Range(1, 64));
  app->add_option("--num-perm", o.num_perm, "MinHash hashes; bands x rows are then chosen for --threshold")
      ->check(CLI::Range(1, 1024));
  app->add_option("--bands", o.bands, "LSH bands (default 14, with --rows)")->check(CLI::Range(1, 1024));
  app->add_option("--rows", o.rows, "Hashes per band (default 8, with --bands)")->check(CLI::Range(1, 1024));
  f->thresholds.push_back(
      app->add_option("--threshold", o.threshold,
                      "Jaccard similarity from which documents are duplicates; given without --bands/--rows, "
                      "bands x rows are chosen for it and the trade-off is printed")
          ->check(CLI::Range(0.0, 1.0)));
  static const std::map<std::string, llmtk::VerifyMode> verify = {{"exact", llmtk::VerifyMode::kExact},
                                                                  {"estimate", llmtk::VerifyMode::kEstimate},
                                                                  {"none", llmtk::VerifyMode::kNone}};
  app->add_option("--verify", o.verify, "Confirm candidate pairs: exact Jaccard, MinHash estimate, or none")
      ->transform(CLI::CheckedTransformer(verify, CLI::ignore_case).description("exact|estimate|none"));
  app->add_option("--keep", f->keep, "Survivor of a cluster: first, longest, or a numeric field (highest wins)");
  app->add_option("--seed", o.seed, "Hash seed");
  app->add_flag("--no-nfkc", f->no_nfkc, "Do not apply Unicode NFKC");
  app->add_flag("--no-lowercase", f->no_lower, "Keep letter case");
  app->add_flag("--no-punctuation-folding", f->no_punct, "Keep punctuation and symbols");
  app->add_flag("--no-digit-folding", f->no_digits, "Keep digits (default: every digit becomes 0)");
  app->add_flag("--no-whitespace-collapse", f->no_ws, "Keep whitespace runs");
}

void Finish(Flags* f) {
  llmtk::DedupOptions& o = f->o;
  for (auto* t : f->thresholds) o.threshold_given |= t->count() > 0;
  o.normalize.nfkc = !f->no_nfkc;
  o.normalize.lowercase = !f->no_lower;
  o.normalize.punctuation = !f->no_punct;
  o.normalize.digits = !f->no_digits;
  o.normalize.whitespace = !f->no_ws;
  if (f->keep == "first") {
    o.keep = llmtk::KeepPolicy::kFirst;
  } else if (f->keep == "longest") {
    o.keep = llmtk::KeepPolicy::kLongest;
  } else {
    o.keep = llmtk::KeepPolicy::kField;
    o.keep_field = f->keep;
  }
  o.threads = f->common.threads;
  o.progress = f->common.progress;
  o.quiet = f->common.quiet;
  o.json = f->common.json;
}

}  // namespace

int main(int argc, char** argv) {
  llmtk::Tool tool("dedup", "Remove exact and near-duplicate documents (MinHash LSH, verified by exact Jaccard)",
                   "llmtk-dedup corpus.jsonl.zst --threshold 0.8 --removed removed.jsonl "
                   "--clusters clusters.jsonl > kept.jsonl");
  CLI::App& app = tool.app();
  Flags f;
  llmtk::StageOptions stage;
  std::string shard = "0/1", band;
  AddFlags(tool, &app, &f);
  const char* help[][2] = {
      {"sign", "Stage 1: sign one shard of the input files (--shard i/N) into --work"},
      {"pairs", "Stage 2: candidate pairs of one band (--band b; default all bands)"},
      {"clusters", "Stage 3: verify pairs, union-find, choose survivors"},
      {"filter", "Stage 4: write one shard's kept documents (--shard i/N)"}};
  for (auto& h : help) {
    CLI::App* sub = app.add_subcommand(h[0], h[1]);
    AddFlags(tool, sub, &f);
    sub->add_option("--work", stage.work, "Work directory shared by all stages")->required();
    if (std::string(h[0]) == "sign" || std::string(h[0]) == "filter")
      sub->add_option("--shard", shard, "This shard, i/N (0-based)");
    else
      sub->add_option("--shards", stage.num_shards, "Number of shards the sign stage used")->check(CLI::Range(1, 1 << 20));
    if (std::string(h[0]) == "pairs")
      sub->add_option("--band", band, "The band b, or j/M for bands j, j+M, ... (default: all)");
  }
  app.require_subcommand(0, 1);
  return tool.Run(argc, argv, [&]() -> absl::Status {
    Finish(&f);
    if (app.get_subcommands().empty()) return llmtk::RunDedup(f.o).status();
    stage.stage = app.get_subcommands()[0]->get_name();
    if (stage.stage == "sign" || stage.stage == "filter")
      RETURN_IF_ERROR(llmtk::ParseShard(shard, &stage.shard, &stage.num_shards));
    if (!band.empty()) RETURN_IF_ERROR(llmtk::ParseBand(band, &stage.band, &stage.band_step));
    return llmtk::RunDedupStage(f.o, stage);
  });
}
