// llmtk-dedup: exact and MinHash-LSH near-duplicate removal, as one command
// or as the stages sign / pairs / clusters / filter for a cluster.
#include "tools/common/cli.h"
#include "lib/dedup/dedup.h"
#include "tools/dedup/dedup_tool.h"
#include "lib/dedup/stage.h"

namespace {

struct Flags {
  llmtk::DedupOptions o;
  llmtk::CommonOptions common;
  std::string keep = "first";
  bool no_nfkc = false, no_lower = false, no_punct = false, no_digits = false, no_ws = false;
  // Flags a stage accepts only to refuse them: their names and why.
  std::vector<std::pair<CLI::Option*, std::string>> refused;
};

// Which outputs a command writes: the single command all, the stages their own.
enum Outputs { kNone = 0, kKept = 1, kRemoved = 2, kClusters = 4 };

void AddFlags(llmtk::Tool& tool, CLI::App* app, Flags* f, int outputs, const std::string& stage = "") {
  llmtk::DedupOptions& o = f->o;
  app->add_option("inputs", o.inputs, stage.empty() ? "Input files or directories ('-' or none: stdin)"
                                                    : "Input files or directories (the same for every stage)");
  tool.AddCommonFlags(&f->common, app);
  tool.AddReaderFlags(&o.reader, app);
  if (outputs & kKept) tool.AddOutputFlags(&o.output, &o.output_opts, app);
  if (outputs == kClusters) {
    app->add_option("--zstd-level", o.output_opts.zstd_level, "zstd level for a .zst --clusters name")
        ->check(CLI::Range(1, 19));
  }
  if (outputs & kRemoved) app->add_option("--removed", o.removed, "Write the removed lines to this file");
  if (outputs & kClusters) {
    app->add_option("--clusters", o.clusters,
                    stage == "clusters"
                        ? "Write the whole run's JSONL duplicate report (the single command's --clusters) and keep "
                          "the survivors' ids for the filter stages' --clusters"
                        : "Write a JSONL report: each duplicate, the document kept in its place (cluster id = its "
                          "document number), exact or near, and the Jaccard similarity");
  }
  if (!stage.empty()) {
    // A flag that would do nothing here is an error, not silently ignored.
    static std::string unused;
    static bool unused_flag;
    auto refuse = [&](const std::string& names, const std::string& why, bool is_flag = false) {
      CLI::Option* opt = is_flag ? app->add_flag(names, unused_flag) : app->add_option(names, unused);
      opt->group("");
      const std::string shown = names.substr(0, names.find(','));
      f->refused.emplace_back(opt, shown + " is not used by the " + stage + " stage: " + why);
    };
    const std::string where = "the filter stage writes -o, --removed and --clusters for its shard; the clusters "
                              "stage writes --clusters for the whole run";
    if (!(outputs & kKept)) refuse("-o,--output", where);
    if (!(outputs & kKept) && outputs != kClusters) refuse("--zstd-level", where);
    if (!(outputs & kRemoved)) refuse("--removed", where);
    if (!(outputs & kClusters)) refuse("--clusters", where);
    app->remove_option(app->get_option("--json"));
    refuse("--json", "the stages print progress lines, not a report", true);
  }
  app->add_option("--id-key", o.id_key, "Id field for --clusters (default: line number)");
  app->add_option("--ngram", o.ngram, "Words per shingle")->check(CLI::Range(1, 64));
  app->add_option("--cjk-ngram", o.cjk_ngram,
                  "Characters per shingle for scripts without spaces (Chinese, Japanese, Thai, ...)")
      ->check(CLI::Range(1, 64));
  app->add_option("--num-perm", o.num_perm,
                  "MinHash hashes, exactly: split into bands x rows chosen for --threshold (default: the best split "
                  "of at most 112)")
      ->check(CLI::Range(1, 1024))
      ->default_str("");
  app->add_option("--bands", o.bands, "LSH bands, with --rows (default: chosen for --threshold)")
      ->check(CLI::Range(1, 1024))
      ->default_str("");
  app->add_option("--rows", o.rows, "Hashes per band, with --bands (default: chosen for --threshold)")
      ->check(CLI::Range(1, 1024))
      ->default_str("");
  app->add_option("--threshold", o.threshold,
                  "Jaccard similarity from which documents are duplicates; without --bands/--rows, bands x rows "
                  "are chosen for it and the trade-off is printed")
      ->check(CLI::Range(0.0, 1.0));
  llmtk::AddChoiceOption<llmtk::VerifyMode>(app, "--verify", &o.verify,
                                            {{"exact", llmtk::VerifyMode::kExact},
                                             {"estimate", llmtk::VerifyMode::kEstimate},
                                             {"none", llmtk::VerifyMode::kNone}},
                                            "Confirm candidate pairs: exact Jaccard, MinHash estimate, or none");
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
  if (o.output.empty()) o.output = "-";
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
  AddFlags(tool, &app, &f, kKept | kRemoved | kClusters);
  struct StageHelp {
    const char* name;
    const char* help;
    int outputs;
  };
  const StageHelp help[] = {
      {"sign", "Stage 1: sign one shard of the input files (--shard i/N) into --work", kNone},
      {"pairs", "Stage 2: candidate pairs of one band (--band b; default all bands)", kNone},
      {"clusters", "Stage 3: verify pairs, union-find, choose survivors (--clusters FILE: the whole report)", kClusters},
      {"filter", "Stage 4: write one shard's kept documents (--shard i/N)", kKept | kRemoved | kClusters}};
  for (const StageHelp& h : help) {
    CLI::App* sub = app.add_subcommand(h.name, h.help);
    AddFlags(tool, sub, &f, h.outputs, h.name);
    sub->add_option("--work", stage.work, "Work directory shared by all stages")->required();
    const std::string name = h.name;
    if (name == "sign" || name == "filter")
      sub->add_option("--shard", shard, "This shard, i/N (0-based)");
    else
      sub->add_option("--shards", stage.num_shards, "Number of shards the sign stage used")->check(CLI::Range(1, 1 << 20));
    if (name == "pairs")
      sub->add_option("--band", band, "The band b, or j/M for bands j, j+M, ... (default: all)");
  }
  app.require_subcommand(0, 1);
  return tool.Run(argc, argv, [&]() -> absl::Status {
    for (const auto& [opt, why] : f.refused)
      if (opt->count() > 0) return absl::InvalidArgumentError(why);
    if (!app.get_subcommands().empty()) {
      for (const CLI::Option* opt : app.get_options())
        if (opt->count() > 0)
          return absl::InvalidArgumentError(absl::StrCat(
              opt->get_name(), " is given before the stage name '", app.get_subcommands()[0]->get_name(),
              "'; give the stage's inputs and flags after its name"));
    }
    Finish(&f);
    if (app.get_subcommands().empty()) {
      RETURN_IF_ERROR(llmtk::RequireInputOrPipe(f.o.inputs));
      ASSIGN_OR_RETURN(llmtk::DedupReport report, llmtk::RunDedup(f.o));
      return llmtk::PrintDedupReport(f.o, report);
    }
    stage.stage = app.get_subcommands()[0]->get_name();
    if (stage.stage == "sign" || stage.stage == "filter")
      RETURN_IF_ERROR(llmtk::ParseShard(shard, &stage.shard, &stage.num_shards));
    if (!band.empty()) RETURN_IF_ERROR(llmtk::ParseBand(band, &stage.band, &stage.band_step));
    return llmtk::RunDedupStage(f.o, stage);
  });
}
