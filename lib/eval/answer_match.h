// eval/answer_match: from a generated completion to "correct or not", as
// lm-evaluation-harness's generative tasks decide it.
//
// 1. Extraction (its `regex` filter, then `take_first`): the first match of
//    the pattern in the completion (Python's re.findall(...)[0]: the whole
//    match when the pattern has no group, group 1 when it has one, the first
//    non-empty group when it has several), stripped of whitespace at both
//    ends (Python's str.strip); no match gives "[invalid]". Without a
//    pattern the completion is the answer, unchanged.
// 2. Normalisation of both the answer and the gold (its `exact_match`
//    options, in its order): each regex to ignore removed everywhere
//    (re.sub(r, "", s)), then lowercase (ignore_case: Unicode simple case
//    mapping, where Python's str.lower differs only for a few characters
//    such as U+0130), then ASCII punctuation removed (ignore_punctuation:
//    Python's string.punctuation), then ASCII digits (ignore_numbers).
// 3. Exact match: the two normalised strings are equal, byte for byte.
//
// Patterns are PCRE2 with UTF and UCP (lib/base/regex.h), which reads the
// patterns these tasks use (`#### (\-?[0-9\.\,]+)`, `The answer is (.*)`,
// `\(([A-D])\)`, lookarounds) as Python's re does. Invalid UTF-8 in a
// completion (a token cut inside a character) is matched as U+FFFD.
//
// Thread-safety: an AnswerMatcher is immutable once created.
#ifndef LLMTK_LIB_EVAL_ANSWER_MATCH_H_
#define LLMTK_LIB_EVAL_ANSWER_MATCH_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/regex.h"
#include "lib/base/status.h"

namespace llmtk {

inline constexpr std::string_view kInvalidAnswer = "[invalid]";

struct AnswerMatchOptions {
  std::string extract;                         // empty: the whole completion
  bool extract_last = false;                   // the last match instead (group_select -1)
  std::vector<std::string> regexes_to_ignore;  // removed from answer and gold
  bool ignore_case = false;
  bool ignore_punctuation = false;
  bool ignore_numbers = false;
};

class AnswerMatcher {
 public:
  // InvalidArgument naming the flag (--extract, --ignore) and the pattern
  // when one does not compile.
  static absl::StatusOr<std::unique_ptr<AnswerMatcher>> Create(const AnswerMatchOptions& opts);

  const AnswerMatchOptions& options() const { return opts_; }
  // Step 1.
  absl::StatusOr<std::string> Extract(std::string_view completion) const;
  // Step 2.
  absl::StatusOr<std::string> Normalize(std::string_view s) const;
  // Steps 2 and 3.
  absl::StatusOr<bool> Matches(std::string_view answer, std::string_view gold) const;

 private:
  AnswerMatcher() = default;
  AnswerMatchOptions opts_;
  std::unique_ptr<Regex> extract_;
  std::vector<std::unique_ptr<Regex>> ignore_;
};

// Python's str.strip(): whitespace (str.isspace) removed at both ends.
std::string_view StripPythonSpace(std::string_view s);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_ANSWER_MATCH_H_
