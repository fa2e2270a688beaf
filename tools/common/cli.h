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
#include "lib/base/jsonl.h"
#include "lib/base/progress.h"
#include "lib/base/status.h"

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

// Exit code for a library status (see the header comment).
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
  void AddReaderFlags(DocumentReaderOptions* opts, CLI::App* on = nullptr);
  // -o/--output (default "-": stdout) and --zstd-level.
  void AddOutputFlags(std::string* output, OutputOptions* opts, CLI::App* on = nullptr);

  // Parses argv (CLI11 errors print their message and give 2; --help and
  // --version give 0), then calls `run` and maps its status to an exit code.
  int Run(int argc, char** argv, const std::function<absl::Status()>& run);

 private:
  std::string name_;
  std::unique_ptr<CLI::App> app_;
};

}  // namespace llmtk

#endif  // LLMTK_TOOLS_COMMON_CLI_H_
