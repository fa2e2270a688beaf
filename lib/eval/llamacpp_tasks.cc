#include "lib/eval/llamacpp_tasks.h"

#include <cctype>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace llmtk {
namespace {

// Lines as std::getline splits them: a final line break ends the last line
// (no empty line after it); `terminated` says whether the last line had one.
std::vector<std::string_view> SplitLines(std::string_view data, bool* terminated) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < data.size()) {
    const size_t nl = data.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(data.substr(start));
      *terminated = false;
      return lines;
    }
    lines.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  *terminated = true;
  return lines;
}

// The integer std::stoi / `istream >> int` read at the start of `s`: spaces,
// a sign, digits; whatever follows is ignored, as there. False when no digit
// or out of int range.
bool LeadingInt(std::string_view s, int* out) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  int64_t v = 0;
  size_t digits = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits) {
    v = v * 10 + (s[i] - '0');
    if (v > std::numeric_limits<int>::max()) return false;
  }
  if (digits == 0) return false;
  *out = static_cast<int>(neg ? -v : v);
  return true;
}

std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 40));
  if (s.size() > 40) out += "...";
  return out;
}

absl::StatusOr<LlamaCppTaskFile> ReadHellaswag(std::string_view data, const std::string& name, size_t n_tasks) {
  bool terminated = true;
  const std::vector<std::string_view> lines = SplitLines(data, &terminated);
  if (lines.empty()) return absl::DataLossError(absl::StrCat(name, ": no tasks (the file is empty)"));
  if (lines.size() % 6 != 0) {
    const size_t last = lines.size() / 6 * 6;
    return absl::DataLossError(absl::StrFormat(
        "%s: %d lines, not a multiple of 6 (HellaSwag files have 6 lines a task: context, gold ending index, 4 "
        "endings); the last task, from line %d, has %d",
        name, lines.size(), last + 1, lines.size() - last));
  }
  LlamaCppTaskFile out;
  out.available = lines.size() / 6;
  std::vector<LlamaCppTask> all(out.available);
  for (size_t t = 0; t < all.size(); ++t) {
    const size_t l = t * 6;
    int gold = -1;
    if (!LeadingInt(lines[l + 1], &gold) || gold < 0 || gold > 3) {
      return absl::DataLossError(absl::StrFormat("%s:%d: the gold ending index '%s' is not 0, 1, 2 or 3", name,
                                                 l + 2, Shown(lines[l + 1])));
    }
    LlamaCppTask& task = all[t];
    task.context = std::string(lines[l]);
    for (int j = 0; j < 4; ++j) {
      task.choices.emplace_back(lines[l + 2 + j]);
      task.labels.push_back(j == gold ? 1 : 0);
    }
    task.where = absl::StrCat(name, ":", l + 1);
  }
  // llama.cpp draws every task (randomize_tasks is always on), removing each
  // drawn one from the list it draws from.
  const size_t count = n_tasks == 0 ? all.size() : std::min(n_tasks, all.size());
  std::mt19937 rng(1);
  for (size_t i = 0; i < count; ++i) {
    const size_t idx = LlamaCppUniformIndex(rng, all.size());
    out.tasks.push_back(std::move(all[idx]));
    all.erase(all.begin() + static_cast<std::ptrdiff_t>(idx));
  }
  return out;
}

