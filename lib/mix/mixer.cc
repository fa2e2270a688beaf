#include "lib/mix/mixer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/progress.h"
#include "lib/base/io.h"
#include "lib/mix/index_pass.h"
#include "lib/mix/internal.h"
#include "lib/mix/recipe.h"
#include "lib/base/sha256.h"
#include "lib/formats/token_files.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;

// Everything a run needs, after the recipe and the flags are merged.
struct Resolved {
  std::vector<MixSource> sources;
  MixUnit by = MixUnit::kDocs;
  std::optional<uint64_t> total;
  double max_epochs = 1;
  bool allow_short = false;
  ShuffleMode shuffle = ShuffleMode::kGlobal;
  uint64_t window = 0;
  uint64_t seed = 0;
  uint64_t shard_size = 0;
  MixFormat format = MixFormat::kJsonlZst;
  std::string source_field = "source";
  std::string text_key = "text";
  std::string tokens_key;
  int zstd_level = 3;
  std::string tokenizer, tokenizer_sha256;
  SpecialTokenOptions specials;
  BadLinePolicy on_bad_line = BadLinePolicy::kError;
};

absl::StatusOr<Resolved> Resolve(const MixOptions& opts) {
  MixSettings st = opts.settings;
  Resolved r;
  if (!opts.recipe_path.empty()) {
    if (!opts.sources.empty()) return absl::InvalidArgumentError("give --source flags or --recipe, not both");
    RETURN_IF_ERROR(LoadRecipe(opts.recipe_path, &r.sources, &st));
  } else {
    r.sources = opts.sources;
  }
  if (r.sources.empty()) return absl::InvalidArgumentError("no sources: give at least one --source or a --recipe");
  absl::flat_hash_set<std::string> names;
  for (const MixSource& s : r.sources) {
    if (s.name.empty()) return absl::InvalidArgumentError("a source has an empty name");
    if (!names.insert(s.name).second) return absl::InvalidArgumentError(absl::StrCat("source '", s.name, "' is given twice"));
    if (!(s.weight > 0) || !std::isfinite(s.weight)) {
      return absl::InvalidArgumentError(absl::StrCat("source '", s.name, "': weight must be a positive number, got ",
                                                     s.weight));
    }
  }
  r.by = st.by.value_or(MixUnit::kDocs);
  r.total = st.total;
  r.max_epochs = st.max_epochs.value_or(1);
  if (!(r.max_epochs > 0)) return absl::InvalidArgumentError(absl::StrCat("--max-epochs must be positive, got ", r.max_epochs));
  r.allow_short = st.allow_short.value_or(false);
  r.shuffle = st.shuffle.value_or(ShuffleMode::kGlobal);
  r.window = st.window.value_or(0);
  r.seed = st.seed.value_or(0);
  r.shard_size = st.shard_size.value_or(DefaultShardSize(r.by));
  if (r.shard_size == 0) return absl::InvalidArgumentError("--shard-size must be positive");
  r.format = st.format.value_or(MixFormat::kJsonlZst);
  r.source_field = st.source_field.value_or("source");
  r.text_key = st.text_key.value_or("text");
  r.tokens_key = st.tokens_key.value_or("");
  r.zstd_level = st.zstd_level.value_or(3);
  if (r.zstd_level < 1 || r.zstd_level > 19) return absl::InvalidArgumentError("--zstd-level must be in 1..19");
  r.tokenizer = st.tokenizer.value_or("");
  r.tokenizer_sha256 = st.tokenizer_sha256.value_or("");
  r.on_bad_line = st.on_bad_line.value_or(opts.on_bad_line);
  r.specials.no_special = st.no_special.value_or(false);
  r.specials.add_bos = st.add_bos.value_or(false);
  r.specials.add_eos = st.add_eos.value_or(false);
  r.specials.append_eod = st.append_eod.value_or(false);
  if (!r.tokenizer.empty() && !r.tokens_key.empty()) {
    return absl::InvalidArgumentError("give -t (count tokens) or --tokens-key (read counts), not both");
  }
  if (r.by == MixUnit::kTokens && r.tokens_key.empty() && r.tokenizer.empty()) {
    return absl::InvalidArgumentError("--by tokens needs -t tokenizer.json or --tokens-key FIELD");
  }
  if (r.format == MixFormat::kMegatron && r.tokenizer.empty()) {
    return absl::InvalidArgumentError("--format megatron needs -t tokenizer.json (the shards hold token ids)");
  }
  if (r.tokenizer.empty()) {
    for (auto [set, flag] : {std::pair{r.specials.no_special, "--no-special"}, {r.specials.add_bos, "--add-bos"},
                             {r.specials.add_eos, "--add-eos"}, {r.specials.append_eod, "--append-eod"}}) {
      if (set) return absl::InvalidArgumentError(absl::StrCat(flag, " needs -t (it sets the tokens written)"));
    }
  }
  return r;
}


