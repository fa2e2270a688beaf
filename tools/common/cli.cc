#include "tools/common/cli.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/parallel.h"
#include "lib/base/unicode.h"

namespace llmtk {

bool CommonOptions::ShowProgress() const {
  if (progress) return true;
  return !quiet && isatty(2);
}

int CommonOptions::Threads() const { return ResolveThreads(threads); }

absl::Status RequireInputOrPipe(const std::vector<std::string>& inputs) {
  if (!inputs.empty() || !isatty(0)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      "no input named and stdin is a terminal: name input files or directories, or pipe the input in "
      "(give - to type it)");
}

absl::Status WriteStdout(std::string_view data) {
  if (std::fflush(stdout) != 0 && errno == EPIPE) return BrokenPipeError();
  while (!data.empty()) {
    const ssize_t n = ::write(1, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return BrokenPipeError();
      return absl::InternalError(absl::StrCat("cannot write to stdout: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
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

absl::StatusOr<std::string> UnescapeFlagValue(std::string_view flag, std::string_view value) {
  auto hex = [](std::string_view digits, uint32_t* out) {
    *out = 0;
    for (char c : digits) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
      *out = *out * 16 + static_cast<uint32_t>(absl::ascii_isdigit(static_cast<unsigned char>(c))
                                                   ? c - '0'
                                                   : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    }
    return true;
  };
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(flag), " \"", ToAbsl(value), "\": ", ToAbsl(why),
                                                   " (escapes: \\n \\t \\r \\0 \\\\ \\\" \\' \\xHH \\uXXXX; "
                                                   "write \\\\ for a backslash)"));
  };
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\\') {
      out.push_back(value[i]);
      continue;
    }
    if (++i == value.size()) return bad("ends in a lone backslash");
    uint32_t v = 0;
    switch (value[i]) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case '0': out.push_back('\0'); break;
      case '\\': case '"': case '\'': out.push_back(value[i]); break;
      case 'x':
        if (value.size() - i - 1 < 2 || !hex(value.substr(i + 1, 2), &v)) return bad("\\x needs two hex digits");
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      case 'u':
        if (value.size() - i - 1 < 4 || !hex(value.substr(i + 1, 4), &v)) return bad("\\u needs four hex digits");
        if (v >= 0xD800 && v <= 0xDFFF) return bad("\\u names a surrogate, not a character");
        AppendUtf8(&out, v);
        i += 4;
        break;
      default:
        return bad(absl::StrCat("unknown escape \\", std::string(1, value[i])));
    }
  }
  return out;
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

void Tool::AddReaderFlags(DocumentReaderOptions* opts, CLI::App* on, bool keep_bytes) {
  CLI::App* app = on ? on : app_.get();
  app->add_option("--text-key", opts->text_key, "JSON field holding the text (dotted path for nested fields)");
  AddChoiceOption<InputFormat>(app, "--input-format", &opts->format,
                               {{"auto", InputFormat::kAuto}, {"jsonl", InputFormat::kJsonl}, {"text", InputFormat::kText}},
                               "jsonl, text (one document a line) or auto (from the first non-blank byte)");
  AddChoiceOption<BadLinePolicy>(app, "--on-bad-line", &opts->on_bad_line,
                                 {{"error", BadLinePolicy::kError}, {"skip", BadLinePolicy::kSkip}},
                                 "What to do with malformed lines: error or skip (counted)");
  if (keep_bytes) {
    AddChoiceOption<InvalidUtf8Policy>(app, "--invalid-utf8", &opts->invalid_utf8,
                                       {{"error", InvalidUtf8Policy::kError},
                                        {"replace", InvalidUtf8Policy::kReplace},
                                        {"keep", InvalidUtf8Policy::kKeep}},
                                       "Invalid UTF-8 in text: error, replace with U+FFFD, or keep (plain text: the "
                                       "bytes as they are, for GGUF vocabularies, which tokenize them as llama.cpp "
                                       "does; their default)");
  } else {
    AddChoiceOption<InvalidUtf8Policy>(app, "--invalid-utf8", &opts->invalid_utf8,
                                       {{"error", InvalidUtf8Policy::kError}, {"replace", InvalidUtf8Policy::kReplace}},
                                       "Invalid UTF-8 in text: error or replace with U+FFFD");
  }
}

void Tool::AddSpecialTokenFlags(SpecialTokenOptions* opts, CLI::App* on) {
  CLI::App* app = on ? on : app_.get();
  app->add_flag("--no-special", opts->no_special, "No special tokens from the tokenizer's post-processor (default: its BOS/EOS)");
  app->add_flag("--add-bos", opts->add_bos, "Put the BOS token first (instead of the post-processor's ids)");
  app->add_flag("--add-eos", opts->add_eos, "Put the EOS token last (instead of the post-processor's ids)");
  app->add_flag("--append-eod", opts->append_eod, "Append the end-of-document (EOS) token to every document (Megatron's --append-eod)");
}

void Tool::AddSamplingFlags(SamplingParams* p, CLI::App* on) {
  CLI::App* app = on ? on : app_.get();
  app->add_option("--temp", p->temperature, "temperature (0: greedy)")->capture_default_str();
  app->add_option("--top-k", p->top_k, "top-k (0: off)")->capture_default_str();
  app->add_option("--top-p", p->top_p, "top-p (1: off)")->capture_default_str();
  app->add_option("--min-p", p->min_p, "min-p (0: off)")->capture_default_str();
  app->add_option("--repeat-penalty", p->repeat_penalty, "repetition penalty (1: off)")->capture_default_str();
  app->add_option("--repeat-last-n", p->repeat_last_n, "tokens of history the penalties look at")
      ->capture_default_str();
  app->add_option("--frequency-penalty", p->frequency_penalty, "frequency penalty")->capture_default_str();
  app->add_option("--presence-penalty", p->presence_penalty, "presence penalty")->capture_default_str();
  app->add_option("--seed", p->seed, "sampling seed")->capture_default_str();
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

}  // namespace llmtk
