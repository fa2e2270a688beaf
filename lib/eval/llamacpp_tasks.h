// eval/llamacpp_tasks: the three task files of llama.cpp's
// `llama-perplexity` (--hellaswag, --winogrande, --multiple-choice), read
// and selected exactly as llama.cpp c392e50 does, so its users' files work
// unchanged and the same tasks are scored in the same order:
//
// - HellaSwag text: six lines a task (context, gold index, four endings).
//   llama.cpp always draws its tasks at random (std::mt19937 seeded 1,
//   uniform_int_distribution over the tasks not yet drawn), also when all
//   are used, so even a full run scores them in a shuffled order.
// - Winogrande CSV: `index,sentence,choice1,choice2,answer` with one `_` in
//   the sentence; the sentence may be in double quotes. With fewer tasks
//   than the file has, the draw is llama.cpp's float-scaled mt19937 pick.
//   llama.cpp reads the file through -f, which drops its final line break,
//   and then skips a last line without one: the last line of a file ending
//   in one line break is never scored. The reader does the same and reports
//   it (end the file with an empty line to score it in both).
// - Binary multiple choice: u32 task count, u32 offsets, then per task the
//   question, the single-answer set (answers + int labels) and the
//   multi-answer set, strings as u32 length + bytes.
//
// Where llama.cpp logs a bad task and skips it (or stops, or crashes), these
// readers fail with the file and line or byte offset: a malformed file is a
// data error, not a silently smaller benchmark.
//
// Thread-safety: functions are reentrant.
#ifndef LLMTK_LIB_EVAL_LLAMACPP_TASKS_H_
#define LLMTK_LIB_EVAL_LLAMACPP_TASKS_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

enum class LlamaCppFormat { kHellaswag, kWinogrande, kMultipleChoice };

// llama-perplexity's default task counts (common.h): HellaSwag 400, the
// others all (0).
size_t LlamaCppDefaultTasks(LlamaCppFormat f);

struct LlamaCppTask {
  std::string context;               // HellaSwag context, Winogrande text before `_`, the question
  std::string after;                 // Winogrande: the text after `_`
  std::vector<std::string> choices;  // endings, the two options, the answers
  std::vector<int> labels;           // 1 marks a correct choice
  std::string where;                 // "FILE:LINE" or "FILE: task at byte N"
};

struct LlamaCppTaskFile {
  std::vector<LlamaCppTask> tasks;  // selected, in llama.cpp's order
  size_t available = 0;             // tasks in the file
  std::string note;                 // e.g. the unread last line; empty when none
};

// `n_tasks`: llama.cpp's --hellaswag-tasks / --winogrande-tasks /
// --multiple-choice-tasks (0 where llama.cpp reads it as all).
absl::StatusOr<LlamaCppTaskFile> ReadLlamaCppTasks(LlamaCppFormat f, std::string_view data,
                                                   const std::string& name, size_t n_tasks);

// libstdc++'s uniform_int_distribution<size_t>(0, n - 1) on std::mt19937
// (Lemire's multiply-shift with rejection, the 32-bit generator widened to
// 64 bits), written out so the draw does not depend on the standard library
// the project is built with. n >= 1.
size_t LlamaCppUniformIndex(std::mt19937& rng, size_t n);
// llama.cpp's `int(scale * rng() * n)` with scale = 1 / (1 + float(max)),
// in float as it computes it (clamped to n - 1 where float rounding reaches
// n, which llama.cpp would index out of range).
size_t LlamaCppScaledIndex(std::mt19937& rng, size_t n);

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_LLAMACPP_TASKS_H_
