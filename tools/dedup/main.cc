// llmtk-dedup: exact and MinHash-LSH near-duplicate removal.
#include "lib/cli.h"
#include "lib/dedup.h"

int main(int argc, char** argv) {
  llmtk::Tool tool("dedup", "Remove exact and near-duplicate documents (MinHash LSH, verified by exact Jaccard)",
                   "llmtk-dedup corpus.jsonl.zst --removed removed.jsonl --clusters clusters.jsonl > kept.jsonl");
  CLI::App& app = tool.app();
  llmtk::DedupOptions o;
  llmtk::CommonOptions common;
  app.add_option("inputs", o.inputs, "Input files or directories ('-' or none: stdin)");
  tool.AddCommonFlags(&common);
  tool.AddReaderFlags(&o.reader);
  tool.AddOutputFlags(&o.output, &o.output_opts);
  app.add_option("--removed", o.removed, "Write the removed lines to this file");
  app.add_option("--clusters", o.clusters, "Write a JSONL report: each duplicate, the document kept in its place, "
                                           "cluster id and Jaccard similarity");
  app.add_option("--id-key", o.id_key, "Id field for --clusters (default: line number)");
  app.add_option("--ngram", o.ngram, "Words per shingle")->check(CLI::Range(1, 64));
  app.add_option("--cjk-ngram", o.cjk_ngram, "Characters per shingle for scripts without spaces (Chinese, Japanese, Thai, ...)")
      ->check(CLI::Range(1, 64));
  app.add_option("--num-perm", o.num_perm, "MinHash hashes (bands x rows chosen for --threshold)")->check(CLI::Range(1, 1024));
  app.add_option("--bands", o.bands, "LSH bands (default 14, with --rows)")->check(CLI::Range(1, 1024));
  app.add_option("--rows", o.rows, "Hashes per band (default 8, with --bands)")->check(CLI::Range(1, 1024));
  auto* thr = app.add_option("--threshold", o.threshold,
                             "Jaccard similarity at which documents are duplicates; when given without --bands/--rows, "
                             "bands x rows are chosen for it and the trade-off is printed");
  thr->check(CLI::Range(0.0, 1.0));
  static const std::map<std::string, llmtk::VerifyMode> verify = {{"exact", llmtk::VerifyMode::kExact},
                                                                  {"estimate", llmtk::VerifyMode::kEstimate},
                                                                  {"none", llmtk::VerifyMode::kNone}};
  app.add_option("--verify", o.verify, "Confirm candidate pairs: exact Jaccard, MinHash estimate, or none")
      ->transform(CLI::CheckedTransformer(verify, CLI::ignore_case).description("exact|estimate|none"));
  std::string keep = "first";
  app.add_option("--keep", keep, "Survivor of a cluster: first, longest, or a numeric field (highest wins)");
  app.add_option("--seed", o.seed, "Hash seed");
  bool no_nfkc = false, no_lower = false, no_punct = false, no_digits = false, no_ws = false;
  app.add_flag("--no-nfkc", no_nfkc, "Do not apply Unicode NFKC");
  app.add_flag("--no-lowercase", no_lower, "Keep letter case");
  app.add_flag("--no-punctuation-folding", no_punct, "Keep punctuation and symbols");
  app.add_flag("--no-digit-folding", no_digits, "Keep digits (default: every digit becomes 0)");
  app.add_flag("--no-whitespace-collapse", no_ws, "Keep whitespace runs");
  return tool.Run(argc, argv, [&]() -> absl::Status {
    o.threshold_given = thr->count() > 0;
    o.normalize.nfkc = !no_nfkc;
    o.normalize.lowercase = !no_lower;
    o.normalize.punctuation = !no_punct;
    o.normalize.digits = !no_digits;
    o.normalize.whitespace = !no_ws;
    if (keep == "first") {
      o.keep = llmtk::KeepPolicy::kFirst;
    } else if (keep == "longest") {
      o.keep = llmtk::KeepPolicy::kLongest;
    } else {
      o.keep = llmtk::KeepPolicy::kField;
      o.keep_field = keep;
    }
    o.threads = common.threads;
    o.progress = common.progress;
    o.quiet = common.quiet;
    o.json = common.json;
    return llmtk::RunDedup(o).status();
  });
}
