#include "lib/base/jsonl.h"

#include <charconv>
#include <cmath>

#include <filesystem>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "lib/base/json_fields.h"
#include "lib/base/unicode.h"
#include "simdjson.h"

// LineReader keeps 64 readable bytes after every line it returns.
static_assert(simdjson::SIMDJSON_PADDING <= 64);

namespace llmtk {
namespace {

const char* JsonTypeName(simdjson::ondemand::json_type t) {
  switch (t) {
    case simdjson::ondemand::json_type::array: return "an array";
    case simdjson::ondemand::json_type::object: return "an object";
    case simdjson::ondemand::json_type::number: return "a number";
    case simdjson::ondemand::json_type::boolean: return "a boolean";
    case simdjson::ondemand::json_type::null: return "null";
    default: return "a string";
  }
}

bool IsBlank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
  }
  return true;
}

}  // namespace

bool IsDocumentLine(std::string_view line, InputFormat* format) {
  if (*format == InputFormat::kText) return true;
  if (IsBlank(line)) return false;
  if (*format == InputFormat::kAuto) {
    size_t i = line.find_first_not_of(" \t\r\f\v");
    *format = line[i] == '{' ? InputFormat::kJsonl : InputFormat::kText;
  }
  return true;
}

struct LineParser::Impl {
  DocumentReaderOptions opts;
  std::vector<std::string> key_path;
  simdjson::ondemand::parser parser;
  std::string repaired;  // the line after U+FFFD substitution
};

absl::StatusOr<std::unique_ptr<LineParser>> LineParser::Create(const DocumentReaderOptions& opts) {
  if (opts.text_key.empty()) return absl::InvalidArgumentError("--text-key must not be empty");
  std::unique_ptr<LineParser> p(new LineParser());
  p->impl_ = std::make_unique<Impl>();
  p->impl_->opts = opts;
  for (absl::string_view part : absl::StrSplit(ToAbsl(opts.text_key), '.')) {
    if (part.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--text-key '", opts.text_key,
                                                     "' has an empty path component"));
    }
    p->impl_->key_path.emplace_back(part);
  }
  return p;
}

LineParser::~LineParser() = default;

