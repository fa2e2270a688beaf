// tools/common/cli: what every tool's main.cc shares — flags, errors, exit codes, progress.
//
// A tool's main builds a Tool, binds its flags into an options struct, and
// hands Tool::Run the one library call to make. Run maps the outcome to the
// house exit codes: 0 ok (and a broken pipe), 1 runtime or data error, 2
// usage error (CLI11 parse errors and InvalidArgument statuses). Errors are
// printed as "llmtk-<tool>: error: <message>".
//
// This is the only place that includes CLI11: the library below knows nothing of
// flags or exit codes. Thread-safety: Tool is single-threaded.
#ifndef LLMTK_TOOLS_COMMON_CLI_H_
#define LLMTK_TOOLS_COMMON_CLI_H_

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
#include "lib/base/io.h"
#include "lib/base/names.h"
#include "lib/base/jsonl.h"
#include "lib/base/progress.h"
#include "lib/base/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/model/sampling.h"
#include "lib/tokenizer/tokenizer.h"

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


// For commands that read stdin when no input is named: a usage error when
// `inputs` is empty and stdin is a terminal, where the command would wait
// silently for typed input. Naming "-" reads a terminal all the same.
absl::Status RequireInputOrPipe(const std::vector<std::string>& inputs);


// Exit code for a library status (see the header comment).
// Writes tool output to stdout, unbuffered so streamed tokens appear as they
// are produced (anything pending in the stdio buffer goes first); a closed
// stdout is BrokenPipeError, which the tool ends on quietly. Every tool's data
// goes out through here.
absl::Status WriteStdout(std::string_view data);

int ExitCodeFor(const absl::Status& s);
// Prints "llmtk-<tool>: error: <message>" to stderr.
void PrintError(std::string_view tool, const absl::Status& s);

// A flag value with backslash escapes interpreted, so `--stop "\n\n"` means
// two newlines as in llama.cpp: \n \t \r \0 \\ \" \' \xHH (one byte, two hex
// digits) and \uXXXX (a code point, written as UTF-8). Any other escape, or
// a backslash at the end, is InvalidArgument naming `flag`.
absl::StatusOr<std::string> UnescapeFlagValue(std::string_view flag, std::string_view value);

class Tool {
 public:
  // `name` without the prefix ("dedup"); `example` is shown at the end of --help.
  Tool(std::string name, std::string description, std::string example = "");
  CLI::App& app() { return *app_; }
  const std::string& name() const { return name_; }

  // The shared flags, on the app or on a subcommand.
  void AddCommonFlags(CommonOptions* opts, CLI::App* on = nullptr);
  // --text-key, --input-format, --on-bad-line, --invalid-utf8.
  // `keep_bytes`: the tool tokenizes with vocabularies that take any bytes
  // (GGUF, as llama.cpp), so --invalid-utf8 also offers keep.
  void AddReaderFlags(DocumentReaderOptions* opts, CLI::App* on = nullptr, bool keep_bytes = false);
  // --no-special, --add-bos, --add-eos, --append-eod: the same flags, with
  // the same meaning, wherever token files are written.
  void AddSpecialTokenFlags(SpecialTokenOptions* opts, CLI::App* on = nullptr);
  // llmtk-run's sampling flags (--temp, --top-k, --top-p, --min-p, the
  // penalties, --seed), the defaults shown being *params as it is now:
  // every tool that generates samples with the same flags.
  void AddSamplingFlags(SamplingParams* params, CLI::App* on = nullptr);
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

}  // namespace llmtk

#endif  // LLMTK_TOOLS_COMMON_CLI_H_