absl::StatusOr<LlamaCppTaskFile> ReadWinogrande(std::string_view data, const std::string& name, size_t n_tasks) {
  bool terminated = true;
  std::vector<std::string_view> lines = SplitLines(data, &terminated);
  LlamaCppTaskFile out;
  if (!terminated) {
    out.note = absl::StrFormat(
        "%s:%d, the last line, is not scored: llama-perplexity drops the file's final line break (-f) and then "
        "skips a last line without one, so it never scores the last line of a Winogrande file that ends in one "
        "line break; llmtk-eval does the same (end the file with an empty line to have both score it)",
        name, lines.size());
    lines.pop_back();
  }
  std::vector<LlamaCppTask> all;
  for (size_t ln = 0; ln < lines.size(); ++ln) {
    const std::string_view line = lines[ln];
    const std::string where = absl::StrCat(name, ":", ln + 1);
    if (line.empty() || line == "\r") continue;  // llama.cpp skips these too
    size_t comma[4];
    int ipos = 0;
    bool quote_open = false;
    for (size_t i = 0; i < line.size() && ipos < 4; ++i) {
      if (quote_open) {
        if (line[i] == '"') quote_open = false;
      } else if (line[i] == ',') {
        comma[ipos++] = i;
      } else if (line[i] == '"') {
        quote_open = true;
      }
    }
    // A first line that is not a task is a header (llama.cpp skips it).
    const bool header_ok = ln == 0;
    if (ipos != 4) {
      if (header_ok && !quote_open) continue;
      return absl::DataLossError(absl::StrFormat(
          "%s: %s (Winogrande CSV lines are index,sentence,option1,option2,answer)", where,
          quote_open ? "a double quote is not closed before the end of the line"
                     : absl::StrFormat("%d fields, expected 5", ipos + 1)));
    }
    std::string_view sentence = line.substr(comma[0] + 1, comma[1] - comma[0] - 1);
    if (!sentence.empty() && sentence.front() == '"') {
      if (sentence.size() < 2 || sentence.back() != '"') {
        return absl::DataLossError(absl::StrFormat(
            "%s: the quoted sentence does not end with a double quote before its comma", where));
      }
      sentence = sentence.substr(1, sentence.size() - 2);
    }
    const std::string_view answer = line.substr(comma[3] + 1);
    int i_answer = 0;
    if (!LeadingInt(answer, &i_answer)) {
      if (header_ok) continue;
      return absl::DataLossError(absl::StrFormat("%s: the answer '%s' is not a number (1 or 2)", where, Shown(answer)));
    }
    if (i_answer < 1 || i_answer > 2) {
      return absl::DataLossError(absl::StrFormat("%s: the answer %d is out of range (1 or 2)", where, i_answer));
    }
    const size_t blank = sentence.find('_');
    if (blank == std::string_view::npos) {
      return absl::DataLossError(absl::StrFormat("%s: the sentence has no '_' to fill: %s", where, Shown(sentence)));
    }
    LlamaCppTask t;
    t.context = std::string(sentence.substr(0, blank));
    t.after = std::string(sentence.substr(blank + 1));
    t.choices = {std::string(line.substr(comma[1] + 1, comma[2] - comma[1] - 1)),
                 std::string(line.substr(comma[2] + 1, comma[3] - comma[2] - 1))};
    t.labels = {i_answer == 1 ? 1 : 0, i_answer == 2 ? 1 : 0};
    t.where = where;
    all.push_back(std::move(t));
  }
  if (all.empty()) return absl::DataLossError(absl::StrCat(name, ": no tasks"));
  out.available = all.size();
  if (n_tasks > 0 && n_tasks < all.size()) {
    std::mt19937 rng(1);
    std::vector<size_t> aux(all.size());
    for (size_t i = 0; i < aux.size(); ++i) aux[i] = i;
    for (size_t i = 0; i < n_tasks; ++i) {
      const size_t j = LlamaCppScaledIndex(rng, aux.size());
      out.tasks.push_back(std::move(all[aux[j]]));
      aux[j] = aux.back();
      aux.pop_back();
    }
  } else {
    out.tasks = std::move(all);
  }
  return out;
}

