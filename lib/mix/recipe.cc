// Recipe side of the mixer: source specs, counts, recipe/manifest JSON.
#include "lib/mix/recipe.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/base/io.h"
#include "lib/base/size.h"
#include "absl/strings/str_join.h"
#include "lib/base/names.h"
#include "simdjson.h"

namespace llmtk {

absl::StatusOr<MixSource> ParseSourceSpec(std::string_view spec) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--source '", ToAbsl(spec), "': ", ToAbsl(why),
                                                   " (expected NAME=PATH[,PATH...]:WEIGHT)"));
  };
  const size_t eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0) return bad("no NAME=");
  const size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos || colon < eq) return bad("no :WEIGHT");
  MixSource s;
  s.name = std::string(spec.substr(0, eq));
  const std::string_view paths = spec.substr(eq + 1, colon - eq - 1);
  const std::string weight(spec.substr(colon + 1));
  if (!absl::SimpleAtod(weight, &s.weight)) return bad(absl::StrCat("weight '", weight, "' is not a number"));
  size_t at = 0;
  while (at <= paths.size()) {
    size_t comma = paths.find(',', at);
    if (comma == std::string_view::npos) comma = paths.size();
    if (comma > at) s.inputs.push_back({std::string(paths.substr(at, comma - at)), ""});
    at = comma + 1;
  }
  if (s.inputs.empty()) return bad("no PATH");
  return s;
}

absl::StatusOr<uint64_t> ParseCount(std::string_view text) {
  double v = 0;
  if (ParseSize(text, kCountUnits, kCountSeparators, &v) != SizeError::kNone || !std::isfinite(v) || v > 1.8e19) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", ToAbsl(text), "' is not a count (a number with an optional k, M, G or T suffix)"));
  }
  return static_cast<uint64_t>(std::llround(v));
}

absl::Status ParseShuffle(std::string_view s, ShuffleMode* mode, uint64_t* window) {
  if (s == "none") {
    *mode = ShuffleMode::kNone;
  } else if (s == "global") {
    *mode = ShuffleMode::kGlobal;
  } else if (s.substr(0, 7) == "window:") {
    *mode = ShuffleMode::kWindow;
    auto n = ParseCount(s.substr(7));
    if (!n.ok() || *n == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--shuffle '", ToAbsl(s), "': window size must be a positive count"));
    }
    *window = *n;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--shuffle '", ToAbsl(s), "': expected none, global or window:N"));
  }
  return absl::OkStatus();
}

std::string ShuffleName(ShuffleMode mode, uint64_t window) {
  switch (mode) {
    case ShuffleMode::kNone: return "none";
    case ShuffleMode::kGlobal: return "global";
    case ShuffleMode::kWindow: return absl::StrCat("window:", window);
  }
  return "?";
}

uint64_t DefaultShardSize(MixUnit unit) {
  switch (unit) {
    case MixUnit::kDocs: return 100000;
    case MixUnit::kBytes: return 100000000;
    case MixUnit::kTokens: return 50000000;
  }
  return 100000;
}

namespace {

absl::Status RecipeError(const std::string& path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("recipe ", path, ": ", ToAbsl(what)));
}

// The keys a recipe may hold: the settings, and everything a manifest.json
// (itself a recipe) records. Any other key is a misspelling, never ignored.
const std::vector<std::string> kTopKeys = {
    "sources", "by", "total", "max_epochs", "allow_short", "shuffle", "seed", "shard_size", "format",
    "source_field", "text_key", "tokens_key", "zstd_level", "tokenizer", "tokenizer_sha256", "no_special",
    "add_bos", "add_eos", "append_eod", "on_bad_line",
    // written by a run, read back as information only
    "tool", "version", "requested_units", "achieved_units", "achieved_documents", "short_of_target", "shards"};
const std::vector<std::string> kSourceKeys = {
    "name", "weight", "paths", "inputs",
    "target_share", "achieved_share", "target_units", "available_documents", "available_units", "documents_taken",
    "units_taken", "bytes_taken", "tokens_taken", "epochs", "full_epochs"};
const std::vector<std::string> kInputKeys = {"path", "sha256", "bytes", "documents", "skipped_lines", "first_skip"};

