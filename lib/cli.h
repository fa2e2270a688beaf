// cli: what every tool's main.cc shares — flags, errors, exit codes, progress.
//
// A tool's main builds a Tool, binds its flags into an options struct, and
// hands Tool::Run the one library call to make. Run maps the outcome to the
// house exit codes: 0 ok (and a broken pipe), 1 runtime or data error, 2
// usage error (CLI11 parse errors and InvalidArgument statuses). Errors are
// printed as "llmtk-<tool>: error: <message>".
//
// This module knows about flags and exit codes so that the rest of lib/ does
// not. Thread-safety: Tool is single-threaded; Progress::Add is thread-safe.
#ifndef LLMTK_LIB_CLI_H_
#define LLMTK_LIB_CLI_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/io.h"
#include "lib/jsonl.h"
#include "lib/status.h"
#include "lib/tokenizer.h"

namespace llmtk {

// Flags every tool has.
struct CommonOptions {
  int threads = 0;        // --threads N (0: all cores)
  bool progress = false;  // --progress: force the progress line
  bool quiet = false;     // --quiet: no progress, no summary
  bool json = false;      // --json: machine-readable report
  // Progress is shown when forced, or when stderr is a terminal and not quiet.
  bool ShowProgress() const;
  int Threads() const;  // resolved: >= 1
};

// An option taking one of the names in `choices` (any letter case), stored
// as the value mapped to it. Errors and --help show the names — "--verify:
// 'x' is not one of exact, estimate, none" and "=exact" — never the values
// behind them; the default shown is the name of *value as it is now.
template <typename T>
CLI::Option* AddChoiceOption(CLI::App* app, const std::string& flags, T* value,
                             std::vector<std::pair<std::string, T>> choices, const std::string& help) {
  std::string names, listed, def;
  for (const auto& [name, v] : choices) {
    absl::StrAppend(&names, names.empty() ? "" : "|", name);
    absl::StrAppend(&listed, listed.empty() ? "" : ", ", name);
    if (def.empty() && v == *value) def = name;
  }
  auto lookup = [choices](const std::string& s) -> const T* {
    for (const auto& [name, v] : choices)
      if (absl::EqualsIgnoreCase(name, s)) return &v;
    return nullptr;
  };
  CLI::Option* opt = app->add_option_function<std::string>(
      flags, [value, lookup](const std::string& s) { *value = *lookup(s); }, help);
  opt->check(CLI::Validator(
      [lookup, listed](std::string& s) -> std::string {
        return lookup(s) ? "" : absl::StrCat("'", s, "' is not one of ", listed);
      },
      "", ""));
  opt->type_name(names);
  if (!def.empty()) opt->default_str(def);
  return opt;
}

// Where a --json report goes, in every tool: stdout carries data only, so a
// run that writes its data to stdout (output "-" or "") puts the report on
// stderr; any other run (data to a file, or no data) puts it on stdout.
// --quiet silences progress and the human summary, never a --json report.
bool DataOnStdout(std::string_view output);
// Writes a --json report (a trailing newline added if missing) where the
// rule above says; a closed stdout is BrokenPipeError.
absl::Status WriteJsonReport(std::string_view data_output, std::string_view json);

// For commands that read stdin when no input is named: a usage error when
// `inputs` is empty and stdin is a terminal, where the command would wait
// silently for typed input. Naming "-" reads a terminal all the same.
absl::Status RequireInputOrPipe(const std::vector<std::string>& inputs);

// Edit distance counting an adjacent transposition as one edit ("sing" is
// one from "sign").
size_t EditDistance(std::string_view a, std::string_view b);
// The name in `names` nearest to `s` when near enough to be a misspelling of
// it (at most max(1, |s|/3) edits, ties to the first), else "".
std::string NearestName(std::string_view s, const std::vector<std::string>& names);

// Exit code for a library status (see the header comment).
int ExitCodeFor(const absl::Status& s);
// Prints "llmtk-<tool>: error: <message>" to stderr.
void PrintError(std::string_view tool, const absl::Status& s);

class Tool {
 public:
  // `name` without the prefix ("dedup"); `example` is shown at the end of --help.
  Tool(std::string name, std::string description, std::string example = "");
  CLI::App& app() { return *app_; }
  const std::string& name() const { return name_; }

  // The shared flags, on the app or on a subcommand.
  void AddCommonFlags(CommonOptions* opts, CLI::App* on = nullptr);
  // --text-key, --input-format, --on-bad-line, --invalid-utf8.
  void AddReaderFlags(DocumentReaderOptions* opts, CLI::App* on = nullptr);
  // --no-special, --add-bos, --add-eos, --append-eod: the same flags, with
  // the same meaning, wherever token files are written.
  void AddSpecialTokenFlags(SpecialTokenOptions* opts, CLI::App* on = nullptr);
  // -o/--output (default "-": stdout) and --zstd-level.
  void AddOutputFlags(std::string* output, OutputOptions* opts, CLI::App* on = nullptr);

  // Parses argv (CLI11 errors print their message and give 2; --help and
  // --version give 0), then calls `run` and maps its status to an exit code.
  int Run(int argc, char** argv, const std::function<absl::Status()>& run);

 private:
  // A first argument that names no subcommand but is meant to: InvalidArgument
  // "unknown subcommand 'x' (did you mean 'y'?)".
  absl::Status CheckSubcommand(int argc, char** argv);
  std::string name_;
  std::unique_ptr<CLI::App> app_;
};

// A progress line on stderr: items, bytes, rate and, when the total is known,
// ETA. Redrawn at most 4 times a second; cleared by Finish(). Disabled
// instances cost an atomic add per call.
class Progress {
 public:
  Progress(std::string label, bool enabled, std::string unit = "docs");
  ~Progress();
  void SetTotalBytes(int64_t total) { total_bytes_ = total; }
  // Adds work done; `bytes` advance the ETA when a byte total is set.
  void Add(uint64_t items, uint64_t bytes = 0);
  // Sets absolute byte position (e.g. compressed bytes consumed) for the ETA.
  void SetBytes(uint64_t bytes);
  void Finish();

 private:
  void MaybeDraw(bool force);
  std::string label_, unit_;
  bool enabled_;
  std::atomic<uint64_t> items_{0}, bytes_{0};
  std::atomic<int64_t> total_bytes_{-1};
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex draw_mu_;
  bool drawn_ = false;
};

// "1.23 MB", "512 B": decimal units, for summaries.
std::string HumanBytes(double bytes);

}  // namespace llmtk

#endif  // LLMTK_LIB_CLI_H_
