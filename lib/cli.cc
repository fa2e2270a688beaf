#include "lib/cli.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/parallel.h"

namespace llmtk {

bool CommonOptions::ShowProgress() const {
  if (progress) return true;
  return !quiet && isatty(2);
}

int CommonOptions::Threads() const { return ResolveThreads(threads); }

bool DataOnStdout(std::string_view output) { return output.empty() || output == "-"; }

absl::Status WriteJsonReport(std::string_view data_output, std::string_view json) {
  std::string text(json);
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  FILE* f = DataOnStdout(data_output) ? stderr : stdout;
  if (fwrite(text.data(), 1, text.size(), f) != text.size() || fflush(f) != 0) {
    if (f == stdout) return BrokenPipeError();
  }
  return absl::OkStatus();
}

absl::Status RequireInputOrPipe(const std::vector<std::string>& inputs) {
  if (!inputs.empty() || !isatty(0)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "no input named and stdin is a terminal: name input files or directories, or pipe the input in "
      "(give - to type it)");
}

size_t EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transpositions.
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string NearestName(std::string_view s, const std::vector<std::string>& names) {
  const size_t limit = std::max<size_t>(1, s.size() / 3);
  std::string best;
  size_t best_d = limit + 1;
  for (const std::string& name : names) {
    const size_t dist = EditDistance(s, name);
    if (dist < best_d) best_d = dist, best = name;
  }
  return best;
}

int ExitCodeFor(const absl::Status& s) {
  if (s.ok() || IsBrokenPipe(s)) return 0;
  if (s.code() == absl::StatusCode::kInvalidArgument) return 2;
  return 1;
}

void PrintError(std::string_view tool, const absl::Status& s) {
  std::string line = absl::StrCat("llmtk-", ToAbsl(tool), ": error: ", s.message(), "\n");
  fwrite(line.data(), 1, line.size(), stderr);
  fflush(stderr);
}

Tool::Tool(std::string name, std::string description, std::string example)
    : name_(std::move(name)),
      app_(std::make_unique<CLI::App>(std::move(description), "llmtk-" + name_)) {
  if (!example.empty()) {
    // One example per line, each indented the same however the caller wrote it.
    std::string footer = "Example:";
    for (absl::string_view line : absl::StrSplit(example, '\n')) {
      line = absl::StripLeadingAsciiWhitespace(line);
      if (!line.empty()) absl::StrAppend(&footer, "\n  ", line);
    }
    app_->footer(footer);
  }
  app_->set_version_flag("--version", std::string("llmtk-") + name_ + " " LLMTK_VERSION);
  app_->option_defaults()->always_capture_default();
}

void Tool::AddCommonFlags(CommonOptions* opts, CLI::App* on) {
  CLI::App* app = on ? on : app_.get();
  app->add_option("--threads", opts->threads, "Worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--progress", opts->progress, "Show progress on stderr even when it is not a terminal");
  app->add_flag("--quiet", opts->quiet, "No progress line and no summary on stderr");
  app->add_flag("--json", opts->json, "Write the report as JSON");
}

void Tool::AddReaderFlags(DocumentReaderOptions* opts, CLI::App* on) {
  CLI::App* app = on ? on : app_.get();
  app->add_option("--text-key", opts->text_key, "JSON field holding the text (dotted path for nested fields)");
  AddChoiceOption<InputFormat>(app, "--input-format", &opts->format,
                               {{"auto", InputFormat::kAuto}, {"jsonl", InputFormat::kJsonl}, {"text", InputFormat::kText}},
                               "jsonl, text (one document a line) or auto (from the first non-blank byte)");
  AddChoiceOption<BadLinePolicy>(app, "--on-bad-line", &opts->on_bad_line,
                                 {{"error", BadLinePolicy::kError}, {"skip", BadLinePolicy::kSkip}},
                                 "What to do with malformed lines: error or skip (counted)");
  AddChoiceOption<InvalidUtf8Policy>(app, "--invalid-utf8", &opts->invalid_utf8,
                                     {{"error", InvalidUtf8Policy::kError}, {"replace", InvalidUtf8Policy::kReplace}},
                                     "Invalid UTF-8 in text: error, or replace with U+FFFD");
}

void Tool::AddSpecialTokenFlags(SpecialTokenOptions* opts, CLI::App* on) {
  CLI::App* app = on ? on : app_.get();
  app->add_flag("--no-special", opts->no_special, "No special tokens from the tokenizer's post-processor (default: its BOS/EOS)");
  app->add_flag("--add-bos", opts->add_bos, "Put the BOS token first (instead of the post-processor's ids)");
  app->add_flag("--add-eos", opts->add_eos, "Put the EOS token last (instead of the post-processor's ids)");
  app->add_flag("--append-eod", opts->append_eod, "Append the end-of-document (EOS) token to every document (Megatron's --append-eod)");
}

void Tool::AddOutputFlags(std::string* output, OutputOptions* opts, CLI::App* on) {
  CLI::App* app = on ? on : app_.get();
  app->add_option("-o,--output", *output, "Output file ('-': stdout; a .zst name compresses)");
  app->add_option("--zstd-level", opts->zstd_level, "zstd level for .zst outputs")->check(CLI::Range(1, 19));
}

absl::Status Tool::CheckSubcommand(int argc, char** argv) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app_->get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
  if (names.empty() || argc < 2) return absl::OkStatus();
  const std::string first = argv[1];
  if (first.empty() || first[0] == '-') return absl::OkStatus();
  for (const std::string& n : names)
    if (n == first) return absl::OkStatus();
  // Where the first argument may also be an input (llmtk-quant IN OUT,
  // llmtk-dedup FILES), only a name that is no file and looks like a
  // misspelled subcommand is one.
  const std::string near = NearestName(first, names);
  const bool required = app_->get_require_subcommand_min() > 0;
  std::error_code ec;
  if (!required && (near.empty() || std::filesystem::exists(first, ec))) return absl::OkStatus();
  if (!near.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown subcommand '", first, "' (did you mean '", near, "'?)"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown subcommand '", first, "'; the subcommands are ", absl::StrJoin(names, ", ")));
}