// Removes the temporary output directory unless the run got to the rename.
class TempDir {
 public:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

std::string Percent(double x) { return absl::StrFormat("%.2f%%", 100 * x); }

// The -o directory without trailing slashes; it must not exist yet.
absl::StatusOr<std::string> NewOutputDir(std::string out_dir) {
  while (out_dir.size() > 1 && out_dir.back() == '/') out_dir.pop_back();
  if (out_dir.empty() || out_dir == "-") {
    return absl::InvalidArgumentError("-o OUTDIR is required (the mixer writes a directory of shards)");
  }
  if (fs::exists(out_dir)) {
    return absl::AlreadyExistsError(absl::StrCat("output directory exists, ", out_dir, "; remove it or choose another"));
  }
  return out_dir;
}

// One MixInputIndex per input file, its source's MixSourceData pointing at
// it. Runs before anything is created, so a missing file leaves no trace.
absl::Status ExpandSourceInputs(const Resolved& r, std::vector<std::unique_ptr<MixInputIndex>>* inputs,
                                std::vector<MixSourceData>* data) {
  int stdin_uses = 0;
  for (size_t i = 0; i < r.sources.size(); ++i) {
    for (const MixInput& in : r.sources[i].inputs) {
      auto expanded = ExpandInputs({in.path});
      if (!expanded.ok()) return Annotate(expanded.status(), absl::StrCat("source '", r.sources[i].name, "'"));
      for (const std::string& p : *expanded) {
        if (p == "-" && ++stdin_uses > 1) return absl::InvalidArgumentError("stdin ('-') can be read only once");
        auto idx = std::make_unique<MixInputIndex>();
        idx->path = p;
        idx->expected_sha256 = in.sha256;
        idx->source = i;
        (*data)[i].inputs.push_back(idx.get());
        inputs->push_back(std::move(idx));
      }
    }
    if ((*data)[i].inputs.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("source '", r.sources[i].name, "' has no input files"));
    }
    AppendJsonString(&(*data)[i].name_json, r.sources[i].name);
  }
  return absl::OkStatus();
}

// OUTDIR.tmp.<pid> with its .spool directory, empty; the caller guards it.
absl::StatusOr<std::string> CreateTempDir(const std::string& out_dir) {
  const std::string tmp_dir = absl::StrCat(out_dir, ".tmp.", getpid());
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  if (!fs::create_directories(tmp_dir + "/.spool", ec) || ec) {
    return absl::InternalError(absl::StrCat("cannot create ", tmp_dir, ": ", ec.message()));
  }
  return tmp_dir;
}

