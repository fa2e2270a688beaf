#include "lib/eval/answer_match.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/base/unicode.h"

namespace llmtk {

std::string_view StripPythonSpace(std::string_view s) {
  size_t begin = s.size();
  size_t end = 0;
  for (size_t pos = 0; pos < s.size();) {
    const size_t at = pos;
    const int32_t cp = DecodeUtf8(s, &pos);
    if (cp == kInvalidUtf8 || !IsPythonSpace(static_cast<char32_t>(cp))) {
      if (begin == s.size()) begin = at;
      end = pos;
    }
  }
  return begin >= end ? std::string_view() : s.substr(begin, end - begin);
}

absl::StatusOr<std::unique_ptr<AnswerMatcher>> AnswerMatcher::Create(const AnswerMatchOptions& opts) {
  std::unique_ptr<AnswerMatcher> m(new AnswerMatcher());
  m->opts_ = opts;
  // A pattern here comes from the command line: one that does not compile
  // is a usage error, not a data error.
  auto compile = [](std::string_view flag, const std::string& p) -> absl::StatusOr<std::unique_ptr<Regex>> {
    auto re = Regex::Compile(p);
    if (!re.ok()) return absl::InvalidArgumentError(absl::StrCat(ToAbsl(flag), ": ", re.status().message()));
    return std::move(*re);
  };
  if (!opts.extract.empty()) {
    ASSIGN_OR_RETURN(m->extract_, compile("--extract", opts.extract));
  }
  for (const std::string& p : opts.regexes_to_ignore) {
    ASSIGN_OR_RETURN(auto re, compile("--ignore", p));
    m->ignore_.push_back(std::move(re));
  }
  return m;
}

absl::StatusOr<std::string> AnswerMatcher::Extract(std::string_view completion) const {
  if (!extract_) return std::string(completion);
  const std::string text = ReplaceInvalidUtf8(completion);
  std::vector<Regex::Groups> matches;
  RETURN_IF_ERROR(extract_->FindAllGroups(text, &matches));
  if (matches.empty()) return std::string(kInvalidAnswer);
  const Regex::Groups& g = opts_.extract_last ? matches.back() : matches.front();
  auto span = [&](size_t i) {
    return g[i].first == Regex::kUnset ? std::string_view() : std::string_view(text).substr(g[i].first, g[i].second - g[i].first);
  };
  std::string_view found;
  if (g.size() == 1) {
    found = span(0);
  } else if (g.size() == 2) {
    found = span(1);
  } else {
    // Several groups: findall gives a tuple, of which the first non-empty
    // one counts. None non-empty (where lm-evaluation-harness would fail)
    // is no answer.
    size_t i = 1;
    while (i < g.size() && span(i).empty()) ++i;
    if (i == g.size()) return std::string(kInvalidAnswer);
    found = span(i);
  }
  return std::string(StripPythonSpace(found));
}

absl::StatusOr<std::string> AnswerMatcher::Normalize(std::string_view s) const {
  std::string out = ReplaceInvalidUtf8(s);
  for (const auto& re : ignore_) {
    std::vector<Regex::Groups> matches;
    RETURN_IF_ERROR(re->FindAllGroups(out, &matches));
    std::string kept;
    size_t from = 0;
    for (const Regex::Groups& g : matches) {
      kept.append(out, from, g[0].first - from);
      from = g[0].second;
    }
    kept.append(out, from, std::string::npos);
    out = std::move(kept);
  }
  if (opts_.ignore_case) out = ToLower(out);
  auto drop = [&](const char* set) {
    std::string kept;
    for (char c : out)
      if (c == '\0' || std::strchr(set, c) == nullptr) kept.push_back(c);
    out = std::move(kept);
  };
  if (opts_.ignore_punctuation) drop("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
  if (opts_.ignore_numbers) drop("0123456789");
  return out;
}

absl::StatusOr<bool> AnswerMatcher::Matches(std::string_view answer, std::string_view gold) const {
  ASSIGN_OR_RETURN(std::string a, Normalize(answer));
  ASSIGN_OR_RETURN(std::string b, Normalize(gold));
  return a == b;
}

}  // namespace llmtk
