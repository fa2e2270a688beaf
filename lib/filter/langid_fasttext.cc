#include "lib/filter/langid_fasttext.h"

#include <fasttext/fasttext.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lib/filter/text.h"

namespace llmtk {

namespace {
constexpr std::string_view kLabelPrefix = "__label__";
}  // namespace

FastTextLangId::FastTextLangId() : model_(std::make_unique<fasttext::FastText>()) {}
FastTextLangId::~FastTextLangId() = default;

absl::StatusOr<std::unique_ptr<FastTextLangId>> FastTextLangId::Load(const std::string& path) {
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    return absl::NotFoundError(absl::StrCat("--fasttext ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<FastTextLangId> id(new FastTextLangId());
  // libfasttext reports a bad file by throwing; it stays here.
  try {
    id->model_->loadModel(path);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fasttext ", path, ": not a fastText model (", e.what(), "); give a .bin model such as lid.176.bin"));
  }
  if (id->model_->getArgs().model != fasttext::model_name::sup)
    return absl::InvalidArgumentError(absl::StrCat(
        "--fasttext ", path, ": a fastText word-vector model, not a classifier; give a supervised model such as lid.176.bin"));
  return id;
}

std::vector<std::pair<std::string, float>> FastTextLangId::Predict(std::string_view text, int k) const {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  line.push_back('\n');
  std::istringstream in(std::move(line));
  std::vector<std::pair<fasttext::real, std::string>> predictions;
  model_->predictLine(in, predictions, k, 0.0f);
  std::vector<std::pair<std::string, float>> out;
  out.reserve(predictions.size());
  for (auto& [prob, label] : predictions) {
    std::string_view l = label;
    if (l.starts_with(kLabelPrefix)) l.remove_prefix(kLabelPrefix.size());
    out.emplace_back(std::string(l), prob);
  }
  return out;
}

void FastTextLangId::Tag(std::string_view text, Attributes* out) const {
  const uint64_t end = CodePoints(text);
  for (const auto& [label, prob] : Predict(text)) out->Add(kFastTextTagger, label, 0, end, prob);
}

}  // namespace llmtk