// The -t tokenizer (none without -t) and its sha256, which must still be the
// one a manifest recorded.
absl::Status LoadMixTokenizer(const Resolved& r, std::unique_ptr<Tokenizer>* tokenizer, std::string* sha256) {
  if (r.tokenizer.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(*tokenizer, Tokenizer::Load(r.tokenizer));
  ASSIGN_OR_RETURN(*sha256, Sha256File(r.tokenizer));
  if (!r.tokenizer_sha256.empty() && r.tokenizer_sha256 != *sha256) {
    return absl::DataLossError(absl::StrCat("tokenizer changed since the manifest was written: sha256 ", *sha256,
                                            ", the manifest says ", r.tokenizer_sha256, ", ", r.tokenizer));
  }
  return absl::OkStatus();
}

// What the index pass does with each document, from the run's settings.
absl::StatusOr<IndexOptions> IndexOptionsFor(const Resolved& r, const MixOptions& opts, const Tokenizer* tokenizer) {
  IndexOptions io;
  io.reader.text_key = r.text_key;
  io.reader.format = opts.input_format;
  io.reader.on_bad_line = r.on_bad_line;
  io.reader.invalid_utf8 = opts.invalid_utf8;
  if (r.by == MixUnit::kTokens && r.tokenizer.empty()) io.tokens_key = r.tokens_key;
  io.source_field = r.source_field;
  if (tokenizer) {
    io.tokenizer = tokenizer;
    io.megatron = r.format == MixFormat::kMegatron;
    ASSIGN_OR_RETURN(io.specials, PlanDocumentSpecials(*tokenizer, r.specials));
  }
  return io;
}


// The planner's view of each indexed source: its documents' sizes in --by
// units. Fills each source's first_doc on the way.
absl::StatusOr<std::vector<PlanSourceInput>> PlanInputs(const Resolved& r, std::vector<MixSourceData>* data) {
  std::vector<PlanSourceInput> plan_in(r.sources.size());
  for (size_t i = 0; i < r.sources.size(); ++i) {
    plan_in[i].name = r.sources[i].name;
    plan_in[i].weight = r.sources[i].weight;
    uint64_t docs = 0;
    for (MixInputIndex* in : (*data)[i].inputs) {
      (*data)[i].first_doc.push_back(docs);
      docs += in->offset.size();
      const std::vector<uint32_t>* units = r.by == MixUnit::kBytes ? &in->text_bytes
                                           : r.by == MixUnit::kTokens ? &in->tokens
                                                                      : nullptr;
      if (units) {
        plan_in[i].units.insert(plan_in[i].units.end(), units->begin(), units->end());
      } else {
        plan_in[i].units.resize(plan_in[i].units.size() + in->offset.size(), 1);
      }
    }
    if (docs > UINT32_MAX) {
      return absl::ResourceExhaustedError(absl::StrCat("source '", r.sources[i].name, "' has over 2^32 documents"));
    }
  }
  return plan_in;
}

PlanOptions PlanOptionsFor(const Resolved& r) {
  PlanOptions po;
  po.unit = r.by;
  po.total = r.total;
  po.max_epochs = r.max_epochs;
  po.allow_short = r.allow_short;
  po.shuffle = r.shuffle;
  po.window = r.window;
  po.seed = r.seed;
  return po;
}

// Gathers the shards into `tmp_dir`, in parallel; each shard's content is
// fixed by the plan.
absl::StatusOr<std::vector<MixShardResult>> GatherShards(const Resolved& r, const MixPlan& plan,
                                                         const std::vector<MixSourceData>& data,
                                                         const std::vector<Shard>& shards, const std::string& tmp_dir,
                                                         const Tokenizer* tokenizer, int threads, bool progress) {
  std::vector<MixShardResult> results;
  Progress writing("mix: writing", progress);
  if (r.format == MixFormat::kMegatron) {
    RETURN_IF_ERROR(WriteMegatronShards(plan, data, shards, tmp_dir, MegatronDtypeForVocab(tokenizer->vocab_size()),
                                        threads, &results, &writing));
  } else {
    RETURN_IF_ERROR(WriteShards(plan, data, shards, tmp_dir, r.format == MixFormat::kJsonlZst, r.zstd_level, threads,
                                &results, &writing));
  }
  writing.Finish();
  return results;
}

// The manifest's recipe part: the settings, so that --recipe reruns the mix.
void WriteManifestSettings(const Resolved& r, const MixOptions& opts, const std::string& tokenizer_sha256,
                           JsonWriter* w) {
  w->Key("tool").String("llmtk-mix").Key("version").String(LLMTK_VERSION);
  w->Key("by").String(MixUnitName(r.by));
  if (r.total) w->Key("total").Uint(*r.total); else w->Key("total").Null();
  w->Key("max_epochs").Double(r.max_epochs).Key("allow_short").Bool(r.allow_short);
  w->Key("shuffle").String(ShuffleName(r.shuffle, r.window)).Key("seed").Uint(r.seed);
  w->Key("shard_size").Uint(r.shard_size);
  w->Key("format").String(r.format == MixFormat::kJsonlZst ? "jsonl.zst"
                          : r.format == MixFormat::kJsonl  ? "jsonl"
                                                           : "megatron");
  if (r.source_field.empty()) w->Key("source_field").Null(); else w->Key("source_field").String(r.source_field);
  w->Key("text_key").String(r.text_key);
  if (r.tokens_key.empty()) w->Key("tokens_key").Null(); else w->Key("tokens_key").String(r.tokens_key);
  w->Key("zstd_level").Int(r.zstd_level);
  if (r.tokenizer.empty()) {
    w->Key("tokenizer").Null();
  } else {
    w->Key("tokenizer").String(r.tokenizer).Key("tokenizer_sha256").String(tokenizer_sha256);
    w->Key("no_special").Bool(r.specials.no_special).Key("add_bos").Bool(r.specials.add_bos);
    w->Key("add_eos").Bool(r.specials.add_eos).Key("append_eod").Bool(r.specials.append_eod);
  }
  w->Key("on_bad_line").String(r.on_bad_line == BadLinePolicy::kSkip ? "skip" : "error");
}

// Text bytes and tokens of the documents a source's plan takes.
void CountTaken(const MixSourceData& sd, const std::vector<uint32_t>& order, uint64_t* text_bytes,
                uint64_t* tokens) {
  for (uint32_t d : order) {
    const size_t k = static_cast<size_t>(std::upper_bound(sd.first_doc.begin(), sd.first_doc.end(), d) -
                                         sd.first_doc.begin()) - 1;
    *text_bytes += sd.inputs[k]->text_bytes[d - sd.first_doc[k]];
    if (!sd.inputs[k]->tokens.empty()) *tokens += sd.inputs[k]->tokens[d - sd.first_doc[k]];
  }
}

// Source `i`'s manifest entry (its inputs, target and what it got); returns
// its line of the summary.
std::string WriteManifestSource(const Resolved& r, size_t i, const MixPlan& plan, const MixSourceData& sd,
                                bool tokens_counted, JsonWriter* w) {
  const SourcePlan& p = plan.sources[i];
  uint64_t text_bytes = 0, tokens = 0, skipped = 0;
  CountTaken(sd, p.order, &text_bytes, &tokens);
  w->BeginObject().Key("name").String(r.sources[i].name).Key("weight").Double(r.sources[i].weight);
  w->Key("inputs").BeginArray();
  for (const MixInputIndex* in : sd.inputs) {
    skipped += in->skipped;
    w->BeginObject().Key("path").String(in->path).Key("bytes").Int(in->file_bytes);
    if (in->sha256.empty()) w->Key("sha256").Null(); else w->Key("sha256").String(in->sha256);
    w->Key("documents").Uint(in->offset.size()).Key("skipped_lines").Uint(in->skipped);
    if (!in->first_skip.empty()) w->Key("first_skip").String(in->first_skip);
    w->EndObject();
  }
  w->EndArray();
  const double achieved = plan.total_units ? static_cast<double>(p.taken_units) / static_cast<double>(plan.total_units) : 0;
  w->Key("target_share").Double(p.share).Key("achieved_share").Double(achieved);
  w->Key("target_units").Double(p.target_units);
  w->Key("available_documents").Uint(p.available_docs).Key("available_units").Uint(p.available_units);
  w->Key("documents_taken").Uint(p.order.size()).Key("units_taken").Uint(p.taken_units);
  w->Key("bytes_taken").Uint(text_bytes);
  if (tokens_counted) w->Key("tokens_taken").Uint(tokens);
  w->Key("epochs").Double(p.epochs).Key("full_epochs").Uint(p.full_epochs);
  w->EndObject();
  return absl::StrFormat("  %-12s target %7s  achieved %7s  %9d docs  %6.2f epochs%s\n", r.sources[i].name,
                         Percent(p.share), Percent(achieved), p.order.size(), p.epochs,
                         skipped ? absl::StrCat("  (", skipped, " bad lines skipped)") : "");
}

void WriteManifestShards(const Resolved& r, const std::vector<Shard>& shards,
                         const std::vector<MixShardResult>& results, JsonWriter* w) {
  w->Key("shards").BeginArray();
  for (size_t k = 0; k < shards.size(); ++k) {
    w->BeginObject().Key("name").String(results[k].name);
    w->Key("documents").Uint(shards[k].end - shards[k].begin).Key("units").Uint(shards[k].units);
    w->Key("documents_per_source").BeginObject();
    for (size_t i = 0; i < r.sources.size(); ++i) w->Key(r.sources[i].name).Uint(shards[k].docs_per_source[i]);
    w->EndObject();
    w->Key("file_bytes").Uint(results[k].file_bytes).Key("sha256").String(results[k].sha256);
    if (!results[k].idx_name.empty()) {
      w->Key("idx_name").String(results[k].idx_name).Key("idx_bytes").Uint(results[k].idx_bytes);
      w->Key("idx_sha256").String(results[k].idx_sha256);
    }
    w->EndObject();
  }
  w->EndArray();
}

// The manifest: a recipe (first) plus what the run took and wrote. The
// summary's per-source lines go to `source_lines`.
std::string ManifestJson(const Resolved& r, const MixOptions& opts, const std::string& tokenizer_sha256,
                         const MixPlan& plan, const std::vector<MixSourceData>& data, const std::vector<Shard>& shards,
                         const std::vector<MixShardResult>& results, std::string* source_lines) {
  JsonWriter w;
  w.BeginObject();
  WriteManifestSettings(r, opts, tokenizer_sha256, &w);
  w.Key("requested_units").Double(plan.requested_units);
  w.Key("achieved_units").Uint(plan.total_units);
  w.Key("achieved_documents").Uint(plan.blend.size());
  w.Key("short_of_target").Bool(plan.short_of_target);
  w.Key("sources").BeginArray();
  const bool tokens_counted = r.by == MixUnit::kTokens || !r.tokenizer.empty();
  for (size_t i = 0; i < r.sources.size(); ++i) {
    *source_lines += WriteManifestSource(r, i, plan, data[i], tokens_counted, &w);
  }
  w.EndArray();
  WriteManifestShards(r, shards, results, &w);
  w.EndObject();
  return w.Take() + "\n";
}

// Writes the manifest into the temporary directory and renames it to OUTDIR.
absl::Status Publish(const std::string& tmp_dir, const std::string& out_dir, const std::string& manifest_json) {
  {
    ASSIGN_OR_RETURN(auto mf, OutputFile::Open(tmp_dir + "/manifest.json"));
    RETURN_IF_ERROR(mf->Write(manifest_json));
    RETURN_IF_ERROR(mf->Close());
  }
  if (rename(tmp_dir.c_str(), out_dir.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp_dir, " to ", out_dir, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

// The summary's first line.
std::string RunSummaryLine(const Resolved& r, const std::string& out_dir, const MixPlan& plan, size_t shards) {
  return absl::StrFormat("mixed %d sources into %s: %d documents, %d %s in %d shards%s\n", r.sources.size(), out_dir,
                         plan.blend.size(), plan.total_units, std::string(MixUnitName(r.by)), shards,
                         plan.short_of_target
                             ? absl::StrFormat(" (short: %.4g%% of the requested %.0f, --allow-short)",
                                               100 * plan.scale, plan.requested_units)
                             : "");
}

}  // namespace

absl::StatusOr<MixReport> RunMix(const MixOptions& opts) {
  ASSIGN_OR_RETURN(Resolved r, Resolve(opts));
  ASSIGN_OR_RETURN(const std::string out_dir, NewOutputDir(opts.output_dir));
  std::vector<std::unique_ptr<MixInputIndex>> inputs;
  std::vector<MixSourceData> data(r.sources.size());
  RETURN_IF_ERROR(ExpandSourceInputs(r, &inputs, &data));
  ASSIGN_OR_RETURN(const std::string tmp_dir, CreateTempDir(out_dir));
  TempDir guard(tmp_dir);

  std::unique_ptr<Tokenizer> tokenizer;
  std::string tokenizer_sha256;
  RETURN_IF_ERROR(LoadMixTokenizer(r, &tokenizer, &tokenizer_sha256));
  ASSIGN_OR_RETURN(IndexOptions io, IndexOptionsFor(r, opts, tokenizer.get()));
  const int threads = std::max(opts.threads, 1);
  RETURN_IF_ERROR(IndexAllInputs(io, tmp_dir, threads, opts.progress, inputs, data));

  ASSIGN_OR_RETURN(std::vector<PlanSourceInput> plan_in, PlanInputs(r, &data));
  ASSIGN_OR_RETURN(MixPlan plan, PlanMixture(plan_in, PlanOptionsFor(r)));
  const std::vector<Shard> shards = CutShards(plan, plan_in, r.shard_size);
  ASSIGN_OR_RETURN(std::vector<MixShardResult> results,
                   GatherShards(r, plan, data, shards, tmp_dir, tokenizer.get(), threads, opts.progress));
  for (auto& in : inputs) in->spool.reset();
  std::error_code ec;
  fs::remove_all(tmp_dir + "/.spool", ec);

  MixReport report;
  std::string source_lines;
  report.manifest_json = ManifestJson(r, opts, tokenizer_sha256, plan, data, shards, results, &source_lines);
  report.short_of_target = plan.short_of_target;
  RETURN_IF_ERROR(Publish(tmp_dir, out_dir, report.manifest_json));
  guard.Release();
  report.summary = RunSummaryLine(r, out_dir, plan, shards.size()) + source_lines;
  return report;
}

}  // namespace llmtk
