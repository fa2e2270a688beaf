#include "lib/dedup/passes_internal.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "lib/base/json_writer.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace dedup_pass {
namespace {

// The JSON text of top-level `key` in `raw` ("null" when absent).
std::string IdField(std::string_view raw, const std::string& key) {
  simdjson::padded_string padded(raw.data(), raw.size());
  simdjson::ondemand::document doc;
  if (Parser().iterate(padded).get(doc)) return "null";
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return "null";
  simdjson::ondemand::value val;
  if (obj.find_field_unordered(key).get(val)) return "null";
  simdjson::ondemand::json_type type;
  if (val.type().get(type)) return "null";
  std::string_view s;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object o;
    if (val.get_object().get(o) || o.raw_json().get(s)) return "null";
    return std::string(s);
  }
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array a;
    if (val.get_array().get(a) || a.raw_json().get(s)) return "null";
    return std::string(s);
  }
  s = val.raw_json_token();
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

simdjson::ondemand::parser& Parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

std::string IdOf(const Document& doc, const DedupOptions& o, bool multi) {
  if (!o.id_key.empty()) return IdField(doc.raw, o.id_key);
  if (!multi) return std::to_string(doc.line_number);
  std::string s;
  AppendJsonString(&s, absl::StrCat(*doc.source, ":", doc.line_number));
  return s;
}

// Batches of the texts of the documents d for which want(d).
std::function<absl::StatusOr<bool>(TextBatch*)> Producer(DocumentReader* reader, std::function<bool(uint64_t)> want,
                                                         Progress* progress) {
  return [=](TextBatch* b) -> absl::StatusOr<bool> {
    Document doc;
    size_t size = 0;
    while (b->docs.size() < kBatchDocs && size < kBatchBytes) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      const uint64_t d = doc.index;
      progress->Add(1, doc.raw.size() + 1);
      if (!want(d)) continue;
      b->texts.append(doc.text);
      b->ends.push_back(b->texts.size());
      b->docs.push_back(d);
      size += doc.text.size();
    }
    return !b->docs.empty();
  };
}

// The text DocumentReader took from `raw` when signing (the same walk: the
// first top-level field named key_path[0], then nested lookups); false when
// the line no longer yields one. The text lives in this thread's parser.
bool TextOfLine(std::string_view raw, const std::vector<std::string>& key_path, std::string* padded,
                std::string_view* text) {
  padded->assign(raw);
  padded->append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (Parser().iterate(padded->data(), raw.size(), padded->size()).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    if (key != key_path[0]) continue;
    simdjson::ondemand::value v;
    if (field.value().get(v)) return false;
    for (size_t k = 1; k < key_path.size(); ++k) {
      simdjson::ondemand::object inner;
      if (v.get_object().get(inner) || inner.find_field_unordered(key_path[k]).get(v)) return false;
    }
    return !v.get_string().get(*text);
  }
  return false;
}

// Calls fn(doc, d) for the documents of file f (numbered from first_doc), the
// lines signing took as documents, found by number; a line the reader
// repaired (--invalid-utf8=replace) is repaired the same way.
absl::Status ForEachDocLine(const std::string& file, uint64_t first_doc, const DocLines& lines, size_t f,
                            const std::function<absl::Status(const Document&, uint64_t)>& fn) {
  ASSIGN_OR_RETURN(auto in, OpenInput(file));
  LineReader reader(std::move(in));
  const uint64_t end = first_doc + lines.count[f];
  std::string repaired;
  Document doc;
  doc.source = &reader.name();
  doc.is_json = lines.json[f];
  std::string_view l;
  for (uint64_t d = first_doc; d < end;) {
    ASSIGN_OR_RETURN(bool got, reader.Next(&l));
    if (!got)
      return absl::DataLossError(absl::StrCat("the inputs changed since signing: ", file, " ends at line ",
                                              reader.line_number(), ", before its ", lines.count[f], " documents"));
    if (reader.line_number() != lines.line[d]) continue;
    if (lines.repaired[f] && !simdjson::validate_utf8(l.data(), l.size())) {
      repaired = ReplaceInvalidUtf8(l);
      l = repaired;
    }
    doc.raw = l;
    doc.line_number = reader.line_number();
    doc.index = d;
    RETURN_IF_ERROR(fn(doc, d));
    ++d;
  }
  return absl::OkStatus();
}

bool ShowProgress(const DedupOptions& o) { return o.progress || (!o.quiet && isatty(2)); }

}  // namespace dedup_pass
}  // namespace llmtk