int Tool::Run(int argc, char** argv, const std::function<absl::Status()>& run) {
  // Writes to a closed pipe must come back as EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
  if (absl::Status s = CheckSubcommand(argc, argv); !s.ok()) {
    PrintError(name_, s);
    std::cerr << "Run with --help for usage.\n";
    return 2;
  }
  try {
    app_->parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app_->help();
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    std::cout << app_->help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::cerr << "llmtk-" << name_ << ": error: " << msg << "\n"
              << "Run with --help for usage.\n";
    return 2;
  }
  absl::Status s;
  try {
    s = run();
  } catch (const std::bad_alloc&) {
    s = absl::ResourceExhaustedError("out of memory");
  }
  std::cout.flush();
  if (!s.ok() && !IsBrokenPipe(s)) PrintError(name_, s);
  return ExitCodeFor(s);
}

// ---------------------------------------------------------------- Progress

std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) {
    bytes /= 1000;
    ++u;
  }
  if (u == 0) return absl::StrFormat("%.0f B", bytes);
  return absl::StrFormat("%.*f %s", bytes < 10 ? 2 : bytes < 100 ? 1 : 0, bytes, kUnits[u]);
}

Progress::Progress(std::string label, bool enabled, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t items, uint64_t bytes) {
  items_.fetch_add(items, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (enabled_) MaybeDraw(false);
}

void Progress::SetBytes(uint64_t bytes) {
  bytes_.store(bytes, std::memory_order_relaxed);
  if (enabled_) MaybeDraw(false);
}

void Progress::MaybeDraw(bool force) {
  auto now = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(draw_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  if (!force && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  uint64_t items = items_.load(), bytes = bytes_.load();
  int64_t total = total_bytes_.load();
  std::string line = absl::StrFormat("\r%s: %d %s", label_, items, unit_);
  if (bytes > 0) absl::StrAppend(&line, ", ", HumanBytes(static_cast<double>(bytes)));
  if (secs > 0) {
    absl::StrAppend(&line, absl::StrFormat(", %.0f %s/s", items / secs, unit_));
    if (bytes > 0) absl::StrAppend(&line, ", ", HumanBytes(bytes / secs), "/s");
  }
  if (total > 0 && bytes > 0 && secs > 0.5) {
    double frac = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total));
    double eta = secs / frac - secs;
    absl::StrAppend(&line, absl::StrFormat(", %.0f%%, ETA %.0fs", frac * 100, eta));
  }
  absl::StrAppend(&line, "\x1b[K");
  fwrite(line.data(), 1, line.size(), stderr);
  fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (!enabled_) return;
  MaybeDraw(true);
  std::lock_guard<std::mutex> lock(draw_mu_);
  if (drawn_) fputs("\n", stderr);
  drawn_ = false;
  enabled_ = false;
}

}  // namespace llmtk