// A little-endian reader over the binary multiple-choice file; errors name
// the task and the byte offset.
class BinReader {
 public:
  BinReader(std::string_view data, const std::string& name) : data_(data), name_(name) {}
  void Seek(size_t pos) { pos_ = pos; }
  size_t pos() const { return pos_; }
  absl::Status Need(size_t n, std::string_view what) const {
    if (pos_ <= data_.size() && data_.size() - pos_ >= n) return absl::OkStatus();
    return absl::DataLossError(absl::StrFormat("%s: truncated at byte %d: %s needs %d bytes, the file has %d", name_,
                                               pos_, what, n, data_.size()));
  }
  absl::StatusOr<uint32_t> U32(std::string_view what) {
    RETURN_IF_ERROR(Need(4, what));
    uint32_t v;
    std::memcpy(&v, data_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  absl::StatusOr<std::string> String(std::string_view what) {
    ASSIGN_OR_RETURN(uint32_t n, U32(what));
    RETURN_IF_ERROR(Need(n, what));
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  std::string_view data_;
  const std::string& name_;
  size_t pos_ = 0;
};

// One answer set: u32 count (llama.cpp refuses more than 100), the strings,
// then one int label each.
absl::Status ReadAnswers(BinReader& r, std::vector<std::string>* answers, std::vector<int>* labels) {
  const size_t at = r.pos();
  ASSIGN_OR_RETURN(uint32_t n, r.U32("the answer count"));
  if (n > 100) {
    return absl::DataLossError(absl::StrFormat("the answer count %d at byte %d is over llama.cpp's limit of 100", n, at));
  }
  for (uint32_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(std::string a, r.String("an answer"));
    if (answers) answers->push_back(std::move(a));
  }
  for (uint32_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(uint32_t v, r.U32("a label"));
    if (labels) labels->push_back(static_cast<int>(v));
  }
  return absl::OkStatus();
}

absl::Status ReadMcTask(BinReader& r, size_t number, LlamaCppTask* t, const std::string& name) {
  const size_t start = r.pos();
  t->where = absl::StrFormat("%s: task %d at byte %d", name, number, start);
  // "FILE: task N at byte B: what is wrong".
  auto fail = [&](const absl::Status& s) {
    std::string m(s.message());
    if (m.rfind(name + ": ", 0) == 0) m.erase(0, name.size() + 2);
    return absl::Status(s.code(), absl::StrCat(t->where, ": ", m));
  };
  auto q = r.String("the question");
  if (!q.ok()) return fail(q.status());
  t->context = std::move(*q);
  if (absl::Status s = ReadAnswers(r, &t->choices, &t->labels); !s.ok()) return fail(s);
  if (absl::Status s = ReadAnswers(r, nullptr, nullptr); !s.ok()) return fail(s);
  if (t->context.empty() || t->choices.empty()) {
    return absl::DataLossError(
        absl::StrFormat("%s: the question or its answers are empty (llama.cpp refuses such tasks)", t->where));
  }
  for (size_t i = 0; i < t->choices.size(); ++i) {
    if (t->choices[i].empty()) {
      return absl::DataLossError(absl::StrFormat("%s: answer %d is empty (llama.cpp refuses such tasks)", t->where, i));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LlamaCppTaskFile> ReadMultipleChoice(std::string_view data, const std::string& name, size_t n_tasks) {
  BinReader r(data, name);
  ASSIGN_OR_RETURN(uint32_t n_task, r.U32("the task count"));
  if (n_task == 0) return absl::DataLossError(absl::StrCat(name, ": no tasks (the task count is 0)"));
  RETURN_IF_ERROR(r.Need(size_t{4} * n_task, absl::StrFormat("the table of %d task offsets", n_task)));
  std::vector<uint32_t> pos(n_task);
  for (auto& p : pos) p = *r.U32("a task offset");
  LlamaCppTaskFile out;
  out.available = n_task;
  if (n_tasks == 0 || n_tasks >= n_task) {
    // All tasks are read one after the other, the offsets unused (as llama.cpp).
    out.tasks.resize(n_task);
    for (size_t i = 0; i < n_task; ++i) RETURN_IF_ERROR(ReadMcTask(r, i, &out.tasks[i], name));
    if (r.pos() != data.size()) {
      out.note = absl::StrFormat("%s: %d bytes after the last task are not read", name, data.size() - r.pos());
    }
    return out;
  }
  std::mt19937 rng(1);
  std::vector<size_t> aux(n_task);
  for (size_t i = 0; i < aux.size(); ++i) aux[i] = i;
  out.tasks.resize(n_tasks);
  for (auto& t : out.tasks) {
    const size_t j = LlamaCppScaledIndex(rng, aux.size());
    const size_t idx = aux[j];
    aux[j] = aux.back();
    aux.pop_back();
    r.Seek(pos[idx]);
    RETURN_IF_ERROR(ReadMcTask(r, idx, &t, name));
  }
  return out;
}

}  // namespace

size_t LlamaCppDefaultTasks(LlamaCppFormat f) { return f == LlamaCppFormat::kHellaswag ? 400 : 0; }

size_t LlamaCppUniformIndex(std::mt19937& rng, size_t n) {
  const uint32_t range = static_cast<uint32_t>(n);
  uint64_t product = static_cast<uint64_t>(rng()) * range;
  uint32_t low = static_cast<uint32_t>(product);
  if (low < range) {
    const uint32_t threshold = static_cast<uint32_t>(-range) % range;
    while (low < threshold) {
      product = static_cast<uint64_t>(rng()) * range;
      low = static_cast<uint32_t>(product);
    }
  }
  return static_cast<size_t>(product >> 32);
}

size_t LlamaCppScaledIndex(std::mt19937& rng, size_t n) {
  const float scale = 1 / (1.f + static_cast<float>(std::mt19937::max()));
  const float r = static_cast<float>(rng());
  const size_t j = static_cast<size_t>(static_cast<int>(scale * r * static_cast<float>(n)));
  return std::min(j, n - 1);
}

absl::StatusOr<LlamaCppTaskFile> ReadLlamaCppTasks(LlamaCppFormat f, std::string_view data, const std::string& name,
                                                   size_t n_tasks) {
  // llama.cpp's -f drops one final line break of the file it reads (the
  // binary file too, where a last byte 0x0A would cut the last task; a task
  // file ends in a label's high byte, 0, so that case is left out here).
  if (f != LlamaCppFormat::kMultipleChoice && !data.empty() && data.back() == '\n') data.remove_suffix(1);
  switch (f) {
    case LlamaCppFormat::kHellaswag: return ReadHellaswag(data, name, n_tasks);
    case LlamaCppFormat::kWinogrande: return ReadWinogrande(data, name, n_tasks);
    case LlamaCppFormat::kMultipleChoice: return ReadMultipleChoice(data, name, n_tasks);
  }
  return absl::InternalError("unknown format");
}

}  // namespace llmtk