absl::Status CheckKeys(const std::string& path, const std::string& where, simdjson::dom::object obj,
                       const std::vector<std::string>& known) {
  for (auto field : obj) {
    const std::string key(field.key);
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const std::string near = NearestName(key, known);
    return RecipeError(path, absl::StrCat(where, "unknown key \"", key, "\"",
                                          near.empty() ? absl::StrCat(" (the keys are ", absl::StrJoin(known, ", "), ")")
                                                       : absl::StrCat(" (did you mean \"", near, "\"?)")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadRecipe(const std::string& path, std::vector<MixSource>* sources, MixSettings* settings) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text).get(root); err) {
    return absl::DataLossError(absl::StrCat("recipe ", path, " is not valid JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get(obj)) return RecipeError(path, "the top level must be an object");
  RETURN_IF_ERROR(CheckKeys(path, "", obj, kTopKeys));
  simdjson::dom::array arr;
  if (obj["sources"].get(arr)) return RecipeError(path, "needs a \"sources\" array");
  for (simdjson::dom::element e : arr) {
    MixSource s;
    std::string_view name;
    if (e["name"].get(name)) return RecipeError(path, "every source needs a string \"name\"");
    s.name = std::string(name);
    simdjson::dom::object source_obj;
    if (!e.get(source_obj)) RETURN_IF_ERROR(CheckKeys(path, absl::StrCat("source '", s.name, "': "), source_obj, kSourceKeys));
    double w;
    if (e["weight"].get(w)) return RecipeError(path, absl::StrCat("source '", s.name, "' needs a numeric \"weight\""));
    s.weight = w;
    simdjson::dom::array list;
    if (!e["inputs"].get(list)) {
      for (simdjson::dom::element in : list) {
        std::string_view p, sha;
        if (in["path"].get(p)) return RecipeError(path, absl::StrCat("source '", s.name, "': input without \"path\""));
        simdjson::dom::object input_obj;
        if (!in.get(input_obj)) {
          RETURN_IF_ERROR(CheckKeys(path, absl::StrCat("source '", s.name, "', input ", ToAbsl(p), ": "), input_obj, kInputKeys));
        }
        if (in["sha256"].get(sha)) sha = "";
        s.inputs.push_back({std::string(p), std::string(sha)});
      }
    } else if (!e["paths"].get(list)) {
      for (simdjson::dom::element in : list) {
        std::string_view p;
        if (in.get(p)) return RecipeError(path, absl::StrCat("source '", s.name, "': \"paths\" must hold strings"));
        s.inputs.push_back({std::string(p), ""});
      }
    } else {
      return RecipeError(path, absl::StrCat("source '", s.name, "' needs \"paths\" (or \"inputs\")"));
    }
    sources->push_back(std::move(s));
  }
  // Settings: a key that is absent or null keeps the default.
  auto get_string = [&](const char* key, std::optional<std::string>* out) -> absl::Status {
    simdjson::dom::element v;
    if (obj[key].get(v) || v.is_null()) return absl::OkStatus();
    std::string_view sv;
    if (v.get(sv)) return RecipeError(path, absl::StrCat("\"", key, "\" must be a string"));
    *out = std::string(sv);
    return absl::OkStatus();
  };
  auto get_uint = [&](const char* key, std::optional<uint64_t>* out) -> absl::Status {
    simdjson::dom::element v;
    if (obj[key].get(v) || v.is_null()) return absl::OkStatus();
    uint64_t u;
    if (v.get(u)) return RecipeError(path, absl::StrCat("\"", key, "\" must be a non-negative integer"));
    *out = u;
    return absl::OkStatus();
  };
  std::optional<std::string> by, shuffle, format, source_field, text_key, tokens_key, tokenizer, tokenizer_sha,
      on_bad_line;
  RETURN_IF_ERROR(get_string("on_bad_line", &on_bad_line));
  RETURN_IF_ERROR(get_string("by", &by));
  RETURN_IF_ERROR(get_string("shuffle", &shuffle));
  RETURN_IF_ERROR(get_string("format", &format));
  RETURN_IF_ERROR(get_string("text_key", &text_key));
  RETURN_IF_ERROR(get_string("tokens_key", &tokens_key));
  RETURN_IF_ERROR(get_string("tokenizer", &tokenizer));
  RETURN_IF_ERROR(get_string("tokenizer_sha256", &tokenizer_sha));
  {
    // source_field: null means "no field", unlike the other keys.
    simdjson::dom::element v;
    if (!obj["source_field"].get(v)) {
      std::string_view sv;
      if (v.is_null()) {
        source_field = "";
      } else if (v.get(sv)) {
        return RecipeError(path, "\"source_field\" must be a string or null");
      } else {
        source_field = std::string(sv);
      }
    }
  }
  std::optional<uint64_t> total, seed, shard_size, zstd_level;
  RETURN_IF_ERROR(get_uint("total", &total));
  RETURN_IF_ERROR(get_uint("seed", &seed));
  RETURN_IF_ERROR(get_uint("shard_size", &shard_size));
  RETURN_IF_ERROR(get_uint("zstd_level", &zstd_level));
  {
    simdjson::dom::element v;
    double d;
    if (!obj["max_epochs"].get(v) && !v.is_null()) {
      if (v.get(d)) return RecipeError(path, "\"max_epochs\" must be a number");
      if (!settings->max_epochs) settings->max_epochs = d;
    }
    bool b;
    if (!obj["allow_short"].get(v) && !v.is_null()) {
      if (v.get(b)) return RecipeError(path, "\"allow_short\" must be true or false");
      if (!settings->allow_short) settings->allow_short = b;
    }
    for (auto [key, field] : {std::pair{"no_special", &settings->no_special}, {"add_bos", &settings->add_bos},
                              {"add_eos", &settings->add_eos}, {"append_eod", &settings->append_eod}}) {
      if (!obj[key].get(v) && !v.is_null()) {
        if (v.get(b)) return RecipeError(path, absl::StrCat("\"", key, "\" must be true or false"));
        if (!*field) *field = b;
      }
    }
  }
  if (by && !settings->by) {
    if (*by == "docs") settings->by = MixUnit::kDocs;
    else if (*by == "bytes") settings->by = MixUnit::kBytes;
    else if (*by == "tokens") settings->by = MixUnit::kTokens;
    else return RecipeError(path, absl::StrCat("\"by\" must be docs, bytes or tokens, not '", *by, "'"));
  }
  if (shuffle && !settings->shuffle) {
    ShuffleMode m;
    uint64_t w = 0;
    RETURN_IF_ERROR(ParseShuffle(*shuffle, &m, &w));
    settings->shuffle = m;
    settings->window = w;
  }
  if (format && !settings->format) {
    if (*format == "jsonl") settings->format = MixFormat::kJsonl;
    else if (*format == "jsonl.zst") settings->format = MixFormat::kJsonlZst;
    else if (*format == "megatron") settings->format = MixFormat::kMegatron;
    else return RecipeError(path, absl::StrCat("\"format\" must be jsonl, jsonl.zst or megatron, not '", *format, "'"));
  }
  if (on_bad_line && !settings->on_bad_line) {
    if (*on_bad_line == "error") settings->on_bad_line = BadLinePolicy::kError;
    else if (*on_bad_line == "skip") settings->on_bad_line = BadLinePolicy::kSkip;
    else return RecipeError(path, absl::StrCat("\"on_bad_line\" must be error or skip, not '", *on_bad_line, "'"));
  }
  if (source_field && !settings->source_field) settings->source_field = source_field;
  if (text_key && !settings->text_key) settings->text_key = text_key;
  if (tokens_key && !settings->tokens_key) settings->tokens_key = tokens_key;
  if (tokenizer && !settings->tokenizer) {
    settings->tokenizer = tokenizer;
    if (tokenizer_sha) settings->tokenizer_sha256 = tokenizer_sha;
  }
  if (total && !settings->total) settings->total = total;
  if (seed && !settings->seed) settings->seed = seed;
  if (shard_size && !settings->shard_size) settings->shard_size = shard_size;
  if (zstd_level && !settings->zstd_level) settings->zstd_level = static_cast<int>(*zstd_level);
  return absl::OkStatus();
}

}  // namespace llmtk