absl::Status LineParser::Parse(std::string_view line, bool json, std::string_view* text_out,
                               std::string_view* raw, bool* repaired) {
  Impl& im = *impl_;
  *repaired = false;
  // simdjson validates UTF-8 of the whole line; doing it first gives one
  // clear message and lets --invalid-utf8=replace repair the line.
  if (!simdjson::validate_utf8(line.data(), line.size())) {
    if (im.opts.invalid_utf8 == InvalidUtf8Policy::kKeep && !json) {
      *raw = *text_out = line;
      return absl::OkStatus();
    }
    if (im.opts.invalid_utf8 != InvalidUtf8Policy::kReplace) {
      size_t off = 0;
      IsValidUtf8(line, &off);
      return absl::DataLossError(absl::StrCat(
          "invalid UTF-8 at byte ", off,
          " of the line (use --invalid-utf8=replace to substitute U+FFFD, or "
          "--on-bad-line=skip)"));
    }
    // Padding: the repaired copy gets its own slack for simdjson.
    im.repaired = ReplaceInvalidUtf8(line);
    im.repaired.reserve(im.repaired.size() + simdjson::SIMDJSON_PADDING);
    line = im.repaired;
    *repaired = true;
  }
  *raw = line;
  if (!json) {
    *text_out = line;
    return absl::OkStatus();
  }

  // The caller keeps >= 64 readable bytes after each line; the repaired
  // string reserved its own. That is simdjson's padding requirement.
  simdjson::padded_string_view psv(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document d;
  auto err = im.parser.iterate(psv).get(d);
  simdjson::ondemand::object obj;
  if (!err) err = d.get_object().get(obj);
  if (err) {
    return absl::DataLossError(absl::StrCat(
        err == simdjson::INCORRECT_TYPE ? "line is not a JSON object" : "malformed JSON",
        " (", simdjson::error_message(err), "; use --on-bad-line=skip to skip such lines)"));
  }
  // Walk every top-level field: On-Demand is lazy, and only visiting them
  // all (and checking the end) catches a truncated or garbled line.
  std::string_view text;
  bool found = false;
  std::string type_error;
  for (auto field : obj) {
    std::string_view key;
    err = field.unescaped_key().get(key);
    if (err) break;
    if (found || key != im.key_path[0]) continue;
    simdjson::ondemand::value v;
    err = field.value().get(v);
    if (err) break;
    for (size_t k = 1; k < im.key_path.size() && type_error.empty(); ++k) {
      simdjson::ondemand::object inner;
      if (v.get_object().get(inner) != simdjson::SUCCESS) {
        type_error = absl::StrCat("\"", absl::StrJoin(im.key_path.begin(), im.key_path.begin() + k, "."),
                                  "\" is not an object");
        break;
      }
      err = inner.find_field_unordered(im.key_path[k]).get(v);
      if (err == simdjson::NO_SUCH_FIELD) {
        err = simdjson::SUCCESS;
        type_error = "missing";
      }
      if (err) break;
    }
    if (err || !type_error.empty()) break;
    simdjson::ondemand::json_type t;
    err = v.type().get(t);
    if (err) break;
    if (t != simdjson::ondemand::json_type::string) {
      type_error = absl::StrCat("key \"", im.opts.text_key, "\" is ", JsonTypeName(t), ", not a string");
      break;
    }
    err = v.get_string().get(text);
    if (err) break;
    // Later fields are visited (validated) by the parser; the unescaped
    // text lives in its string buffer until the next iterate().
    found = true;
  }
  if (!err && type_error.empty() && d.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    err = simdjson::TRAILING_CONTENT;
  }
  if (err) {
    return absl::DataLossError(absl::StrCat("malformed JSON (", simdjson::error_message(err),
                                            "; use --on-bad-line=skip to skip such lines)"));
  }
  if (type_error == "missing" || (!found && type_error.empty())) {
    return absl::DataLossError(
        absl::StrCat("missing key \"", im.opts.text_key, "\" (choose the field with --text-key)"));
  }
  if (!type_error.empty()) return absl::DataLossError(type_error);
  *text_out = text;
  return absl::OkStatus();
}

struct DocumentReader::Impl {
  std::unique_ptr<LineReader> lines;
  InputFormat format = InputFormat::kAuto;  // of the current input, once known
  std::unique_ptr<LineParser> parser;
};

absl::StatusOr<std::unique_ptr<DocumentReader>> DocumentReader::Open(
    const std::vector<std::string>& paths, const DocumentReaderOptions& opts) {
  std::unique_ptr<DocumentReader> r(new DocumentReader());
  r->impl_ = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(r->impl_->parser, LineParser::Create(opts));
  ASSIGN_OR_RETURN(r->paths_, ExpandInputs(paths.empty() ? std::vector<std::string>{"-"} : paths));
  r->opts_ = opts;
  for (const std::string& p : r->paths_) {
    if (p == "-") {
      r->total_bytes_hint_ = -1;
      break;
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(p, ec);
    if (!ec) r->total_bytes_hint_ += static_cast<int64_t>(size);
  }
  return r;
}

DocumentReader::~DocumentReader() = default;

int64_t DocumentReader::RawBytesRead() const {
  return raw_bytes_done_ + (impl_->lines ? impl_->lines->stream().RawBytesRead() : 0);
}

absl::Status DocumentReader::OpenNext() {
  if (impl_->lines) raw_bytes_done_ += impl_->lines->stream().RawBytesRead();
  impl_->lines.reset();
  ASSIGN_OR_RETURN(auto in, OpenInput(paths_[next_path_++]));
  impl_->lines = std::make_unique<LineReader>(std::move(in));
  impl_->format = opts_.format;
  return absl::OkStatus();
}

absl::StatusOr<bool> DocumentReader::Next(Document* doc) {
  Impl& im = *impl_;
  for (;;) {
    if (!im.lines) {
      if (next_path_ >= paths_.size()) return false;
      RETURN_IF_ERROR(OpenNext());
    }
    std::string_view line;
    ASSIGN_OR_RETURN(bool got, im.lines->Next(&line));
    if (!got) {
      raw_bytes_done_ += im.lines->stream().RawBytesRead();
      im.lines.reset();
      continue;
    }
    bytes_read_ += line.size() + 1;
    if (!IsDocumentLine(line, &im.format)) {
      ++blank_lines_;
      continue;
    }
    const bool json = im.format == InputFormat::kJsonl;
    bool repaired = false;
    absl::Status st = im.parser->Parse(line, json, &doc->text, &doc->raw, &repaired);
    if (repaired) ++replaced_utf8_;
    if (!st.ok()) {
      const std::string& name = im.lines->name();
      std::string what = absl::StrCat(st.message(), ", ", name, ":", im.lines->line_number());
      if (opts_.on_bad_line == BadLinePolicy::kError) return absl::DataLossError(what);
      if (skipped_++ == 0) first_skip_reason_ = std::move(what);
      continue;
    }
    doc->source = &im.lines->name();
    doc->line_number = im.lines->line_number();
    doc->is_json = json;
    doc->index = documents_++;
    return true;
  }
}

// ---------------------------------------------------------------- writing

namespace {

// Minimal scanner over a JSON text known to be one object; finds top-level
// members' byte spans. Strings are skipped with their escapes; nesting is
// tracked by depth. Returns false on anything unexpected.
struct Member {
  size_t begin, end;  // from the key's opening quote to the value's end
  std::string_view raw_key;  // between the quotes, still escaped
};

void SkipWs(std::string_view s, size_t* i) {
  while (*i < s.size() && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r')) ++*i;
}

bool SkipString(std::string_view s, size_t* i) {
  if (*i >= s.size() || s[*i] != '"') return false;
  for (size_t j = *i + 1; j < s.size(); ++j) {
    if (s[j] == '\\') {
      ++j;
    } else if (s[j] == '"') {
      *i = j + 1;
      return true;
    }
  }
  return false;
}

bool SkipValue(std::string_view s, size_t* i) {
  SkipWs(s, i);
  if (*i >= s.size()) return false;
  if (s[*i] == '"') return SkipString(s, i);
  int depth = 0;
  while (*i < s.size()) {
    char c = s[*i];
    if (c == '"') {
      if (!SkipString(s, i)) return false;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return true;
      if (--depth == 0) {
        ++*i;
        return true;
      }
    } else if (depth == 0 && c == ',') {
      return true;
    }
    ++*i;
  }
  return depth == 0;
}

bool ScanMembers(std::string_view s, std::vector<Member>* members, size_t* close_brace) {
  size_t i = 0;
  SkipWs(s, &i);
  if (i >= s.size() || s[i] != '{') return false;
  ++i;
  SkipWs(s, &i);
  if (i < s.size() && s[i] == '}') {
    *close_brace = i;
    return true;
  }
  for (;;) {
    SkipWs(s, &i);
    size_t begin = i;
    if (!SkipString(s, &i)) return false;
    std::string_view key = s.substr(begin + 1, i - begin - 2);
    SkipWs(s, &i);
    if (i >= s.size() || s[i] != ':') return false;
    ++i;
    if (!SkipValue(s, &i)) return false;
    size_t end = i;
    while (end > begin && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
    members->push_back({begin, end, key});
    SkipWs(s, &i);
    if (i >= s.size()) return false;
    if (s[i] == '}') {
      *close_brace = i;
      return true;
    }
    if (s[i] != ',') return false;
    ++i;
  }
}

}  // namespace

absl::Status AppendJsonWithFields(std::string_view raw, const JsonField* fields, size_t n, std::string* out) {
  // One scratch list per thread: this runs once per output line.
  thread_local std::vector<Member> members;
  members.clear();
  size_t close = 0;
  if (!ScanMembers(raw, &members, &close)) {
    return absl::DataLossError("cannot add fields: the line is not a well-formed JSON object");
  }
  std::vector<std::string> escaped(n);
  for (size_t f = 0; f < n; ++f) {
    AppendJsonString(&escaped[f], fields[f].first);
    escaped[f] = escaped[f].substr(1, escaped[f].size() - 2);
  }
  out->reserve(out->size() + raw.size() + 64);
  uint64_t placed = 0;  // bit f: fields[f] replaced an existing member (n is small)
  size_t pos = 0;
  for (const Member& m : members) {
    for (size_t f = 0; f < n; ++f) {
      if (!(placed >> f & 1) && m.raw_key == escaped[f]) {
        out->append(raw.data() + pos, m.begin - pos);
        out->push_back('"');
        out->append(escaped[f]);
        out->append("\":");
        out->append(fields[f].second);
        pos = m.end;
        placed |= uint64_t{1} << f;
        break;
      }
    }
  }
  out->append(raw.data() + pos, close - pos);
  bool need_comma = !members.empty();
  for (size_t f = 0; f < n; ++f) {
    if (placed >> f & 1) continue;
    if (need_comma) out->push_back(',');
    need_comma = true;
    out->push_back('"');
    out->append(escaped[f]);
    out->append("\":");
    out->append(fields[f].second);
  }
  out->append(raw.data() + close, raw.size() - close);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SetJsonFields(
    std::string_view raw, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<JsonField> views(fields.begin(), fields.end());
  std::string out;
  RETURN_IF_ERROR(AppendJsonWithFields(raw, views.data(), views.size(), &out));
  return out;
}

}  // namespace llmtk
